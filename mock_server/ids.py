"""Identifiers drawn from one seeded generator, so a run is reproducible from its seed; and, apart,
capabilities: ids that give access to whoever holds them (an upload's, an upload folder's), drawn
from ``secrets``, never from the seed, so that no one can predict them."""

from __future__ import annotations

import random
import secrets

# version 4 and the RFC 4122 variant, as uuid.UUID(version=4) sets them
VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
VERSION_BITS = (4 << 76) | (0x8000 << 48)


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> str:
        """A random (version 4) UUID in its text form; the same as ``str(uuid.UUID(int=n,
        version=4))`` for the same draw, without building the object (inline: two a submit)."""
        h = ((self._rng.getrandbits(128) & VERSION_MASK) | VERSION_BITS).to_bytes(16).hex()
        return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))

    def hex(self, length: int = 32) -> str:
        return f"{self._rng.getrandbits(length * 4):0{length}x}"

    @staticmethod
    def capability_hex(length: int = 32) -> str:
        """``length`` hex digits no seed can reproduce."""
        return f"{secrets.randbits(length * 4):0{length}x}"

    @staticmethod
    def capability_uuid() -> str:
        """A random (version 4) UUID no seed can reproduce."""
        n = (secrets.randbits(128) & VERSION_MASK) | VERSION_BITS
        return _uuid_text(n)


def _uuid_text(n: int) -> str:
    h = n.to_bytes(16).hex()
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
