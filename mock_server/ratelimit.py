"""Sliding-window rate limits on the mock clock: at most N calls in any ``per`` seconds."""

from __future__ import annotations

from collections import deque

Key = tuple[str, str, str]  # vendor, tenant, what is limited


class RateWindows:
    def __init__(self, keys: int = 10_000, per_key: int = 1_000) -> None:
        self.max_keys = keys
        self.per_key = per_key
        self._calls: dict[Key, deque[float]] = {}

    def allow(self, key: Key, now: float, limit: int, per: float) -> bool:
        """Count a call at ``now`` unless ``limit`` calls already fell within the last ``per`` s."""
        calls = self._calls.get(key)
        if calls is None:
            while len(self._calls) >= self.max_keys:
                self._calls.pop(next(iter(self._calls)))
            calls = self._calls[key] = deque(maxlen=self.per_key)
        while calls and calls[0] <= now - per:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True

    def clear(self, tenant: str | None = None) -> None:
        self._calls = {k: v for k, v in self._calls.items() if tenant is not None and k[1] != tenant}
