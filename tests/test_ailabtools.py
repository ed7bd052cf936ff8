"""AILabTools through HTTP, in-process (manual clock): multipart submits of the four try-on
endpoints, the async query, image rules, auth, retention and hostile multipart bodies.

Every expected code, message and status is read from the contract; every answer is checked for
the public parameters (request_id, log_id, error_code, error_code_str, error_msg, error_detail).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import httpx2
import pytest
from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from mock_server.assets import asset_bytes
from mock_server.state import MockState
from mock_server.vendors.ailabtools import FORM_LIMITS
from tests.helpers import conforms, png_of

VENDOR = "ailabtools"
CONTRACT = contracts.load(VENDOR)
KEY = CONTRACT.default_credentials[0]["api_key"]
HEADER = "ailabapi-api-key"
HEADERS = {HEADER: KEY}
QUERY_ID = "query-async-task-result"
QUERY = CONTRACT.endpoint(QUERY_ID).paths[0]
PATHS = {e.id: e.paths[0] for e in CONTRACT.endpoints if e.kind == "submit"}
REFINER, PLAIN, PRO, PREMIUM = (
    "try-on-clothes-refiner",
    "try-on-clothes",
    "try-on-clothes-pro",
    "try-on-clothes-premium",
)
OPS = {op.endpoint: op for op in CONTRACT.operations.values()}
LIFE = CONTRACT.lifecycle
TASK_ID = re.compile(r"^[0-9]{13}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The text fields and file parts each endpoint documents (required ones).
TEXT = {
    REFINER: {"task_type": "async", "gender": "woman"},
    PLAIN: {"task_type": "async", "clothes_type": "upper_body"},
    PRO: {"task_type": "async"},
    PREMIUM: {"task_type": "async"},
}
FILES = {
    REFINER: {"person_image": "person.png", "top_garment": "top.png", "coarse_image": "coarse.png"},
    PLAIN: {"person_image": "person.png", "clothes_image": "top.png"},
    PRO: {"person_image": "person.png", "top_garment": "top.png"},
    PREMIUM: {"person_image": "person.png", "top_garment": "top.png"},
}
OUTPUT_ENDPOINTS = (REFINER, PRO, PREMIUM)  # answer output.image_url + usage


# -- helpers -------------------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


@cache
def noise_png(side: int) -> bytes:
    """An uncompressible PNG: its size is about 3 * side * side bytes."""
    return png_bytes(Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)))


def file_part(value: str | bytes, name: str = "image.png") -> tuple[str, bytes, str]:
    data = asset_bytes(value) if isinstance(value, str) else value
    kind = "image/gif" if name.endswith(".gif") else "image/png"
    return (name, data, kind)


def files_of(endpoint: str, **override: str | bytes | None) -> dict[str, tuple[str, bytes, str]]:
    chosen: dict[str, str | bytes | None] = {**FILES[endpoint], **override}
    return {
        field: file_part(value, value if isinstance(value, str) else f"{field}.png")
        for field, value in chosen.items()
        if value is not None
    }


def submit(
    client: TestClient,
    endpoint: str,
    text: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    return client.post(
        PATHS[endpoint],
        data=TEXT[endpoint] if text is None else text,
        files=files_of(endpoint) if files is None else files,
        headers=HEADERS if headers is None else headers,
    )


def query(client: TestClient, task_id: str | None, headers: dict[str, str] | None = None) -> httpx2.Response:
    params = {} if task_id is None else {"task_id": task_id}
    return client.get(QUERY, params=params, headers=HEADERS if headers is None else headers)


def advance(client: TestClient, seconds: float) -> None:
    client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


def assert_public_ok(response: httpx2.Response) -> dict[str, Any]:
    """A 200 answer with the public parameters of a success."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert (body["error_code"], body["error_code_str"], body["error_msg"]) == (0, "", "")
    assert body["error_detail"] == {"status_code": 200, "code": "", "code_message": "", "message": ""}
    return body


