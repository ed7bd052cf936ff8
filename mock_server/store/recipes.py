"""Result recipes: how to draw a result image that is not read off a task (a garment's parsing
and crop), kept per result key, and the secret that signs result links."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from mock_server.bounded import Bounded


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
        self._recipes: Bounded[str, Recipe] = Bounded(entries)
        self._secret = secret or secrets.token_bytes(32)

    @property
    def secret(self) -> bytes:
        """The key result links are signed with (constant while the server runs)."""
        return self._secret

    async def add(self, key: str, recipe: Recipe) -> None:
        self._recipes.put(key, recipe)

    async def get(self, key: str) -> Recipe | None:
        return self._recipes.get(key)

    async def drop(self, key: str) -> None:
        self._recipes.pop(key)

    async def all(self) -> list[tuple[str, Recipe]]:
        return self._recipes.items()

    async def clear(self) -> None:
        self._recipes.clear()

    async def restore(self, secret: bytes, recipes: list[tuple[str, Recipe]]) -> None:
        """Put saved recipes back under their saved secret (links handed out stay valid)."""
        self._secret = secret
        for key, recipe in recipes:
            self._recipes.put(key, recipe)
