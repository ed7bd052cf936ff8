"""What changed in a part of the store since it was last asked: the seam that lets the state file
write only what changed, so the cost of keeping it current follows the change, not the state.

A part keeps a ``Tracker`` and marks a key on each change (a dict store, the only work a request
pays); ``Tracker.take`` hands the marks over and starts afresh. A tracker is off until its first
take, which returns everything: a store nobody saves keeps no marks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class Changes(Generic[V]):
    """Values to keep by key, in the order they were first changed, and keys gone (no key is in
    both)."""

    put: dict[str, V] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.put or self.gone)

    def then(self, later: Changes[V]) -> None:
        """Fold ``later`` changes into these (a write that failed is tried again with the next)."""
        for key in later.gone:
            self.put.pop(key, None)
        self.gone -= later.put.keys()
        self.gone |= later.gone
        self.put.update(later.put)


class Tracker:
    """The keys of one part changed and gone since the last take; off until the first take."""

    __slots__ = ("_changed", "_gone")

    def __init__(self) -> None:
        self._changed: dict[str, None] | None = None
        self._gone: set[str] = set()

    def mark(self, key: str) -> None:
        """``key`` was added or changed."""
        if self._changed is not None:
            self._changed[key] = None

    def unmark(self, key: str) -> None:
        """``key`` is as it was saved (put back from the file): nothing to note."""
        if self._changed is not None:
            self._changed.pop(key, None)

    def drop(self, key: str) -> None:
        """``key`` left the part."""
        if self._changed is not None:
            self._gone.add(key)

    def take(self, everything: Callable[[], Iterable[str]], value: Callable[[str], V | None]) -> Changes[V]:
        """The changes since the last take, each key's ``value`` read now (None: it is gone);
        the first take turns tracking on and returns ``everything``."""
        if self._changed is None:
            changed: Iterable[str] = everything()
        else:
            changed = self._changed
        self._changed, gone, self._gone = {}, self._gone, set()
        put: dict[str, V] = {}
        for key in changed:
            now = value(key)
            if now is None:
                gone.add(key)
            else:
                put[key] = now
        gone -= put.keys()
        return Changes(put, gone)
