"""Result recipes: how to draw a result image that is not read off a task (a garment's parsing
and crop), kept per result key, and the secret that signs result links."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from mock_server.bounded import Bounded
from mock_server.store.changes import Changes, Tracker


class Recipe(NamedTuple):
    """How to draw one result image: ``kind`` tryon (base + garments) or parsing/crop of a part."""

    kind: str
    base: str
    garments: tuple[str, ...] = ()
    size: tuple[int, int] | None = None
    label: str = ""
    part: str = ""
    host: str = ""
    tenant: str | None = None  # whose inputs (uploads are per tenant)

    def to_doc(self) -> dict[str, Any]:
        return {
            **self._asdict(),
            "garments": list(self.garments),
            "size": list(self.size) if self.size else None,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Recipe:
        size = doc.get("size")
        return cls(
            **{
                **doc,
                "garments": tuple(doc.get("garments", ())),
                "size": (int(size[0]), int(size[1])) if size else None,
            }
        )


class MemoryRecipes:
    """At most ``entries`` recipes (the oldest dropped first), and the link secret."""

    def __init__(self, entries: int = 50_000, secret: bytes | None = None) -> None:
        self._tracker = Tracker()
        self._recipes: Bounded[str, Recipe] = Bounded(
            entries, on_evict=lambda key, _: self._tracker.drop(key)
        )
        self._secret = secret or secrets.token_bytes(32)

    @property
    def secret(self) -> bytes:
        """The key result links are signed with (constant while the server runs)."""
        return self._secret

    async def add(self, key: str, recipe: Recipe) -> None:
        self._recipes.put(key, recipe)
        self._tracker.mark(key)

    async def get(self, key: str) -> Recipe | None:
        return self._recipes.get(key)

    async def drop(self, key: str) -> None:
        if self._recipes.pop(key) is not None:
            self._tracker.drop(key)

    async def clear(self) -> None:
        for key in self._recipes:
            self._tracker.drop(key)
        self._recipes.clear()

    async def changes(self) -> Changes[Recipe]:
        """The recipes added and the keys gone since the last call; the first call: every recipe
        (and from then on, changes are noted)."""
        return self._tracker.take(self._recipes.keys, self._recipes.get)

    async def restore(self, secret: bytes, recipes: list[tuple[str, Recipe]]) -> None:
        """Put saved recipes back under their saved secret (links handed out stay valid), not as
        changes."""
        self._secret = secret
        for key, recipe in recipes:
            self._recipes.put(key, recipe)
