"""Bad input gets a DashScope error envelope, never a 500 or a hang."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, create_app
from mock_server.testing import serve_in_thread
from tests.helpers import KEY, PROCESS, SYNTHESIS, DashScopeCaller, asset, conforms, person_on, refiner_on

DS = contracts.load("dashscope")
CODES = {str(e.code) for e in DS.errors}


def assert_envelope(response: httpx2.Response, endpoint: str = "image-synthesis") -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    body = conforms(endpoint, response)
    assert body["code"] in CODES
    return body


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b"42",
        b'"text"',
        b"\xff\xfe{}",
        b'{"model": "aitryon",}',
        b'{"model": "aitryon", "input": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_malformed_bodies(ds: DashScopeCaller, raw: bytes) -> None:
    response = ds.client.post(
        SYNTHESIS, content=raw, headers=ds.headers(**{"Content-Type": "application/json"})
    )
    assert_envelope(response)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"input": {}}, "BadRequest.EmptyModel"),
        ({"model": "aitryon"}, "BadRequest.EmptyInput"),
        ({"model": "aitryon", "input": "person.png"}, "BadRequest.IllegalInput"),
        ({"model": 7, "input": {}}, "InvalidParameter"),
        ({"model": "aitryon", "input": {"person_image_url": asset("person.png")}}, "InvalidGarment"),
        (
            {"model": "aitryon", "input": {"person_image_url": asset("person.png"), "top_garment_url": ""}},
            "InvalidGarment",
        ),
        ({"model": "aitryon", "input": {"top_garment_url": asset("top.png")}}, "InvalidParameter"),
        (
            {"model": "aitryon", "input": {"person_image_url": 5, "top_garment_url": asset("top.png")}},
            "InvalidParameter",
        ),
        (
            {
                "model": "aitryon",
                "input": {"person_image_url": "not a url", "top_garment_url": asset("top.png")},
            },
            "InvalidURL",
        ),
        (
            {
                "model": "aitryon",
                "input": person_on(asset("person.png")),
                "parameters": {"resolution": 999},
            },
            "InvalidParameter",
        ),
        (
            {
                "model": "aitryon",
                "input": person_on(asset("person.png")),
                "parameters": {"restore_face": "yes"},
            },
            "InvalidParameter",
        ),
        (
            {
                "model": "aitryon-refiner",
                "input": refiner_on(asset("coarse.png")),
            },
            "BadRequest.EmptyParameters",
        ),
        (
            {
                "model": "aitryon-refiner",
                "input": person_on(asset("person.png")),
                "parameters": {"gender": "woman"},
            },
            "InvalidParameter",
        ),
        (
            {
                "model": "aitryon-refiner",
                "input": refiner_on(asset("coarse.png")),
                "parameters": {"gender": "other"},
            },
            "InvalidParameter",
        ),
    ],
)
def test_wrong_types_and_missing_fields(ds: DashScopeCaller, body: dict[str, Any], code: str) -> None:
    response = ds.client.post(SYNTHESIS, json=body, headers=ds.headers())
    assert assert_envelope(response)["code"] == code


def test_a_50_mb_body_is_refused_without_reading_it_all(ds: DashScopeCaller) -> None:
    big = b'{"model": "aitryon", "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    response = ds.client.post(SYNTHESIS, content=big, headers=ds.headers())
    assert assert_envelope(response)["message"] == DS.trigger("body.too_large").message
    assert ds.submit().status_code == 200, "still serving"


def test_a_body_over_the_limit_without_content_length_is_refused() -> None:
    app = create_app(Settings(speed=0, max_body_bytes=1024))
    ds = DashScopeCaller(TestClient(app))

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 512

    response = ds.client.post(SYNTHESIS, content=chunks(), headers=ds.headers())
    assert assert_envelope(response)["message"] == DS.trigger("body.too_large").message
    assert ds.client.get("/_mock/journal").json()["entries"][-1]["body_bytes"] == 0


@pytest.mark.parametrize("url", ["http://[::1/person.png", "http://h:99999/p.png", "https://[x]/p.png"])
def test_a_url_no_parser_accepts_is_an_unreachable_image(ds: DashScopeCaller, url: str) -> None:
    """Schemathesis found a 500 on an unbalanced IPv6 bracket; every such URL is InvalidURL."""
    task_id = ds.task_id(inputs={"person_image_url": url, "top_garment_url": asset("top.png")})
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.unreachable").code


def test_an_undecodable_image_fails_the_task_not_the_server(ds: DashScopeCaller) -> None:
    up = ds.client.post("/_mock/uploads", content=b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 100)
    task_id = ds.task_id(inputs={"person_image_url": up.json()["url"], "top_garment_url": asset("top.png")})
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.undecodable").code


def test_an_undecodable_image_on_the_sync_endpoint_is_a_400(ds: DashScopeCaller) -> None:
    body = {
        "model": "aitryon-parsing-v1",
        "input": {"image_url": asset("undecodable.png")},
        "parameters": {"clothes_type": ["upper"]},
    }
    response = ds.client.post(PROCESS, json=body, headers={"Authorization": f"Bearer {ds.key}"})
    assert assert_envelope(response, "image-process")["code"] == DS.trigger("image.undecodable").code


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
BODIES = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(sorted(DS.operations)) | st.text(max_size=10) | JSONISH,
        "input": st.fixed_dictionaries(
            {},
            optional={
                "person_image_url": st.sampled_from([asset("person.png"), asset("two-persons.png"), "x"])
                | JSONISH,
                "top_garment_url": st.sampled_from([asset("top.png"), ""]) | JSONISH,
                "coarse_image_url": st.sampled_from([asset("coarse.png")]) | JSONISH,
                "image_url": st.sampled_from([asset("top.png")]) | JSONISH,
            },
        )
        | JSONISH,
        "parameters": JSONISH,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, path=st.sampled_from([SYNTHESIS, PROCESS]))
def test_any_json_body_gets_a_documented_answer(ds: DashScopeCaller, body: dict[str, Any], path: str) -> None:
    headers = ds.headers() if path == SYNTHESIS else {"Authorization": f"Bearer {ds.key}"}
    headers["Content-Type"] = "application/json"  # the pages require it: without it, no body is read
    response = ds.client.post(path, content=json.dumps(body), headers=headers)
    endpoint = "image-synthesis" if path == SYNTHESIS else "image-process"
    if response.status_code == 200:
        conforms(endpoint, response)
    else:
        assert_envelope(response, endpoint)


def test_a_crash_in_a_handler_is_a_plain_500_and_the_server_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vendor paths are served by lookup, past Starlette's error middleware: an exception escaping a
    handler must still be uvicorn's plain 500, journaled as 500, and the next request answered."""
    with serve_in_thread() as server, httpx.Client(timeout=10, trust_env=False) as http:
        checker = server.state.images
        original = checker.check

        async def crash(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug in the mock")

        monkeypatch.setattr(checker, "check", crash)
        body = {"model": "aitryon", "input": person_on(f"{server.url}/_mock/assets/person.png")}
        headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
        answer = http.post(server.url + SYNTHESIS, json=body, headers=headers)
        assert answer.status_code == 500 and answer.text == "Internal Server Error"
        assert server.admin("GET", "/journal").json()["entries"][-1]["status"] == 500
        monkeypatch.setattr(checker, "check", original)
        assert http.post(server.url + SYNTHESIS, json=body, headers=headers).status_code == 200


@pytest.mark.parametrize("vendor", ["dashscope", "ailabtools"])
def test_a_slow_body_gets_the_body_error_in_process_too(vendor: str) -> None:
    """The body deadline holds without the mock's protocol: through httpx's ASGI transport (no
    server, no socket), a body that stops coming for longer than ``body_timeout`` is answered with
    the vendor's invalid-body error once the deadline passes, not when the client finishes."""
    app = create_app(Settings(speed=0, body_timeout=0.3))
    contract = contracts.load(vendor)
    endpoint = next(e for e in contract.endpoints if e.kind == "submit")
    credential = contract.default_credentials[0]
    headers = (
        {"Authorization": f"Bearer {credential['api_key']}", "X-DashScope-Async": "enable"}
        if vendor == "dashscope"
        else {"ailabapi-api-key": credential["api_key"], "Content-Type": "multipart/form-data; boundary=b"}
    )
    pause = 5.0

    async def dripped() -> AsyncIterator[bytes]:
        yield b'{"model": '
        await asyncio.sleep(pause)
        yield b'"aitryon"}'

    async def send() -> tuple[httpx.Response, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            started = time.monotonic()
            answer = await http.post(endpoint.paths[0], content=dripped(), headers=headers)
            return answer, time.monotonic() - started

    answer, took = asyncio.run(send())
    assert took < pause, f"answered after {took:.1f} s: the deadline did not hold"
    assert answer.status_code == contract.trigger("body.invalid").http_status
    assert str(contract.trigger("body.invalid").code) in answer.text
