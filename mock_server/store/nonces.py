"""Request nonces seen per key (an API gateway's AppKey): each is refused again while its request
could still pass the timestamp check, that is until it is older than the window on every clock the
check accepts (the mock's and the wall's).

Nonces are remembered by time, never forgotten early: a nonce dropped to make room could be
replayed. The memory is bounded instead by how many nonces may be live at once, per key and in
all; when a bound is reached, a new nonce is not taken (``take`` answers ``"full"``, which the
gateway answers with its throttling error) until older ones leave the window.

What is kept per nonce is a 60-bit mark of (key, nonce) under the process's randomized string
hash, so a nonce of any length costs the same; nonces leave in buckets of about a second.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

WINDOW = 15 * 60.0  # seconds a nonce is remembered (the gateway's timestamp window)
PER_KEY = 250_000  # live nonces of one key
IN_ALL = 500_000  # live nonces of every key together
SPAN = 1.0  # seconds of every clock one bucket spans at most
BUCKET = 4096  # nonces one bucket holds at most (so that a stopped clock still makes buckets)
MARK_BITS = (1 << 60) - 1  # a mark fits two of an int's 30-bit digits

Clocks = tuple[float, ...]
Taken = Literal["taken", "used", "full"]


class _Bucket:
    """Nonces taken within ``SPAN`` of every clock: they leave together, when the newest of them
    is out of the window on every clock (``due``: the readings past which it is)."""

    __slots__ = ("due", "first", "keys", "marks")

    def __init__(self, clocks: Clocks, window: float) -> None:
        self.first = clocks
        self.due = [t + window for t in clocks]
        self.marks: list[int] = []
        self.keys: dict[str, int] = {}

    def holds(self, clocks: Clocks) -> bool:
        """Whether a nonce taken at ``clocks`` may join (no clock moved a span, or back)."""
        if len(self.marks) >= BUCKET:
            return False
        return all(0.0 <= now - first < SPAN for first, now in zip(self.first, clocks, strict=True))

    def add(self, key: str, mark: int, clocks: Clocks, window: float) -> None:
        self.marks.append(mark)
        keys = self.keys
        keys[key] = keys.get(key, 0) + 1
        due = self.due
        for i, now in enumerate(clocks):
            due[i] = max(due[i], now + window)

    def gone(self, now: Clocks) -> bool:
        """Whether every clock is past the window of the newest nonce here."""
        return all(reading > due for due, reading in zip(self.due, now, strict=True))


class MemoryNonces:
    """At most ``per_key`` live nonces of one key and ``in_all`` of every key; each live until
    ``window`` seconds passed on every clock since it was taken."""

    def __init__(self, per_key: int = PER_KEY, in_all: int = IN_ALL, window: float = WINDOW) -> None:
        self.per_key = per_key
        self.in_all = in_all
        self.window = window
        self._marks: set[int] = set()
        self._buckets: deque[_Bucket] = deque()
        self._live: dict[str, int] = {}  # key -> its live nonces

    async def seen(self, key: str, nonce: str, clocks: Clocks) -> bool:
        """Whether ``nonce`` was taken for ``key`` within the window."""
        self._expire(clocks)
        return hash((key, nonce)) & MARK_BITS in self._marks

    async def take(self, key: str, nonce: str, clocks: Clocks) -> Taken:
        """Remember ``nonce`` for ``key``: ``"used"`` if it was taken already (by a request that
        got in first), ``"full"`` if a bound leaves no room for it (nothing is remembered), else
        ``"taken"``."""
        self._expire(clocks)
        mark = hash((key, nonce)) & MARK_BITS
        if mark in self._marks:
            return "used"
        live = self._live.get(key, 0)
        if live >= self.per_key or len(self._marks) >= self.in_all:
            return "full"
        self._marks.add(mark)
        self._live[key] = live + 1
        buckets = self._buckets
        if not buckets or not buckets[-1].holds(clocks):
            buckets.append(_Bucket(clocks, self.window))
        buckets[-1].add(key, mark, clocks, self.window)
        return "taken"

    def _expire(self, now: Clocks) -> None:
        """Forget the buckets whose newest nonce is out of the window on every clock (oldest
        first; a bucket a clock set back made keeps those behind it until it leaves)."""
        buckets = self._buckets
        while buckets and buckets[0].gone(now):
            bucket = buckets.popleft()
            self._marks.difference_update(bucket.marks)
            live = self._live
            for key, count in bucket.keys.items():
                left = live[key] - count
                if left:
                    live[key] = left
                else:
                    del live[key]
