"""Network faults (reset, truncate, delay) through a real socket, and in-process."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import contracts
from mock_server.testing import Tenant

VENDOR = "dashscope"
CONTRACT = contracts.load(VENDOR)
SUBMIT = "/services/aigc/image2image/image-synthesis"


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.credentials[VENDOR]['api_key']}"}


@pytest.fixture
def task_id(tryon_mock: Tenant, http: httpx.Client) -> str:
    """A real task of the tenant, kept PENDING (so every query of it reads the same)."""
    tryon_mock.timing(VENDOR, queue_seconds=3600)
    assets = f"{tryon_mock.server.url}/_mock/assets"
    headers = auth(tryon_mock) | {"X-DashScope-Async": "enable"}
    answer = http.post(
        tryon_mock.base_url(VENDOR) + SUBMIT,
        headers=headers,
        json={
            "model": "aitryon",
            "parameters": {"resolution": -1, "restore_face": True},
            "input": {"person_image_url": f"{assets}/person.png", "top_garment_url": f"{assets}/top.png"},
        },
    )
    assert answer.status_code == 200, answer.text
    task = answer.json()["output"]["task_id"]
    assert isinstance(task, str)
    return task


def query(tenant: Tenant, http: httpx.Client, task: str, fault: str | None = None) -> httpx.Response:
    headers = auth(tenant) | ({"X-Mock-Fault": fault} if fault else {})
    return http.get(f"{tenant.base_url(VENDOR)}/tasks/{task}", headers=headers)


def assert_normal(answer: httpx.Response, task: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == CONTRACT.endpoint("task-query").content_type
    assert int(answer.headers["content-length"]) == len(answer.content)
    body = answer.json()
    assert body["output"]["task_id"] == task
    assert body["output"]["task_status"] == "PENDING"
    assert body["request_id"] == answer.headers["x-request-id"]
    assert isinstance(body, dict)
    return body


def test_reset_raises_a_transport_error_and_the_server_keeps_serving(
    tryon_mock: Tenant, http: httpx.Client, task_id: str
) -> None:
    with pytest.raises(httpx.TransportError):
        query(tryon_mock, http, task_id, "network=reset")
    assert_normal(query(tryon_mock, http, task_id), task_id)
    with httpx.Client(timeout=10, trust_env=False) as fresh:  # a new connection works too
        assert_normal(query(tryon_mock, fresh, task_id), task_id)

    queries = tryon_mock.journal(VENDOR, "task-query")
    assert [q["fault"]["network"] if q["fault"] else None for q in queries] == ["reset", None, None]
    assert queries[0]["fault"]["source"] == "header"
    assert all(q["path"] == f"/api/v1/tasks/{task_id}" for q in queries)
    assert queries[0]["status"] == 499  # nothing was answered: the mock's "client closed" mark
    assert [q["task_id"] for q in queries[1:]] == [task_id, task_id]


def test_truncate_cuts_the_body_short(tryon_mock: Tenant, http: httpx.Client, task_id: str) -> None:
    # Read in one go: httpx notices the body is shorter than its Content-Length.
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        query(tryon_mock, http, task_id, "network=truncate")

    # Streamed: the status and headers are whole, the body stops at half its declared length.
    url = f"{tryon_mock.base_url(VENDOR)}/tasks/{task_id}"
    with http.stream("GET", url, headers=auth(tryon_mock) | {"X-Mock-Fault": "network=truncate"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == CONTRACT.endpoint("task-query").content_type
        declared = int(answer.headers["content-length"])
        received = b""
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            for chunk in answer.iter_raw():
                received += chunk
    assert f"received {declared // 2} bytes, expected {declared}" in str(caught.value)
    assert len(received) == declared // 2
    assert received.startswith(b'{"request_id":"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(received)

    # The next request gets the whole answer, of the same length.
    whole = query(tryon_mock, http, task_id)
    assert_normal(whole, task_id)
    assert len(whole.content) == declared


def test_delay_holds_the_answer_back(tryon_mock: Tenant, http: httpx.Client, task_id: str) -> None:
    assert_normal(query(tryon_mock, http, task_id), task_id)  # warm connection, fair timing
    started = time.monotonic()
    answer = query(tryon_mock, http, task_id, "delay=300")
    elapsed = time.monotonic() - started
    assert elapsed >= 0.3
    assert elapsed < 5.0
    assert_normal(answer, task_id)
    delayed = tryon_mock.journal(VENDOR, "task-query")[-1]
    assert delayed["fault"]["delay_ms"] == 300
    assert delayed["status"] == 200


def test_admin_rule_resets_exactly_one_query(tryon_mock: Tenant, http: httpx.Client, task_id: str) -> None:
    key = tryon_mock.id(VENDOR)
    made = http.post(
        f"{tryon_mock.server.url}/_mock/faults",
        json={"vendor": VENDOR, "tenant": key, "endpoint": "task-query", "network": "reset", "times": 1},
    )
    assert made.status_code == 201, made.text
    rule = made.json()["rules"][0]

    # Another tenant's query neither trips nor uses up the rule.
    other = tryon_mock.server.new_tenant()
    try:
        unknown = query(other, http, task_id)
        assert unknown.status_code == 200
        assert unknown.json()["output"]["task_status"] == CONTRACT.lifecycle.unknown
    finally:
        other.reset()

    with pytest.raises(httpx.TransportError):
        query(tryon_mock, http, task_id)
    assert_normal(query(tryon_mock, http, task_id), task_id)
    assert_normal(query(tryon_mock, http, task_id), task_id)

    rules = http.get(f"{tryon_mock.server.url}/_mock/faults", params={"tenant": key}).json()["rules"]
    assert [(r["id"], r["hits"]) for r in rules] == [(rule["id"], 1)]
    queries = tryon_mock.journal(VENDOR, "task-query")
    assert [q["fault"]["source"] if q["fault"] else None for q in queries] == [rule["id"], None, None]


def test_in_process_reset_raises_connection_reset(tryon_mock_app: Starlette) -> None:
    key = CONTRACT.default_credentials[0]["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(tryon_mock_app) as client:
        with pytest.raises(ConnectionResetError):
            client.get("/api/v1/tasks/some-task", headers=headers | {"X-Mock-Fault": "network=reset"})
        with pytest.raises(ConnectionResetError):
            client.get("/api/v1/tasks/some-task", headers=headers | {"X-Mock-Fault": "network=truncate"})
        after = client.get("/api/v1/tasks/some-task", headers=headers)
        assert after.status_code == 200
        assert after.json()["output"] == {"task_id": "some-task", "task_status": "UNKNOWN"}


def test_in_process_reset_is_journaled_like_over_a_socket(tryon_mock_app: Starlette) -> None:
    """Over a socket a reset query is journaled (status 499, its fault); in-process it must be too,
    or a client test counting its retries in the journal sees different numbers."""
    key = CONTRACT.default_credentials[0]["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(tryon_mock_app) as client:
        with pytest.raises(ConnectionResetError):
            client.get("/api/v1/tasks/some-task", headers=headers | {"X-Mock-Fault": "network=reset"})
        entries = client.get("/_mock/journal", params={"tenant": key}).json()["entries"]
    faults = [e["fault"]["network"] for e in entries if e["fault"]]
    assert faults == ["reset"], (
        "BUG mock_server/exchange.py Vendor._wrap/_answer: in-process, network.reset() raises "
        "ConnectionResetError (exchange.py:181) before run() reaches state.journal.record(entry) "
        "(exchange.py:161), so the reset exchange is never journaled; over a socket it is "
        f"(status 499). Journal fault entries: {faults}"
    )
