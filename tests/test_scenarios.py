"""The DAMO scenarios do what their descriptions say."""

from __future__ import annotations

import httpx2
from starlette.testclient import TestClient

import contracts
from tests.helpers import asset

DAMO = contracts.load("damo")
CODE = next(c["appcode"] for c in DAMO.default_credentials if "appcode" in c)
HEADERS = {"Authorization": f"APPCODE {CODE}"}
BATCH = {
    "data": {
        "fit_type": "FULL_BODY",
        "task_list": [
            {
                "model_image": asset("person.png"),
                "tops_image": asset("top.png"),
                "pants_image": asset("bottom.png"),
            }
            for _ in range(3)
        ],
    }
}


def submit(client: TestClient) -> httpx2.Response:
    return client.post("/api/v1/tryon/submit", json=BATCH, headers=HEADERS)


def test_batch_one_fails(client: TestClient) -> None:
    client.post("/_mock/scenarios/batch-one-fails").raise_for_status()
    key = submit(client).json()["data"]["result_key"]
    client.post("/_mock/clock", json={"advance": 3600}).raise_for_status()
    answer = client.post("/api/v1/tryon/query", json={"data": {"result_key": key}}, headers=HEADERS).json()
    statuses = [t["status"] for t in answer["data"]["task_list"]]
    life = DAMO.lifecycle
    assert statuses == [life.failed, life.succeeded, life.succeeded]
    assert "results" not in answer["data"]["task_list"][0]


def test_gateway_throttled(client: TestClient) -> None:
    client.post("/_mock/scenarios/gateway-throttled").raise_for_status()
    answers = [submit(client) for _ in range(4)]
    throttled = DAMO.error("Gateway.ThrottledApp")
    for answer in answers[:3]:
        assert answer.status_code == throttled.http_status
        assert answer.headers["x-ca-error-message"] == throttled.message
        assert answer.content == b""
    assert answers[3].status_code == 200
    dashscope_key = contracts.load("dashscope").default_credentials[0]["api_key"]
    other = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {dashscope_key}"})
    assert other.status_code == 200, "the DAMO gateway scenario leaves DashScope alone"
