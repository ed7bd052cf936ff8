"""Identifiers drawn from one seeded generator, so a run is reproducible from its seed."""

from __future__ import annotations

import random
import uuid


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def hex(self, length: int = 32) -> str:
        return f"{self._rng.getrandbits(length * 4):0{length}x}"

    def token(self, length: int = 24) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._rng.choice(alphabet) for _ in range(length))
