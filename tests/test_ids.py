"""Identifiers: seeded, and exactly what the uuid module makes of the same draws."""

from __future__ import annotations

import random
import uuid

from mock_server.ids import IdSource


def test_uuid_text_is_the_uuid_modules_version_4_for_the_same_draw() -> None:
    ours, reference = IdSource(seed=7), random.Random(7)
    for _ in range(2000):
        made = ours.uuid()
        assert made == str(uuid.UUID(int=reference.getrandbits(128), version=4))
        assert uuid.UUID(made).version == 4 and uuid.UUID(made).variant == uuid.RFC_4122


def test_the_same_seed_gives_the_same_ids() -> None:
    assert [IdSource(3).uuid() for _ in range(2)] == [IdSource(3).uuid()] * 2
    first, second = IdSource(3), IdSource(3)
    assert [first.uuid() for _ in range(5)] == [second.uuid() for _ in range(5)]
