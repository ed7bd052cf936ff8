"""Sliding-window rate limits on the mock clock: at most N calls in any ``per`` seconds."""

from __future__ import annotations

from collections import deque

from mock_server.bounded import Bounded

Key = tuple[str, str, str]  # vendor, tenant, what is limited


class MemoryRates:
    """Windows for at most ``keys`` keys, each remembering at most ``per_key`` calls."""

    def __init__(self, keys: int = 10_000, per_key: int = 1_000) -> None:
        self.per_key = per_key
        self._calls: Bounded[Key, deque[float]] = Bounded(keys)

    async def allow(self, key: Key, now: float, limit: int, per: float) -> bool:
        """Count a call at ``now`` unless ``limit`` calls already fell within the last ``per`` s."""
        calls = self._calls.get(key)
        if calls is None:
            calls = deque(maxlen=self.per_key)
            self._calls.put(key, calls)
        while calls and calls[0] <= now - per:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True

    async def clear(self, tenant: str | None = None) -> None:
        self._calls.drop_where(lambda key, _: tenant is None or key[1] == tenant)
