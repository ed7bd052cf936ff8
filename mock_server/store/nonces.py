"""Request nonces seen per key (an API gateway's AppKey): each is accepted once while its request
could still pass the timestamp check, that is until it is older than the window on every clock the
check accepts (the mock's and the wall's)."""

from __future__ import annotations

from mock_server.bounded import Bounded

WINDOW = 15 * 60.0  # seconds a nonce is remembered (the gateway's timestamp window)
Clocks = tuple[float, ...]


class MemoryNonces:
    """At most ``per_key`` nonces for each of at most ``keys`` keys (the oldest dropped first)."""

    def __init__(self, per_key: int = 100_000, keys: int = 10_000, window: float = WINDOW) -> None:
        self.per_key = per_key
        self.window = window
        self._seen: Bounded[str, Bounded[str, Clocks]] = Bounded(keys)

    async def seen(self, key: str, nonce: str, clocks: Clocks) -> bool:
        """Whether ``nonce`` was taken for ``key`` within the window."""
        seen = self._seen.get(key)
        if seen is None:
            return False
        self._drop_stale(seen, clocks)
        return nonce in seen

    async def take(self, key: str, nonce: str, clocks: Clocks) -> bool:
        """Remember ``nonce`` for ``key``; False if it was taken already (by a request that got
        in first), True if this request took it."""
        seen = self._seen.get(key)
        if seen is None:
            seen = Bounded(self.per_key)
            self._seen.put(key, seen)
        self._drop_stale(seen, clocks)
        if nonce in seen:
            return False
        seen.put(nonce, clocks)
        return True

    def _drop_stale(self, seen: Bounded[str, Clocks], now: Clocks) -> None:
        oldest = seen.oldest()
        while oldest is not None and all(n - t > self.window for t, n in zip(oldest[1], now, strict=True)):
            seen.pop(oldest[0])
            oldest = seen.oldest()
