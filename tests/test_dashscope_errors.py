"""Every row of the DashScope errors.json is reachable three ways (the X-Mock-Fault header, an
admin fault rule, a magic input) and is rendered exactly: status, code, message, envelope."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

import contracts
from contracts.model import ErrorCode
from tests.conftest import PROCESS, DashScopeCaller, asset, conforms

DS = contracts.load("dashscope")
PARSING = {
    "model": "aitryon-parsing-v1",
    "input": {"image_url": asset("top.png")},
    "parameters": {"clothes_type": ["upper"]},
}
WAYS = ("header", "rule", "marker")


def home(error: ErrorCode) -> str:
    """The endpoint kind where a test provokes this error."""
    for kind in ("submit", "process", "query", "cancel", "list", "task"):
        if error.can_occur(kind):
            return kind
    raise AssertionError(f"{error.id} occurs nowhere")


def call(
    ds: DashScopeCaller, kind: str, task_id: str, headers: dict[str, str], marker: str = ""
) -> httpx2.Response:
    if kind in ("submit", "task"):
        return ds.submit(
            inputs={"person_image_url": asset("person.png") + marker, "top_garment_url": asset("top.png")},
            **headers,
        )
    if kind == "process":
        body = {**PARSING, "input": {"image_url": asset("top.png") + marker}}
        return ds.client.post(PROCESS, json=body, headers={"Authorization": f"Bearer {ds.key}", **headers})
    if kind == "query":
        return ds.query(task_id, **headers)
    if kind == "cancel":
        return ds.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=ds.headers(**headers))
    return ds.client.get("/api/v1/tasks", headers=ds.headers(**headers))


ENDPOINT = {
    "submit": "image-synthesis",
    "task": "image-synthesis",
    "process": "image-process",
    "query": "task-query",
    "cancel": "task-cancel",
    "list": "task-list",
}


def assert_rendered(error: ErrorCode, kind: str, response: httpx2.Response, ds: DashScopeCaller) -> None:
    if kind == "task":
        assert response.status_code == 200, response.text
        task_id = response.json()["output"]["task_id"]
        ds.advance(3600)
        out = ds.output(task_id)
        assert (out["task_status"], out["code"], out["message"]) == (
            DS.lifecycle.failed,
            error.code,
            error.message,
        )
        return
    assert response.status_code == error.http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = conforms(ENDPOINT[kind], response)
    assert set(body) == {"code", "message", "request_id"}
    assert (body["code"], body["message"]) == (error.code, error.message)


def provoke(ds: DashScopeCaller, error: ErrorCode, way: str) -> tuple[str, httpx2.Response]:
    kind = home(error)
    pending = ds.task_id()
    if way == "header":
        spec = f"error={error.id}" + ("; at=task" if kind == "task" else "")
        return kind, call(ds, kind, pending, {"X-Mock-Fault": spec})
    if way == "rule":
        rule = {
            "vendor": "dashscope",
            "tenant": ds.key,
            "error": error.id,
            "times": 1,
            "endpoint": "submit" if kind == "task" else kind,
        }
        assert ds.client.post("/_mock/faults", json=rule).status_code == 201
        return kind, call(ds, kind, pending, {})
    marker = f"?mock-error={error.id}"
    if kind in ("submit", "process", "task"):
        return kind, call(ds, kind, pending, {}, marker)
    # Errors of the task endpoints: the marker rides on the submit and hits the task's next call.
    carrier = ds.task_id(
        inputs={"person_image_url": asset("person.png") + marker, "top_garment_url": asset("top.png")}
    )
    return kind, call(ds, kind, carrier, {})


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("error", DS.errors, ids=lambda e: e.id)
def test_every_error_is_reachable_and_rendered(ds: DashScopeCaller, error: ErrorCode, way: str) -> None:
    kind, response = provoke(ds, error, way)
    assert_rendered(error, kind, response, ds)
    journal = ds.client.get("/_mock/journal", params={"tenant": ds.key}).json()["entries"]
    if kind != "task":
        assert journal[-1]["error"] == error.id
        source = journal[-1]["fault"]["source"]
        assert {
            "header": source == "header",
            "rule": source.startswith("rule-"),
            "marker": source in ("marker", "deferred"),
        }[way], source


@pytest.mark.parametrize("error", DS.errors, ids=lambda e: e.id)
def test_a_rule_for_one_request_leaves_the_next_alone(ds: DashScopeCaller, error: ErrorCode) -> None:
    kind, first = provoke(ds, error, "rule")
    assert_rendered(error, kind, first, ds)
    second = call(ds, kind, ds.task_id(), {})
    assert second.status_code == 200, second.text
    if kind == "task":
        ds.advance(3600)
        assert ds.output(second.json()["output"]["task_id"])["task_status"] == DS.lifecycle.succeeded


def test_probability_rules_are_reproducible_from_their_seed(ds: DashScopeCaller) -> None:
    def run() -> list[int]:
        ds.client.delete("/_mock/faults")
        rule = {
            "vendor": "dashscope",
            "endpoint": "list",
            "error": "Throttling",
            "probability": 0.5,
            "seed": 42,
        }
        ds.client.post("/_mock/faults", json=rule).raise_for_status()
        return [call(ds, "list", "", {}).status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 10 < first.count(429) < 30, "about half are throttled"


def test_fault_rules_stay_with_their_tenant(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-other"}]}).raise_for_status()
    rule = {"vendor": "dashscope", "tenant": "sk-other", "endpoint": "submit", "error": "Arrearage"}
    ds.client.post("/_mock/faults", json=rule).raise_for_status()
    assert ds.submit().status_code == 200
    other = DashScopeCaller(ds.client, "sk-other")
    assert other.submit().json()["code"] == "Arrearage"


@pytest.mark.parametrize("spec", ["error=NoSuchError", "network=explode", "delay=soon", "colour=red"])
def test_a_bad_fault_header_is_the_mocks_own_400(ds: DashScopeCaller, spec: str) -> None:
    response = ds.submit(**{"X-Mock-Fault": spec})
    assert response.status_code == 400
    assert response.headers["x-mock-error"] == "bad-fault" and "mock_error" in response.json()


def test_bad_fault_rules_are_refused(ds: DashScopeCaller) -> None:
    for rule in (
        {"error": "Nope"},
        {"endpoint": "nowhere", "error": "Throttling"},
        {"times": 0, "error": "Throttling"},
        {"probability": 2, "error": "Throttling"},
        {"vendor": "nobody", "error": "Throttling"},
    ):
        assert ds.client.post("/_mock/faults", json=rule).status_code == 400, rule
    assert ds.client.get("/_mock/faults").json()["rules"] == []
