"""Everything one mock server holds, and the vendor-neutral services built on it:
checking a request's images, planning tasks, and drawing result images."""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio

import contracts
from contracts.model import Contract, ErrorCode, Operation, resolve_pointer
from mock_server import assets, images, render
from mock_server.clock import Clock
from mock_server.credentials import Credentials
from mock_server.faults import FaultBook
from mock_server.fetch import Fetcher
from mock_server.ids import IdSource
from mock_server.journal import Journal
from mock_server.quota import Quotas
from mock_server.ratelimit import RateWindows
from mock_server.results import Recipe, Results, result_key, result_of
from mock_server.settings import Settings, SettingsError
from mock_server.tasks import Plan, Task, TaskStore
from mock_server.timing import Timing
from mock_server.uploads import PREFIX as UPLOADS
from mock_server.uploads import Uploads

FACTS_CACHE = 512
CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")  # Chinese characters and punctuation


@dataclass(frozen=True)
class ImageCheck:
    """The outcome of reading a request's images: the first error, and what each one was."""

    error: ErrorCode | None
    facts: Mapping[str, images.ImageFacts]


class MockState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        names = settings.vendors or contracts.vendor_names()
        self.contracts: dict[str, Contract] = {n: contracts.load(n) for n in names}
        self.clock = Clock(speed=settings.speed)
        self.ids = IdSource(settings.seed)
        self.tasks = TaskStore(per_tenant=settings.tasks_per_tenant, on_forget=self._drop_results)
        self.faults = FaultBook(seed=settings.seed)
        self.journal = Journal(per_tenant=settings.journal_per_tenant)
        self.credentials = Credentials(self.contracts)
        self.uploads = Uploads()
        self.quotas = Quotas()
        self.rates = RateWindows()
        self.results = Results(secret=secrets.token_bytes(32))
        self.fetcher = Fetcher(settings.remote_images, timeout=settings.fetch_timeout)
        self.timing: Timing = settings.timing
        self.tenant_timing: dict[str, Timing] = {}
        self._facts: OrderedDict[tuple[str | None, str], images.ImageFacts] = OrderedDict()
        self._checks: dict[tuple[Any, ...], ImageCheck] = {}  # verdicts on cached facts only
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self.fetcher.mount("/_mock/assets/", self._asset)
        self.fetcher.mount(UPLOADS, self._upload, private=True)
        self.fetcher.mount("/_mock/results/", self._result)
        self._check_options()
        self.load_credentials()

    def _check_options(self) -> None:
        for vendor, values in self.settings.options.items():
            contract = self.contracts.get(vendor)
            if contract is None:
                raise SettingsError(f"option for unknown vendor {vendor!r}")
            for name, value in values.items():
                option = contract.options.get(name)
                if option is None or value not in option.choices:
                    known = {o.name: o.choices for o in contract.options.values()}
                    raise SettingsError(f"{vendor}.{name}={value!r} is not one of {known}")

    # -- credentials and tenants -------------------------------------------------------------

    def load_credentials(self) -> None:
        if self.settings.default_credentials:
            self.credentials.add_defaults()
        self.credentials.load(self.settings.credentials)

    def timing_for(self, tenant: str | None) -> Timing:
        return self.tenant_timing.get(tenant or "", self.timing)

    def retention(self, contract: Contract, tenant: str | None) -> float:
        return self.timing_for(tenant).retention_seconds or contract.retention_seconds

    def result_ttl(self, contract: Contract, tenant: str | None) -> float:
        return self.timing_for(tenant).result_ttl_seconds or contract.result_ttl_seconds

    def option(self, contract: Contract, name: str) -> str:
        return contract.option(name, self.settings.options.get(contract.name, {}))

    def reset(self, tenant: str | None = None) -> None:
        """Forget tasks, journal, fault rules and timing of one tenant, or of all."""
        self.tasks.clear(tenant)
        self.journal.clear(tenant)
        self.faults.clear(tenant)
        self.uploads.clear(tenant)
        self.quotas.clear(tenant)
        self.rates.clear(tenant)
        if tenant is None:
            self.tenant_timing.clear()
            self.timing = self.settings.timing
            self.results.clear()
        else:
            self.tenant_timing.pop(tenant, None)

    # -- images ------------------------------------------------------------------------------

    async def check_images(
        self, contract: Contract, operation: Operation, doc: Any, own_host: str, tenant: str | None
    ) -> ImageCheck:
        """The first image error of a request, if any. The verdict for the same URLs (and tenant:
        an upload's URL reads only its owner's file) is kept when every image in it was a cached
        fact (the same bytes give the same verdict)."""
        urls = tuple([resolve_pointer(doc, item.pointer) for item in operation.images])
        if any(u is not None and type(u) is not str for u in urls):
            return await self._check_images(contract, operation, doc, own_host, tenant)
        key = (contract.name, operation.name, urls, own_host, tenant)
        kept = self._checks.get(key)
        if kept is not None:
            return kept
        checked = await self._check_images(contract, operation, doc, own_host, tenant)
        if all(self._facts_key(u, tenant) in self._facts for u in urls if u):
            self._checks[key] = checked
            while len(self._checks) > FACTS_CACHE:
                self._checks.pop(next(iter(self._checks)))
        return checked

    def _facts_key(self, url: str, tenant: str | None) -> tuple[str | None, str]:
        """Where an image's facts are cached: by URL (an upload's per tenant too: only its owner
        reads it)."""
        return (tenant if self.fetcher.private(url) else None, url)

    async def _check_images(
        self, contract: Contract, operation: Operation, doc: Any, own_host: str, tenant: str | None
    ) -> ImageCheck:
        facts: dict[str, images.ImageFacts] = {}
        for item in operation.images:
            url = resolve_pointer(doc, item.pointer)
            if not isinstance(url, str) or not url:
                continue
            if item.limits.ascii_url and CJK.search(url):
                return ImageCheck(contract.trigger("image.url"), facts)
            found, failure = await self.facts(url, item.role, own_host, tenant)
            if found is None:
                return ImageCheck(contract.trigger(f"image.{failure}"), facts)
            kind = images.check(found, item.limits, item.persons)
            if kind is not None:
                return ImageCheck(contract.trigger(f"image.{kind}"), facts)
            facts[item.pointer] = found
        for group in operation.same_size:
            sizes = {(facts[p].width, facts[p].height) for p in group if p in facts}
            if len(sizes) > 1:
                return ImageCheck(contract.trigger("image.size_mismatch"), facts)
        return ImageCheck(None, facts)

    async def facts(
        self, url: str, role: str, own_host: str, tenant: str | None
    ) -> tuple[images.ImageFacts | None, str]:
        """What an image shows, cached per URL (an upload's per tenant too: only its owner reads it)."""
        key = self._facts_key(url, tenant)
        cached = self._facts.get(key)
        if cached is not None:
            self._facts.move_to_end(key)
            return cached, ""
        fetched = await self.fetcher.get(url, role, own_host, tenant)
        if fetched.data is None:
            return None, fetched.failure or "unreachable"
        found = await anyio.to_thread.run_sync(images.inspect, fetched.data)
        if fetched.cacheable:
            self._facts[key] = found
            while len(self._facts) > FACTS_CACHE:
                self._facts.popitem(last=False)
        return found, ""

    async def image_bytes(self, url: str, role: str, own_host: str, tenant: str | None) -> bytes | None:
        return (await self.fetcher.get(url, role, own_host, tenant)).data

    # -- tasks -------------------------------------------------------------------------------

    def new_task(
        self,
        contract: Contract,
        operation: Operation,
        *,
        task_id: str,
        tenant: str,
        doc: Any,
        own_host: str,
        error: ErrorCode | None = None,
        pending: Mapping[str, ErrorCode] | None = None,
        group: str | None = None,
        position: int = 0,
        results: int | None = None,
    ) -> Task:
        """Plan and store a task (its result images are drawn from it: see ``recipe``).

        ``group`` and ``position`` place it in a batch: each later item starts the operation's
        ``stagger_seconds`` later. ``results`` overrides the operation's number of results.
        """
        plan = self._plan(
            contract, operation, self.timing_for(tenant), error, position * operation.stagger_seconds
        )
        count = results or operation.results
        urls = {i.pointer: resolve_pointer(doc, i.pointer) for i in operation.images}
        roles: dict[str, list[str]] = {}
        for item in operation.images:
            url = urls[item.pointer]
            if isinstance(url, str) and url:
                roles.setdefault(item.role, []).append(url)
        size = self._result_size(operation, doc)
        task = Task(
            id=task_id,
            tenant=tenant,
            vendor=contract.name,
            operation=operation.name,
            created=self.clock.now(),
            plan=plan,
            lifecycle=contract.lifecycle,
            inputs={role: tuple(found) for role, found in roles.items()},  # tuples of text: not GC-tracked
            results=count,
            group=group,
            result_size=size,
            pending_faults=dict(pending or {}),
            host=own_host,
        )
        return self.tasks.add(task)

    def _plan(
        self, contract: Contract, operation: Operation, timing: Timing, error: ErrorCode | None, delay: float
    ) -> Plan:
        """A task's timeline; the same inputs give the same plan, so plans are shared."""
        key = (contract.name, operation.name, timing, error.id if error else None, delay)
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan.make(contract.lifecycle, operation, timing, error, delay=delay)
            self._plans[key] = plan
            while len(self._plans) > FACTS_CACHE:
                self._plans.pop(next(iter(self._plans)))
        return plan

    def recipe(self, key: str) -> Recipe | None:
        """How to draw a result image: a kept recipe (parsing, crops), else the try-on of the task
        the key names (its inputs, size and id), while the task is kept."""
        kept = self.results.recipe(key)
        if kept is not None:
            return kept
        named = result_of(key)
        task = self.tasks.find(named[0]) if named else None
        if task is None or named is None or named[1] >= task.results:
            return None
        index = named[1]
        roles = task.inputs
        base = (roles.get("coarse") or roles.get("person") or roles.get("image") or [""])[0]
        return Recipe(
            kind="tryon",
            base=base,
            garments=tuple(roles.get("garment", ())),
            size=task.result_size,
            label=task.id if task.results == 1 else f"{task.id} #{index + 1}",
            host=task.host,
            tenant=task.tenant,
        )

    def _drop_results(self, task: Task) -> None:
        """A task left the store: the images drawn for it go with it."""
        for key in self.result_keys(task):
            self.results.drop(key)

    def new_batch(
        self,
        contract: Contract,
        operation: Operation,
        items: Sequence[Any],
        *,
        batch_id: str,
        tenant: str,
        own_host: str,
        counts: Sequence[int],
        failure: ErrorCode | None = None,
        failing: int = 0,
        pending: Mapping[str, ErrorCode] | None = None,
    ) -> list[Task]:
        """One task per item of a batch, ids ``<batch_id>-<i>``, each starting the operation's
        ``stagger_seconds`` after the one before. A task failure hits item ``failing``; faults
        left for later reads of the batch ride on its first task."""
        return [
            self.new_task(
                contract,
                operation,
                task_id=f"{batch_id}-{i}",
                tenant=tenant,
                doc=item,
                own_host=own_host,
                error=failure if i == failing else None,
                pending=pending if i == 0 else None,
                group=batch_id,
                position=i,
                results=count,
            )
            for i, (item, count) in enumerate(zip(items, counts, strict=True))
        ]

    def result_urls(self, task: Task, base_url: str, contract: Contract) -> list[str]:
        ended = task.view(self.clock.now()).ended or self.clock.now()
        expires = ended + self.result_ttl(contract, task.tenant)
        return [self.results.url(base_url, key, expires) for key in self.result_keys(task)]

    @staticmethod
    def result_keys(task: Task) -> list[str]:
        return [result_key(task.id, i) for i in range(task.results)]

    @staticmethod
    def _result_size(operation: Operation, doc: Any) -> tuple[int, int] | None:
        if operation.result_size_pointer is None:
            return None
        value = resolve_pointer(doc, operation.result_size_pointer)
        key = "-1" if value is None else str(value)
        return operation.result_sizes.get(key)

    # -- result images -------------------------------------------------------------------------

    async def draw(self, key: str) -> bytes | None:
        """The PNG of a result key, rendered once and kept in a bounded cache."""
        cached = self.results.cached(key)
        if cached is not None:
            return cached
        recipe = self.recipe(key)
        if recipe is None:
            return None
        base = await self.image_bytes(recipe.base, "person", recipe.host, recipe.tenant) or b""
        if recipe.kind == "tryon":
            garments = [
                await self.image_bytes(g, "garment", recipe.host, recipe.tenant) or b""
                for g in recipe.garments
            ]
            data = await anyio.to_thread.run_sync(
                render.render_tryon, base, garments, recipe.size, recipe.label
            )
        else:
            parsing, crop, _ = await anyio.to_thread.run_sync(render.render_parsing, base, recipe.part)
            data = parsing if recipe.kind == "parsing" else crop
        self.results.keep(key, data)
        return data

    async def parse(
        self, url: str, part: str, host: str, tenant: str | None, keys: tuple[str, str]
    ) -> tuple[int, ...]:
        """Segment one garment part now (a synchronous vendor call); keep both images."""
        data = await self.image_bytes(url, "image", host, tenant) or b""
        parsing, crop, box = await anyio.to_thread.run_sync(render.render_parsing, data, part)
        self.results.keep(keys[0], parsing)
        self.results.keep(keys[1], crop)
        return tuple(box)

    async def _asset(self, name: str, query: str, tenant: str | None) -> bytes | None:
        if name not in assets.ASSETS:
            return None
        return await anyio.to_thread.run_sync(assets.asset_bytes, name)

    async def _upload(self, name: str, query: str, tenant: str | None) -> bytes | None:
        """An upload, for the tenant that made it (one made through the admin API, for anyone)."""
        upload = self.uploads.get(name.split(".", 1)[0])
        return upload.data if upload and upload.tenant in (None, tenant) else None

    async def _result(self, name: str, query: str, tenant: str | None) -> bytes | None:
        """A result link on this mock, honoured only while its signature and expiry hold."""
        key = name.removesuffix(".png")
        params = dict(parse_qsl(query))
        if self.link_problem(key, params) is not None:
            return None
        return await self.draw(key)

    def link_problem(self, key: str, params: Mapping[str, str]) -> str | None:
        """Why a result link does not work now ("signature" or "expired"), or None."""
        expires = params.get("Expires", "")
        if not self.results.verify(key, expires, params.get("Signature", "")):
            return "signature"
        return "expired" if int(expires) < self.clock.now() else None
