"""AILabTools tasks through HTTP, in-process (manual clock): a submit with the documented fields
of each of the four try-on endpoints, and the task walking its lifecycle to a result that
downloads; distinct ids, files stored once per tenant; the async query without a task id, of an
unknown or another tenant's task; and a task, its result link and a failed task forgotten after
the retention and the result TTL."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from mock_server.assets import asset_bytes
from mock_server.state import MockState
from tests.ailabtools_rig import (
    CONTRACT,
    FILES,
    HEADER,
    HEADERS,
    KEY,
    LIFE,
    OPS,
    OUTPUT_ENDPOINTS,
    PLAIN,
    PREMIUM,
    PRO,
    QUERY,
    QUERY_EXAMPLE,
    QUERY_ID,
    REFINER,
    TEXT,
    VENDOR,
    advance,
    assert_error,
    assert_public_ok,
    done,
    download,
    files_of,
    query,
    result_url,
    submit,
    task_of,
)
from tests.helpers import conforms, shape

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
            assert body["output"] == {"task_status": pending if expected == 0 else running, "image_url": ""}
            assert body["usage"] == {"image_count": 0}
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


def example_layout(body: dict[str, Any]) -> dict[str, Any]:
    """The answer's shape (keys and value types) on the example's top-level keys."""
    return {k: shape(body[k]) for k in QUERY_EXAMPLE if k in body}


@pytest.mark.parametrize("endpoint", OUTPUT_ENDPOINTS)
def test_every_status_answers_the_whole_layout_of_the_vendor_example(
    client: TestClient, endpoint: str
) -> None:
    """Queued, processing, succeeded and failed answers all carry every key of the page's
    example with its type: output.image_url "" and usage.image_count 0 until there is a result;
    the failed task's error answer (non-200) carries them too, with task_status 3 and FAILED."""
    op = OPS[endpoint]
    task_id = task_of(client, endpoint)
    failing = task_of(client, endpoint, files=files_of(endpoint, person_image="two-persons.png"))
    answers = {}
    for step, status in ((0.0, 0), (op.queue_seconds + 0.5, 1), (op.run_seconds, 2)):
        advance(client, step)
        response = query(client, task_id)
        body = assert_public_ok(response)
        conforms(QUERY_ID, response, VENDOR)
        assert example_layout(body) == shape(QUERY_EXAMPLE), body
        answers[status] = body
    assert [answers[s]["output"]["task_status"] for s in (0, 1, 2)] == [
        *(p.status for p in LIFE.phases),
        LIFE.succeeded,
    ]
    assert [answers[s]["usage"]["image_count"] for s in (0, 1, 2)] == [0, 0, op.results]
    assert [answers[s]["output"]["image_url"] == "" for s in (0, 1, 2)] == [True, True, False]
    failed = assert_error(query(client, failing), CONTRACT.trigger("image.multi_person"), QUERY_ID)
    assert example_layout(failed) == shape(QUERY_EXAMPLE), failed
    assert failed["task_status"] == 3
    assert failed["output"] == {"task_status": LIFE.failed, "image_url": ""}
    assert failed["usage"] == {"image_count": 0}


def test_try_on_clothes_answers_its_own_layout_at_every_status(client: TestClient) -> None:
    """Try on Clothes documents data.image at task_status 2 only: no output or usage before, and
    its failed task's error answer carries task_status 3 alone."""
    task_id = task_of(client, PLAIN)
    failing = task_of(client, PLAIN, files=files_of(PLAIN, person_image="two-persons.png"))
    pending = assert_public_ok(query(client, task_id))
    assert {"output", "usage", "data"}.isdisjoint(pending) and pending["task_status"] == 0
    done(client, PLAIN)
    failed = assert_error(query(client, failing), CONTRACT.trigger("image.multi_person"), QUERY_ID)
    assert failed["task_status"] == 3 and {"output", "usage", "data"}.isdisjoint(failed)


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
