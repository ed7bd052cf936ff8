"""What a client sends cannot make the mock hold more than the README's Limits table says: the
journal cuts a large request's parameters, image URLs past their length are refused with the
vendor's error and never cached, the image caches are bounded in bytes and emptied by a reset,
and an image whose header declares too many pixels is refused before it is decoded."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from contracts.verify.documents import journal_problems
from mock_server.store.journal import PARAM_CHARS
from tests.helpers import DashScopeCaller

MB = 1024 * 1024


def journal(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/_mock/journal", params={"endpoint": "image-synthesis"}).json()
    assert journal_problems(answer) == []
    entries: list[dict[str, Any]] = answer["entries"]
    return entries


# -- the journal ---------------------------------------------------------------------------------


def test_a_large_requests_long_strings_are_kept_cut_with_their_length(
    ds: DashScopeCaller, client: TestClient
) -> None:
    """An 8 MB string among a submit's parameters is kept as its first 1024 characters and its
    length (the body itself, over 64 KB, as its size); the rest of the parameters whole. Under
    64 KB a request keeps its body, and its parameters whole, long strings too."""
    note = "x" * (60 * 1024)
    assert ds.submit(parameters={"note": note}).status_code == 200
    assert ds.submit(parameters={"note": "é" + "x" * (8 * MB), "n": 3}).status_code == 200
    small, entry = journal(client)
    assert small["body"] is not None and small["params"]["parameters"] == {"note": note}
    assert entry["body"] is None and entry["body_bytes"] > 8 * MB
    params = entry["params"]
    assert params["parameters"] == {
        "note": {"$cut": "é" + "x" * (PARAM_CHARS - 1), "$chars": 8 * MB + 1},
        "n": 3,
    }
    assert params["input"]["person_image_url"].endswith("/person.png")


def test_a_large_requests_many_values_are_kept_as_the_bodys_head_and_size(
    ds: DashScopeCaller, client: TestClient
) -> None:
    """Parameters that hold more than 64 K characters and values once their strings are cut (here
    200,000 short strings) are kept as the body's first 1024 characters and its size."""
    assert ds.submit(parameters={"notes": ["ab"] * 200_000}).status_code == 200
    [entry] = journal(client)
    assert entry["params"] == {"$cut": entry["params"]["$cut"], "$bytes": entry["body_bytes"]}
    assert (
        entry["params"]["$cut"].startswith('{"model":"aitryon"')
        and len(entry["params"]["$cut"]) == PARAM_CHARS
    )
