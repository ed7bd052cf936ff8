"""Quotas: units (generated images) each tenant may still use, per vendor, API path and pool
(say ``trial`` and ``purchased``). Unset counters start at the contract's defaults."""

from __future__ import annotations

from collections.abc import Mapping

from mock_server.bounded import Bounded

Key = tuple[str, str, str, str]  # vendor, tenant, API path, pool


class MemoryQuotas:
    """At most ``limit`` counters (the oldest set dropped first: it starts over at its default)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._left: Bounded[Key, int] = Bounded(limit)

    async def left(self, key: Key, defaults: Mapping[str, int]) -> int:
        return self._units(key, defaults)

    async def take(self, key: Key, units: int, defaults: Mapping[str, int]) -> bool:
        """Use ``units`` if that many are left; False (and nothing used) otherwise."""
        left = self._units(key, defaults)
        if units > left:
            return False
        self._left.put(key, left - units)
        return True

    async def set(self, key: Key, units: int) -> None:
        self._left.put(key, max(units, 0))

    async def listing(self, tenant: str | None = None) -> list[dict[str, object]]:
        return [
            {"vendor": v, "tenant": t, "api": a, "pool": p, "left": n}
            for (v, t, a, p), n in self._left.items()
            if tenant is None or t == tenant
        ]

    async def clear(self, tenant: str | None = None) -> None:
        self._left.drop_where(lambda key, _: tenant is None or key[1] == tenant)

    def _units(self, key: Key, defaults: Mapping[str, int]) -> int:
        found = self._left.get(key)
        return found if found is not None else defaults.get(key[3], 0)
