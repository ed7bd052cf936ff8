"""Quotas: units (generated images) each tenant may still use, per vendor, API path and pool
(say ``trial`` and ``purchased``). Unset counters start at the contract's defaults."""

from __future__ import annotations

from collections.abc import Mapping

Key = tuple[str, str, str, str]  # vendor, tenant, API path, pool


class Quotas:
    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._left: dict[Key, int] = {}

    def left(self, key: Key, defaults: Mapping[str, int]) -> int:
        return self._left.get(key, defaults.get(key[3], 0))

    def take(self, key: Key, units: int, defaults: Mapping[str, int]) -> bool:
        """Use ``units`` if that many are left; False (and nothing used) otherwise."""
        left = self.left(key, defaults)
        if units > left:
            return False
        self.set(key, left - units)
        return True

    def set(self, key: Key, units: int) -> None:
        if key not in self._left and len(self._left) >= self.limit:
            self._left.pop(next(iter(self._left)))
        self._left[key] = max(units, 0)

    def listing(self, tenant: str | None = None) -> list[dict[str, object]]:
        return [
            {"vendor": v, "tenant": t, "api": a, "pool": p, "left": n}
            for (v, t, a, p), n in self._left.items()
            if tenant is None or t == tenant
        ]

    def clear(self, tenant: str | None = None) -> None:
        self._left = {k: n for k, n in self._left.items() if tenant is not None and k[1] != tenant}
