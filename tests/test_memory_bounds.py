"""What a client sends cannot make the mock hold more than the README's Limits table says: the
journal cuts a large request's parameters, image URLs past their length are refused with the
vendor's error and never cached, the image caches are bounded in bytes and emptied by a reset,
and an image whose header declares too many pixels is refused before it is decoded."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.verify.documents import journal_problems
from mock_server.fetch import URL_CHARS
from mock_server.store.journal import PARAM_CHARS
from tests.aidge_rig import Aidge, item, refused
from tests.damo_rig import DamoCaller, assert_backend_error, sub_task
from tests.helpers import DashScopeCaller, person_on

DS, DAMO, AIDGE = (contracts.load(v) for v in ("dashscope", "damo", "aidge"))

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


# -- image URLs and the caches keyed by them ----------------------------------------------------------


def url_of(length: int) -> str:
    """An image URL on another host (a stand-in sample image) of exactly ``length`` characters."""
    start = "https://img.example.com/p.png?pad="
    return start + "a" * (length - len(start))


def test_an_image_url_past_its_length_is_the_vendors_unreachable_image(
    ds: DashScopeCaller, damo: DamoCaller, aidge: Aidge
) -> None:
    """A URL of URL_CHARS characters is read; one character more is refused as each vendor
    refuses an image it cannot download: DashScope's task fails with InvalidURL, DAMO answers
    its invalid-URL row at the submit, Aidge its download failure."""
    longest, too_long = url_of(URL_CHARS), url_of(URL_CHARS + 1)
    read, refused_task = ds.task_id(inputs=person_on(longest)), ds.task_id(inputs=person_on(too_long))
    ds.advance(3600)
    assert ds.output(read)["task_status"] == DS.lifecycle.succeeded
    assert ds.output(refused_task)["code"] == DS.trigger("image.unreachable").code

    assert damo.submit([sub_task(tops_image=longest)]).status_code == 200
    assert_backend_error(damo.submit([sub_task(tops_image=too_long)]), DAMO.trigger("image.url"))

    garment = item()
    garment["clothesList"][0]["imageUrl"] = too_long
    refused(aidge.submit([garment]), AIDGE.trigger("image.unreachable"))


def test_a_reset_empties_the_image_caches(ds: DashScopeCaller) -> None:
    """What the image caches learned of an upload goes with the upload: after the tenant's reset,
    and after a reset of everything, the same upload URL reads as the unreachable image it now is
    (not as the cached verdict of the image it was)."""
    png = ds.client.get("/_mock/assets/person.png").content
    unreachable = DS.trigger("image.unreachable").code
    for reset, owner in (({"tenant": ds.key}, ds.key), ({}, None)):
        params = {"tenant": owner} if owner else {}
        url = ds.client.post("/_mock/uploads", params=params, content=png).json()["url"]
        before = ds.task_id(inputs=person_on(url))
        ds.client.post("/_mock/reset", json=reset).raise_for_status()
        after = ds.task_id(inputs=person_on(url))
        ds.advance(3600)
        assert ds.output(after)["code"] == unreachable, reset
        assert before != after


# -- decoding ---------------------------------------------------------------------------------------


def test_more_pixels_than_the_mock_decodes_is_too_large_a_side_where_no_side_is_documented(
    damo: DamoCaller,
) -> None:
    """DAMO documents no largest side: a 9000 x 9000 model photo (76 KB of PNG, 81 M pixels) is
    over what the mock decodes (6500 x 6500), and answers DAMO's own size error at the submit."""
    buf = io.BytesIO()
    Image.new("L", (9000, 9000), 40).save(buf, "PNG")
    url = damo.client.post("/_mock/uploads", content=buf.getvalue()).json()["url"]
    assert_backend_error(damo.submit([{**sub_task(), "model_image": url}]), DAMO.trigger("image.side"))
