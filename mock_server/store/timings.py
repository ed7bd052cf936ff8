"""Timing profiles: the server-wide one, and each tenant's own where one was set."""

from __future__ import annotations

from mock_server.bounded import Bounded
from mock_server.timing import Timing


class MemoryTimings:
    """The server-wide profile starts as ``default``; at most ``tenants`` tenants have their own."""

    def __init__(self, default: Timing, tenants: int = 10_000) -> None:
        self._default = default
        self._server = default
        self._tenants: Bounded[str, Timing] = Bounded(tenants)

    async def get(self, tenant: str | None) -> Timing:
        """The tenant's profile, else the server-wide one."""
        own = self._tenants.get(tenant) if tenant else None
        return own if own is not None else self._server

    async def set(self, tenant: str | None, timing: Timing) -> None:
        """Set one tenant's profile, or (``None``) the server-wide one."""
        if tenant:
            self._tenants.put(tenant, timing)
        else:
            self._server = timing

    async def clear(self, tenant: str | None = None) -> None:
        """Forget one tenant's profile, or every tenant's and the server-wide one's changes."""
        if tenant is None:
            self._tenants.clear()
            self._server = self._default
        else:
            self._tenants.pop(tenant)
