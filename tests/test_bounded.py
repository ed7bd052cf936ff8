"""``Bounded``, the one helper behind every bounded in-memory structure of the mock: it keeps at
most so many entries and bytes, evicts the oldest first (or the least recently read, for readers
that touch), and tells who evicted what."""

from __future__ import annotations

import pytest

from mock_server.bounded import Bounded


def test_an_entry_bound_evicts_the_oldest_and_says_so() -> None:
    evicted: list[tuple[str, int]] = []
    kept: Bounded[str, int] = Bounded(3, on_evict=lambda k, v: evicted.append((k, v)))
    for i, key in enumerate("abcde"):
        kept.put(key, i)
    assert kept.keys() == ["c", "d", "e"] and evicted == [("a", 0), ("b", 1)]
    kept.put("c", 9)  # a key put again is the newest
    kept.put("f", 5)
    assert kept.keys() == ["e", "c", "f"] and evicted[-1] == ("d", 3)
    assert kept.pop("c") == 9 and evicted[-1] == ("d", 3), "a pop is no eviction"


def test_a_byte_bound_counts_weights_and_keeps_nothing_heavier_than_itself() -> None:
    kept: Bounded[str, bytes] = Bounded(100, max_bytes=10, weigh=lambda _, value: len(value))
    kept.put("a", b"1234")
    kept.put("b", b"1234")
    kept.put("c", b"1234")
    assert kept.keys() == ["b", "c"] and kept.total_bytes == 8
    kept.put("huge", b"x" * 11)
    assert "huge" not in kept and kept.total_bytes == 8
    kept.put("b", b"1")
    assert kept.total_bytes == 5
    kept.drop_where(lambda key, _: key == "c")
    assert kept.keys() == ["b"] and kept.total_bytes == 1
    kept.clear()
    assert len(kept) == 0 and kept.total_bytes == 0


def test_a_touched_entry_outlives_older_untouched_ones() -> None:
    kept: Bounded[str, int] = Bounded(2)
    kept.put("old", 1)
    kept.put("new", 2)
    assert kept.touch("old") == 1
    kept.put("newest", 3)
    assert kept.keys() == ["old", "newest"] and kept.oldest() == ("old", 1)


def test_a_byte_bound_needs_a_weight() -> None:
    with pytest.raises(ValueError, match="weight"):
        Bounded(1, max_bytes=10)