def assert_error(
    response: httpx2.Response, error: ErrorCode, endpoint: str = PRO, message: str | None = None
) -> dict[str, Any]:
    """The contract's error in the AILabTools envelope, with every public parameter."""
    assert response.status_code == error.http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = conforms(endpoint, response, VENDOR)
    detail = body["error_detail"]
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert (detail["status_code"], detail["code"], detail["code_message"]) == (
        error.http_status,
        error.code,
        error.message,
    )
    assert (body["error_code"], body["error_code_str"]) == (error.http_status, error.code)
    assert body["error_msg"] == detail["message"]
    assert detail["message"].startswith(error.message), detail["message"]
    if message is not None:
        assert detail["message"] == message
    return body


def task_of(
    client: TestClient,
    endpoint: str = PRO,
    text: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    response = submit(client, endpoint, text, files, headers)
    body = assert_public_ok(response)
    conforms(endpoint, response, VENDOR)
    assert body["task_type"] == "async"
    assert TASK_ID.match(body["task_id"]), body["task_id"]
    return str(body["task_id"])


def done(client: TestClient, endpoint: str = PRO) -> float:
    """Advance past the whole run of an operation; the seconds advanced."""
    op = OPS[endpoint]
    total = op.queue_seconds + op.run_seconds
    advance(client, total)
    return total


def result_url(body: dict[str, Any], endpoint: str) -> str:
    if OPS[endpoint].answer["result"] == "data.image":
        return str(body["data"]["image"])
    return str(body["output"]["image_url"])


def download(client: Any, url: str) -> Image.Image:
    return png_of(client.get(url))


def still_serving(client: TestClient) -> None:
    task_of(client, PRO)


# -- submit and lifecycle ---------------------------------------------------------------------

FIELD_CASES = [
    pytest.param(REFINER, {}, {}, id="refiner-required"),
    pytest.param(REFINER, {"gender": "man"}, {"bottom_garment": "bottom.png"}, id="refiner-man-bottom"),
    *[
        pytest.param(PLAIN, {"clothes_type": kind}, {}, id=f"plain-{kind}")
        for kind in ("upper_body", "lower_body", "full_body")
    ],
    pytest.param(PRO, {}, {}, id="pro-required"),
    pytest.param(
        PRO,
        {"resolution": "1280", "restore_face": "false"},
        {"bottom_garment": "bottom.png"},
        id="pro-all",
    ),
    pytest.param(PRO, {"resolution": "-1", "restore_face": "True"}, {}, id="pro-original"),
    pytest.param(PREMIUM, {}, {}, id="premium-required"),
    pytest.param(
        PREMIUM,
        {"resolution": "1024", "restore_face": "1"},
        {"bottom_garment": "bottom.png"},
        id="premium-all",
    ),
]


@pytest.mark.parametrize(("endpoint", "extra_text", "extra_files"), FIELD_CASES)
def test_submit_accepts_documented_fields_and_the_task_walks_its_lifecycle(
    client: TestClient, endpoint: str, extra_text: dict[str, str], extra_files: dict[str, str]
) -> None:
    op = OPS[endpoint]
    task_id = task_of(
        client, endpoint, text={**TEXT[endpoint], **extra_text}, files=files_of(endpoint, **extra_files)
    )
    pending, running = (p.status for p in LIFE.phases)
    seen = []
    for step, expected in ((0.0, 0), (op.queue_seconds - 0.5, 0), (0.5, 1), (op.run_seconds - 0.5, 1)):
        advance(client, step)
        response = query(client, task_id)
        body = assert_public_ok(response)
        conforms(QUERY_ID, response, VENDOR)
        assert body["task_status"] == expected, (step, body)
        seen.append(body["task_status"])
        if endpoint in OUTPUT_ENDPOINTS:
            assert body["output"] == {"task_status": pending if expected == 0 else running}
            assert "usage" not in body
        else:
            assert "output" not in body
        assert "data" not in body
    advance(client, 0.5)
    response = query(client, task_id)
    body = assert_public_ok(response)
    conforms(QUERY_ID, response, VENDOR)
    assert [*seen, body["task_status"]] == [0, 0, 1, 1, 2]
    if endpoint in OUTPUT_ENDPOINTS:
        assert body["output"]["task_status"] == LIFE.succeeded
        assert body["usage"] == {"image_count": op.results}
        assert "data" not in body
    else:
        assert set(body["data"]) == {"image"}
        assert "output" not in body and "usage" not in body
    image = download(client, result_url(body, endpoint))
    if endpoint == REFINER:
        coarse = Image.open(io.BytesIO(asset_bytes("coarse.png")))
        assert image.size == coarse.size
    size = op.result_sizes.get(extra_text.get("resolution", "-1"))
    if size is not None:
        assert image.size == tuple(size)


def test_submits_get_distinct_task_and_request_ids(client: TestClient) -> None:
    answers = [assert_public_ok(submit(client, PRO)) for _ in range(3)]
    assert len({a["task_id"] for a in answers}) == 3
    assert len({a["request_id"] for a in answers}) == 3
    tasks = client.get("/_mock/tasks", params={"tenant": KEY}).json()["tasks"]
    assert sorted(t["id"] for t in tasks) == sorted(a["task_id"] for a in answers)


def test_the_same_files_again_are_stored_once_per_tenant(client: TestClient, state: MockState) -> None:
    """Files are kept by content per tenant: resubmitting the same images adds no upload, and
    another tenant's identical files are its own uploads (it still cannot read this tenant's)."""
    uploads = state.store.uploads
    for _ in range(3):
        assert_public_ok(submit(client, PRO))
    mine = asyncio.run(uploads.all())
    assert len(mine) == len(FILES[PRO]) and {u.tenant for u in mine} == {KEY}
    client.post("/_mock/credentials", json={"ailabtools": [{"api_key": "other-key"}]}).raise_for_status()
    assert_public_ok(submit(client, PRO, headers={**HEADERS, "ailabapi-api-key": "other-key"}))
    theirs = [u for u in asyncio.run(uploads.all()) if u.tenant == "other-key"]
    assert len(theirs) == len(FILES[PRO]) and not {u.id for u in theirs} & {u.id for u in mine}


# -- image rules --------------------------------------------------------------------------------

SUBMIT_RULES = [
    ("too-heavy.png", "image.bytes"),
    ("too-light.png", "image.bytes"),
    ("too-small.png", "image.small"),
    ("too-large.png", "image.side"),
    ("wrong-format.gif", "image.format"),
    ("undecodable.png", "image.undecodable"),
]
RULE_CASES = [
    *[
        pytest.param(endpoint, "person_image", name, situation, id=f"{endpoint}-{name}")
        for endpoint in (PRO, PREMIUM, REFINER)
        for name, situation in SUBMIT_RULES
    ],
    pytest.param(PRO, "top_garment", "wrong-format.gif", "image.format", id="pro-top-gif"),
    pytest.param(PREMIUM, "top_garment", "too-light.png", "image.bytes", id="premium-top-light"),
    pytest.param(REFINER, "coarse_image", "too-small.png", "image.small", id="refiner-coarse-small"),
    pytest.param(REFINER, "top_garment", "undecodable.png", "image.undecodable", id="refiner-top-bad"),
    # The first stage has no byte floor and no side floor, but the other rules hold.
    *[
        pytest.param(PLAIN, field, name, situation, id=f"plain-{field}-{name}")
        for field in ("person_image", "clothes_image")
        for name, situation in SUBMIT_RULES
        if situation not in ("image.small",) and name != "too-light.png"
    ],
]


@pytest.mark.parametrize(("endpoint", "field", "name", "situation"), RULE_CASES)
def test_image_rules_are_answered_at_submit(
    client: TestClient, endpoint: str, field: str, name: str, situation: Situation
) -> None:
    response = submit(client, endpoint, files=files_of(endpoint, **{field: name}))
    assert_error(response, CONTRACT.trigger(situation), endpoint)
    assert client.get("/_mock/tasks", params={"tenant": KEY}).json()["tasks"] == []


@pytest.mark.parametrize("name", ["too-light.png", "too-small.png"])
def test_the_first_stage_has_no_floor_on_bytes_or_sides(client: TestClient, name: str) -> None:
    assert CONTRACT.limits["first-stage"].min_bytes is None
    assert CONTRACT.limits["first-stage"].min_side is None
    task_of(client, PLAIN, files=files_of(PLAIN, person_image=name))


def test_an_image_between_3_and_5_mb_passes_pro_but_not_the_plain_endpoint(client: TestClient) -> None:
    first, pro = CONTRACT.limits["first-stage"], CONTRACT.limits["pro"]
    assert first.max_bytes is not None and pro.max_bytes is not None
    data = noise_png(1100)
    assert first.max_bytes < len(data) < pro.max_bytes
    task_of(client, PRO, files=files_of(PRO, top_garment=data))
    task_of(client, PREMIUM, files=files_of(PREMIUM, top_garment=data))
    task_of(client, REFINER, files=files_of(REFINER, top_garment=data))
    for field in ("clothes_image", "person_image"):
        response = submit(client, PLAIN, files=files_of(PLAIN, **{field: data}))
        assert_error(response, CONTRACT.trigger("image.bytes"), PLAIN)


CONTENT_CASES = [
    *[
        pytest.param(endpoint, "person_image", name, situation, id=f"{endpoint}-{name}")
        for endpoint in (PLAIN, PRO, PREMIUM, REFINER)
        for name, situation in (
            ("no-person.png", "image.no_person"),
            ("two-persons.png", "image.multi_person"),
        )
    ],
    pytest.param(REFINER, "coarse_image", "two-persons.png", "image.multi_person", id="refiner-coarse-two"),
]


@pytest.mark.parametrize(("endpoint", "field", "name", "situation"), CONTENT_CASES)
def test_content_problems_end_the_task_and_its_query_answers_the_error(
    client: TestClient, endpoint: str, field: str, name: str, situation: Situation
) -> None:
    error = CONTRACT.trigger(situation)
    assert not error.can_occur("submit") and error.can_occur("task")
    task_id = task_of(client, endpoint, files=files_of(endpoint, **{field: name}))
    first = assert_public_ok(query(client, task_id))
    assert first["task_status"] == 0
    done(client, endpoint)
    for _ in range(2):  # the failure is stable
        assert_error(query(client, task_id), error, QUERY_ID)


# -- request fields -----------------------------------------------------------------------------

EMPTY_CASES = [
    pytest.param(endpoint, field, id=f"{endpoint}-no-{field}")
    for endpoint in PATHS
    for field in FILES[endpoint]
]


@pytest.mark.parametrize(("endpoint", "field"), EMPTY_CASES)
def test_a_missing_file_field_cannot_be_empty(client: TestClient, endpoint: str, field: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    response = submit(client, endpoint, files=files_of(endpoint, **{field: None}))
    assert_error(response, error, endpoint, f"{error.message} - {field}: Cannot be empty.")


@pytest.mark.parametrize("endpoint", list(PATHS))
def test_no_file_at_all_names_person_image(client: TestClient, endpoint: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    # At least one file part keeps the body multipart; "note" is an undocumented extra field.
    response = submit(client, endpoint, files={"note": file_part("top.png")})
    assert_error(response, error, endpoint, f"{error.message} - person_image: Cannot be empty.")


@pytest.mark.parametrize("endpoint", list(PATHS))
def test_a_text_value_where_a_file_belongs_cannot_be_empty(client: TestClient, endpoint: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {**TEXT[endpoint], "person_image": "person.png"}
    response = submit(client, endpoint, text=text, files=files_of(endpoint, person_image=None))
    assert_error(response, error, endpoint, f"{error.message} - person_image: Cannot be empty.")


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/person.png",
        "http://testserver/_mock/assets/person.png",
    ],
)
def test_a_text_url_where_a_file_belongs_is_not_a_file(client: TestClient, value: str) -> None:
    """The contract's request schemas say "A text value sent where a file belongs counts as
    missing", and live (vendor-notes B3) a person_image sent as text is read as empty. A text value
    that happens to look like a URL must not be fetched as if it had been uploaded."""
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {**TEXT[PRO], "person_image": value}
    response = submit(client, PRO, text=text, files=files_of(PRO, person_image=None))
    assert response.status_code == error.http_status, (
        "BUG mock_server/vendors/ailabtools.py AILabTools._form: a text field named like a file "
        f"field ({value!r}) is kept in the form document, passes the schema's ^https?:// pattern "
        f"and is fetched as an image; got {response.status_code} {response.text}"
    )
    assert_error(response, error, PRO, f"{error.message} - person_image: Cannot be empty.")


INVALID_CASES = [
    pytest.param(REFINER, "gender", "other", id="refiner-gender-other"),
    pytest.param(PLAIN, "clothes_type", "hat", id="plain-clothes-type-hat"),
    pytest.param(PRO, "resolution", "2048", id="pro-resolution-2048"),
    pytest.param(PREMIUM, "restore_face", "maybe", id="premium-restore-face-maybe"),
    *[pytest.param(endpoint, "task_type", "sync", id=f"{endpoint}-task-type-sync") for endpoint in PATHS],
]


@pytest.mark.parametrize(("endpoint", "field", "value"), INVALID_CASES)
def test_an_unsupported_value_is_refused(client: TestClient, endpoint: str, field: str, value: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    response = submit(client, endpoint, text={**TEXT[endpoint], field: value})
    body = assert_error(response, error, endpoint)
    assert body["error_detail"]["message"].startswith(f"{error.message} - {field}: ")


@pytest.mark.parametrize(("endpoint", "field"), [(REFINER, "gender"), (PLAIN, "clothes_type")])
def test_a_missing_required_text_field_is_refused(client: TestClient, endpoint: str, field: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {k: v for k, v in TEXT[endpoint].items() if k != field}
    response = submit(client, endpoint, text=text)
    assert_error(response, error, endpoint, f"{error.message} - {field}: Cannot be empty.")


# -- auth -----------------------------------------------------------------------------------------

AUTH_CASES = [
    pytest.param({}, "auth.missing", id="no-key"),
    pytest.param({HEADER: "   "}, "auth.missing", id="blank-key"),
    pytest.param({HEADER: "not-a-registered-key"}, "auth.invalid", id="unknown-key"),
]


@pytest.mark.parametrize(("headers", "situation"), AUTH_CASES)
@pytest.mark.parametrize("endpoint", list(PATHS))
def test_submit_auth(
    client: TestClient, endpoint: str, headers: dict[str, str], situation: Situation
) -> None:
    assert_error(submit(client, endpoint, headers=headers), CONTRACT.trigger(situation), endpoint)


@pytest.mark.parametrize(("headers", "situation"), AUTH_CASES)
def test_query_auth(client: TestClient, headers: dict[str, str], situation: Situation) -> None:
    task_id = task_of(client)
    assert_error(query(client, task_id, headers=headers), CONTRACT.trigger(situation), QUERY_ID)
    assert_error(query(client, None, headers=headers), CONTRACT.trigger(situation), QUERY_ID)


# -- query ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"task_id": ""}], ids=["absent", "empty"])
def test_query_without_task_id(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(QUERY, params=params, headers=HEADERS)
    assert_error(response, CONTRACT.trigger("query.missing"), QUERY_ID)


@pytest.mark.parametrize(
    "task_id",
    ["1700000000000.00000000-0000-0000-0000-000000000000", "nope", "../../etc/passwd", "x" * 2000],
)
def test_query_of_an_unknown_task(client: TestClient, task_id: str) -> None:
    assert_error(query(client, task_id), CONTRACT.trigger("task.unknown"), QUERY_ID)


def test_another_tenants_task_is_unknown(client: TestClient) -> None:
    registered = client.post("/_mock/credentials", json={VENDOR: [{"api_key": "other"}]})
    assert registered.status_code < 300, registered.text
    other = {HEADER: "other"}
    mine = task_of(client)
    theirs = task_of(client, headers=other)
    assert_error(query(client, mine, headers=other), CONTRACT.trigger("task.unknown"), QUERY_ID)
    assert_error(query(client, theirs), CONTRACT.trigger("task.unknown"), QUERY_ID)
    assert assert_public_ok(query(client, theirs, headers=other))["task_status"] == 0
    assert assert_public_ok(query(client, mine))["task_status"] == 0


def test_a_task_is_forgotten_after_retention(client: TestClient) -> None:
    task_id = task_of(client)
    done(client)
    assert assert_public_ok(query(client, task_id))["task_status"] == 2
    advance(client, CONTRACT.retention_seconds - 1)
    assert assert_public_ok(query(client, task_id))["task_status"] == 2
    advance(client, 2)
    assert_error(query(client, task_id), CONTRACT.trigger("task.unknown"), QUERY_ID)


@pytest.mark.parametrize("endpoint", [PRO, PLAIN])
def test_a_result_link_expires_after_result_ttl(client: TestClient, endpoint: str) -> None:
    task_id = task_of(client, endpoint)
    done(client, endpoint)
    url = result_url(assert_public_ok(query(client, task_id)), endpoint)
    advance(client, CONTRACT.result_ttl_seconds - 1)
    download(client, url)
    advance(client, 2)
    assert client.get(url).status_code == 403


def test_a_failed_task_is_forgotten_after_retention(client: TestClient) -> None:
    task_id = task_of(client, files=files_of(PRO, person_image="two-persons.png"))
    done(client)
    assert_error(query(client, task_id), CONTRACT.trigger("image.multi_person"), QUERY_ID)
    advance(client, CONTRACT.retention_seconds + 1)
    assert_error(query(client, task_id), CONTRACT.trigger("task.unknown"), QUERY_ID)


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
    pytest.param(json_body, ("body.invalid",), id="json"),
    pytest.param(urlencoded, ("body.invalid",), id="urlencoded"),
    pytest.param(garbage, ("body.invalid",), id="garbage"),
    pytest.param(empty_with_boundary, ("body.invalid",), id="empty"),
    pytest.param(big_file, ("image.bytes", "form.file_too_large"), id="20mb-file"),
    pytest.param(too_many_parts, ("form.too_many_parts",), id="too-many-parts"),
    pytest.param(big_field, ("form.field_too_large",), id="100kb-field"),
]


@pytest.mark.parametrize(("build", "situations"), MALFORMED)
def test_malformed_multipart_gets_an_envelope_and_the_server_keeps_serving(
    client: TestClient, build: Callable[[], tuple[str, bytes]], situations: tuple[Situation, ...]
) -> None:
    kind, body = build()
    response = client.post(PATHS[PRO], content=body, headers={**HEADERS, "content-type": kind})
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


# -- unknown routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/portrait/editing/try-on-shoes"),
        ("POST", "/api/portrait/editing/try-on-shoes"),
        ("POST", "/api/common/query-async-task-result"),
        ("GET", PATHS[PRO]),
    ],
)
def test_an_unknown_route_under_api_answers_in_the_envelope(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, headers=HEADERS)
    assert_error(response, CONTRACT.trigger("route.unknown"))
