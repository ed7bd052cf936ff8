"""Hostile multipart bodies on AILabTools, through HTTP, in-process: truncated, without a
boundary, JSON or urlencoded instead, garbage, empty, a 20 MB file, too many parts, a 100 KB
field, each gets an answer in the vendor's envelope and the server keeps serving; the form limits
themselves are allowed; a body over max_body_bytes, declared or chunked, is refused."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from mock_server.assets import asset_bytes
from mock_server.vendors.ailabtools import FORM_LIMITS
from tests.ailabtools_rig import (
    CONTRACT,
    HEADERS,
    PATHS,
    PRO,
    TEXT,
    assert_error,
    assert_public_ok,
    file_part,
    files_of,
    noise_png,
    still_serving,
)

# -- malformed bodies -------------------------------------------------------------------------


def multipart_body(
    text: dict[str, str] | None = None, files: dict[str, Any] | None = None
) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart form, as httpx would send it."""
    request = httpx.Request(
        "POST",
        "http://testserver/",
        data=TEXT[PRO] if text is None else text,
        files=files_of(PRO) if files is None else files,
    )
    return request.headers["content-type"], request.read()


def truncated() -> tuple[str, bytes]:
    kind, body = multipart_body()
    person = asset_bytes("person.png")
    start = body.index(person[:64])
    return kind, body[: start + len(person) // 2]


def no_boundary() -> tuple[str, bytes]:
    _, body = multipart_body()
    return "multipart/form-data", body


def json_body() -> tuple[str, bytes]:
    return "application/json", b'{"task_type": "async", "person_image": "x", "top_garment": "y"}'


def urlencoded() -> tuple[str, bytes]:
    return "application/x-www-form-urlencoded", b"task_type=async&person_image=p.png&top_garment=t.png"


def no_content_type() -> tuple[str | None, bytes]:
    _, body = multipart_body()
    return None, body


def garbage() -> tuple[str, bytes]:
    kind, _ = multipart_body()
    return kind, os.urandom(4096)


def empty_with_boundary() -> tuple[str, bytes]:
    kind, _ = multipart_body()
    return kind, b""


def big_file() -> tuple[str, bytes]:
    data = noise_png(2600)  # a real PNG of about 20 MB
    assert len(data) > 20 * 1000 * 1000
    return multipart_body(files=files_of(PRO, person_image=data))


def too_many_parts() -> tuple[str, bytes]:
    extra = {f"extra_{i}": file_part("too-light.png") for i in range(FORM_LIMITS.parts)}
    return multipart_body(files={**files_of(PRO), **extra})


def big_field() -> tuple[str, bytes]:
    note = "a" * (100 * 1024)
    assert len(note) > FORM_LIMITS.field_bytes
    return multipart_body(text={**TEXT[PRO], "note": note})


MALFORMED = [
    pytest.param(truncated, ("body.invalid",), id="truncated"),
    pytest.param(no_boundary, ("body.invalid",), id="no-boundary"),
    pytest.param(json_body, ("header.content_type",), id="json"),
    pytest.param(urlencoded, ("header.content_type",), id="urlencoded"),
    pytest.param(no_content_type, ("header.content_type",), id="no-content-type"),
    pytest.param(garbage, ("body.invalid",), id="garbage"),
    pytest.param(empty_with_boundary, ("body.invalid",), id="empty"),
    pytest.param(big_file, ("image.bytes", "form.file_too_large"), id="20mb-file"),
    pytest.param(too_many_parts, ("form.too_many_parts",), id="too-many-parts"),
    pytest.param(big_field, ("form.field_too_large",), id="100kb-field"),
]


@pytest.mark.parametrize(("build", "situations"), MALFORMED)
def test_malformed_multipart_gets_an_envelope_and_the_server_keeps_serving(
    client: TestClient, build: Callable[[], tuple[str | None, bytes]], situations: tuple[Situation, ...]
) -> None:
    kind, body = build()
    headers = HEADERS if kind is None else {**HEADERS, "content-type": kind}
    response = client.post(PATHS[PRO], content=body, headers=headers)
    assert response.status_code != 500, response.text
    code = response.json()["error_detail"]["code"]
    errors = {CONTRACT.trigger(s).code: CONTRACT.trigger(s) for s in situations}
    assert code in errors, response.text
    assert_error(response, errors[code])
    still_serving(client)


def test_the_form_limits_themselves_are_allowed(client: TestClient) -> None:
    """Exactly FORM_LIMITS.parts parts, and a text field of exactly FORM_LIMITS.field_bytes."""
    files = files_of(PRO)
    room = FORM_LIMITS.parts - len(files) - len(TEXT[PRO])
    extra = {f"extra_{i}": file_part("too-light.png") for i in range(room)}
    kind, body = multipart_body(files={**files, **extra})
    response = client.post(PATHS[PRO], content=body, headers={**HEADERS, "content-type": kind})
    assert_public_ok(response)
    kind, body = multipart_body(text={**TEXT[PRO], "note": "a" * FORM_LIMITS.field_bytes})
    response = client.post(PATHS[PRO], content=body, headers={**HEADERS, "content-type": kind})
    assert_public_ok(response)


@pytest.fixture
def small_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(speed=0, max_body_bytes=1_000_000))) as c:
        yield c


def test_a_body_over_max_body_bytes_is_refused(small_client: TestClient) -> None:
    kind, body = multipart_body(files=files_of(PRO, person_image=os.urandom(1_100_000)))
    response = small_client.post(PATHS[PRO], content=body, headers={**HEADERS, "content-type": kind})
    assert_error(response, CONTRACT.trigger("body.too_large"))
    still_serving(small_client)


def test_a_chunked_body_over_max_body_bytes_is_refused(small_client: TestClient) -> None:
    kind, body = multipart_body(files=files_of(PRO, person_image=os.urandom(1_100_000)))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = small_client.post(PATHS[PRO], content=chunks(), headers={**HEADERS, "content-type": kind})
    assert "content-length" not in response.request.headers
    assert_error(response, CONTRACT.trigger("body.too_large"))
    still_serving(small_client)
