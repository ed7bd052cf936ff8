"""``Bounded``: a mapping that keeps at most so many entries and, when told how to weigh them (key
and value: a key can be a client's long URL), at most so many bytes; the oldest leave first (or the
least recently used, for readers that ``touch``).

Every in-memory structure of the mock that grows with what clients send is one of these, so each
has its bound stated where it is made.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """At most ``entries`` items, and at most ``max_bytes`` of their weight when given:
    ``weigh(key, value)``, about the bytes the item holds.
    ``on_evict`` hears of each item the bounds push out (not of those popped or cleared)."""

    __slots__ = ("_items", "_total", "entries", "max_bytes", "on_evict", "weigh")

    def __init__(
        self,
        entries: int,
        *,
        max_bytes: int | None = None,
        weigh: Callable[[K, V], int] | None = None,
        on_evict: Callable[[K, V], None] | None = None,
    ) -> None:
        if (max_bytes is None) != (weigh is None):
            raise ValueError("a byte bound needs a weight, and a weight a byte bound")
        self.entries = entries
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.on_evict = on_evict
        self._items: OrderedDict[K, V] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    @property
    def total_bytes(self) -> int:
        """The weight of what is kept (0 without a weight)."""
        return self._total

    def get(self, key: K) -> V | None:
        """The value of ``key``, or None."""
        return self._items.get(key)

    def touch(self, key: K) -> V | None:
        """The value of ``key``, or None; a value found becomes the most recently used."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` as the newest item (replacing one of the same key), then evict the
        oldest while a bound is exceeded. A value heavier than the whole byte bound is not kept."""
        items = self._items
        if self.weigh is None:  # the common case, on every request: a count bound alone
            if key in items:
                items.move_to_end(key)
            items[key] = value
            if len(items) > self.entries:
                self._evict()
            return
        self.pop(key)
        weight = self.weigh(key, value)
        if self.max_bytes is not None and weight > self.max_bytes:
            return
        items[key] = value
        self._total += weight
        self._evict()

    def _evict(self) -> None:
        items, weigh = self._items, self.weigh
        while len(items) > self.entries or (self.max_bytes is not None and self._total > self.max_bytes):
            old_key, old = items.popitem(last=False)
            if weigh is not None:
                self._total -= weigh(old_key, old)
            if self.on_evict is not None:
                self.on_evict(old_key, old)

    def pop(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None and self.weigh is not None:
            self._total -= self.weigh(key, value)
        return value

    def oldest(self) -> tuple[K, V] | None:
        """The item next to leave, or None when empty."""
        for key, value in self._items.items():
            return key, value
        return None

    def keys(self) -> list[K]:
        return list(self._items)

    def values(self) -> list[V]:
        return list(self._items.values())

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())

    def drop_where(self, doomed: Callable[[K, V], bool]) -> list[V]:
        """Remove every item ``doomed`` says so of; what was removed, oldest first."""
        gone = [(k, v) for k, v in self._items.items() if doomed(k, v)]
        for key, _ in gone:
            self.pop(key)
        return [v for _, v in gone]

    def clear(self) -> None:
        self._items.clear()
        self._total = 0
