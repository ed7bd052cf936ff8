"""The nonce memory behind the API gateway's signatures, on clocks the test sets (the wall clock
cannot be moved through HTTP; tests/aliyun_gateway/test_nonce_memory.py has the gateway's side):
a nonce is remembered until the window passed on every clock, never forgotten to make room, and a
bound reached refuses new nonces until old ones leave."""

from __future__ import annotations

import asyncio

from mock_server.store.nonces import BUCKET, WINDOW, MemoryNonces


def test_past_a_bound_nothing_is_forgotten_until_the_window_passed_on_every_clock() -> None:
    """Per key, then in all: "full" for a new nonce, "used" for every live one (with either clock
    still in its window), and room again once the first nonces left the window on both."""

    async def check() -> None:
        nonces = MemoryNonces(per_key=3, in_all=5)
        for i in range(3):
            assert await nonces.take("a", f"a{i}", (float(i), float(i))) == "taken"
        assert await nonces.take("a", "a3", (3.0, 3.0)) == "full"
        assert await nonces.take("b", "b0", (3.0, 3.0)) == "taken"
        assert await nonces.take("b", "b1", (4.0, 4.0)) == "taken"
        assert await nonces.take("c", "c0", (4.0, 4.0)) == "full", "five live in all"
        for clocks in ((WINDOW, WINDOW), (WINDOW + 2, 0.5), (0.5, WINDOW + 2), (10 * WINDOW, 1.0)):
            for key, nonce in (("a", "a0"), ("a", "a1"), ("a", "a2"), ("b", "b0"), ("b", "b1")):
                assert await nonces.seen(key, nonce, clocks), (nonce, clocks)
                assert await nonces.take(key, nonce, clocks) == "used", (nonce, clocks)
            assert await nonces.take("c", "c0", clocks) == "full"
        later = (WINDOW + 1.5, WINDOW + 1.5)  # a0 and a1 (taken at 0 and 1) have left
        assert not await nonces.seen("a", "a0", later) and await nonces.seen("a", "a2", later)
        assert not await nonces.seen("c", "a2", later), "a nonce is its key's"
        assert await nonces.take("c", "c0", later) == "taken"
        assert await nonces.take("a", "a3", later) == "taken"
        assert await nonces.take("a", "a4", later) == "full", "a2, a3, c0 and b's: five"

    asyncio.run(check())


def test_clocks_set_back_or_stopped_forget_nothing_early() -> None:
    """A clock set back starts a new bucket but forgets nothing; a stopped clock (the manual
    clock) fills buckets of ``BUCKET`` nonces, forgotten once every clock passed them; and the
    bound holds throughout."""

    async def check() -> None:
        nonces = MemoryNonces(per_key=2 * BUCKET + 2, in_all=10 * BUCKET)
        assert await nonces.take("k", "late", (5000.0, 0.0)) == "taken"
        assert await nonces.take("k", "early", (10.0, 1.0)) == "taken"  # the mock clock set back
        assert await nonces.seen("k", "late", (10.0 + WINDOW, 1.0 + WINDOW))
        assert await nonces.seen("k", "early", (4000.0, 2.0 + WINDOW)), "out, but behind 'late'"
        for i in range(2 * BUCKET):  # both clocks stopped
            assert await nonces.take("k", f"s{i}", (6000.0, 2.0)) == "taken"
        assert await nonces.take("k", "one-more", (6000.0, 2.0)) == "full"
        assert await nonces.seen("k", "s0", (6000.0, 3.0 + WINDOW)), "the mock clock is in the window"
        gone = (6001.0 + WINDOW, 3.0 + WINDOW)
        assert not await nonces.seen("k", "s0", gone) and not await nonces.seen("k", "late", gone)
        assert await nonces.take("k", "s0", gone) == "taken"

    asyncio.run(check())
