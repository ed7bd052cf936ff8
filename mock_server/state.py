"""``MockState``: everything one mock server holds, as a container of narrow parts.

- ``store``: every mutable piece of state, behind the store's interfaces (``mock_server.store``);
- ``clock``: mock time;
- per-process services over them: ``images`` (checks a request's images, with its caches),
  ``results`` (result links and images), ``planner`` (makes tasks), ``ids`` and ``fetcher``.

Nothing outside a part changes its insides: callers use the parts' methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio

import contracts
from contracts.model import Contract
from mock_server import assets
from mock_server.clock import Clock
from mock_server.fetch import Fetcher, Internal
from mock_server.ids import IdSource
from mock_server.image_checks import ImageChecker
from mock_server.results import PREFIX as RESULTS
from mock_server.results import ResultImages
from mock_server.settings import Settings, SettingsError
from mock_server.store import Store, memory
from mock_server.store.uploads import PREFIX as UPLOADS
from mock_server.tasks import Planner, Task
from mock_server.timing import Timing

ASSETS = "/_mock/assets/"


class MockState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        names = settings.vendors or contracts.vendor_names()
        self.contracts: Mapping[str, Contract] = {n: contracts.load(n) for n in names}
        _check_options(settings, self.contracts)
        # the vendors whose documented rate and concurrency limits are on (settings are fixed)
        self.limited = frozenset(
            n for n, c in self.contracts.items() if c.limits_on(settings.options.get(n, {}))
        )
        self.clock = Clock(speed=settings.speed)
        self.ids = IdSource(settings.seed)
        self.planner = Planner()
        self.fetcher = Fetcher(settings.remote_images, timeout=settings.fetch_timeout)
        self.store: Store = memory(
            self.contracts,
            timing=settings.timing,
            seed=settings.seed,
            tasks_per_tenant=settings.tasks_per_tenant,
            journal_per_tenant=settings.journal_per_tenant,
            nonces_per_key=settings.nonces_per_key,
            nonces_in_all=settings.nonces_in_all,
            on_forget=self._forget,
        )
        self.images = ImageChecker(self.fetcher)
        self.results = ResultImages(
            self.store.recipes, self.store.tasks, self.fetcher, self.clock, lambda: self.images.decodes
        )
        self.fetcher.mount(ASSETS, _asset)
        self.fetcher.mount(UPLOADS, self._upload, private=True)
        self.fetcher.mount(RESULTS, self.results.served)
        for contract in self.contracts.values():
            if contract.object_urls is not None:
                scheme = contract.object_urls.scheme
                self.fetcher.mount_scheme(scheme, self._stored(scheme))

    # -- settings read per vendor and tenant ---------------------------------------------------

    def option(self, contract: Contract, name: str) -> str:
        return contract.option(name, self.settings.options.get(contract.name, {}))

    async def timing(self, tenant: str | None) -> Timing:
        return await self.store.timings.get(tenant)

    async def set_timing(self, tenant: str | None, changes: Mapping[str, Any], fresh: bool = False) -> Timing:
        """Change one tenant's timing profile (or, ``None``, the server-wide one) by ``changes``,
        from the profile it has now, or (``fresh``) from the configured one: the one way timing is
        set, by the admin API and scenarios alike. ValueError for a change that does not fit."""
        base = self.settings.timing if fresh else await self.timing(tenant)
        updated = base.merged(dict(changes))
        await self.store.timings.set(tenant, updated)
        return updated

    async def retention(self, contract: Contract, tenant: str) -> float:
        """How long the tenant's tasks of this vendor stay readable after they end."""
        return (await self.store.timings.get(tenant)).retention(contract.retention_seconds)

    async def result_ttl(self, contract: Contract, tenant: str) -> float:
        """How long the tenant's result links of this vendor work."""
        return (await self.store.timings.get(tenant)).result_ttl(contract.result_ttl_seconds)

    async def reset(self, tenant: str | None = None) -> None:
        """Forget one tenant's tasks, journal, fault rules, uploads, quotas and timing, and what
        the image caches keep for it; or all of it, and every per-process cache."""
        await self.store.reset(tenant)
        self.images.clear(tenant)
        if tenant is None:
            self.results.clear()
            self.fetcher.clear()

    # -- internal image sources ----------------------------------------------------------------

    def _forget(self, task: Task) -> None:
        self.results.forget(task)

    def _stored(self, scheme: str) -> Internal:
        """The files of a vendor's own storage: each for the tenant that uploaded it, until it
        expires on the mock clock."""

        async def read(key: str, query: str, tenant: str | None) -> bytes | None:
            upload = await self.store.uploads.get(f"{scheme}://{key}")
            if upload is None or upload.tenant is None or upload.tenant != tenant:
                return None
            if upload.expires is not None and self.clock.now() >= upload.expires:
                return None
            return upload.data

        return read

    async def _upload(self, name: str, query: str, tenant: str | None) -> bytes | None:
        """An upload, for the tenant that made it (one made through the admin API, for anyone)."""
        upload = await self.store.uploads.get(name.split(".", 1)[0])
        return upload.data if upload and upload.tenant in (None, tenant) else None


async def _asset(name: str, query: str, tenant: str | None) -> bytes | None:
    if name not in assets.ASSETS:
        return None
    return await anyio.to_thread.run_sync(assets.asset_bytes, name)


def _check_options(settings: Settings, served: Mapping[str, Contract]) -> None:
    """Every option names a served vendor, one of its options and one of that option's values;
    SettingsError saying which, with the valid ones."""
    for vendor, values in settings.options.items():
        contract = served.get(vendor)
        if contract is None:
            raise SettingsError(
                f"option {vendor}.{next(iter(values), 'NAME')}: no vendor {vendor!r} is served; "
                f"the vendors are {', '.join(sorted(served))}"
            )
        for name, value in values.items():
            option = contract.options.get(name)
            if option is None:
                known = ", ".join(f"{o.name} ({'|'.join(o.choices)})" for o in contract.options.values())
                raise SettingsError(f"option {vendor}.{name}: {vendor}'s options are {known}")
            if value not in option.choices:
                raise SettingsError(
                    f"option {vendor}.{name}={value}: the value must be one of {', '.join(option.choices)}"
                )
