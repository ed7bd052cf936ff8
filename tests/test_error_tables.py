"""Every row of every vendor's errors.json is reachable three ways (the X-Mock-Fault header, an
admin fault rule, a magic input) and is rendered exactly in that vendor's own envelope."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from xml.etree import ElementTree

import httpx2
import pytest
from starlette.testclient import TestClient

import contracts
from contracts.model import Contract, ErrorCode
from mock_server import faults
from mock_server.assets import asset_bytes
from tests.helpers import PROCESS, DashScopeCaller, asset, conforms, person_on, v2_signed

WAYS = ("header", "rule", "marker")
KINDS = ("submit", "process", "query", "cancel", "list", "upload", "task")


class Driver(Protocol):
    """How to call one vendor and how its errors look."""

    contract: Contract
    tenant: str
    client: TestClient

    def task(self, marker: str = "") -> str: ...

    def call(self, kind: str, task: str, headers: dict[str, str], marker: str = "") -> httpx2.Response: ...

    def assert_rendered(self, error: ErrorCode, kind: str, response: httpx2.Response) -> None: ...


def advance(client: TestClient, seconds: float) -> None:
    client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


class DashScopeDriver:
    contract = contracts.load("dashscope")
    endpoints = {
        "submit": "image-synthesis",
        "task": "image-synthesis",
        "process": "image-process",
        "query": "task-query",
        "cancel": "task-cancel",
        "list": "task-list",
    }

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.ds = DashScopeCaller(client)
        self.tenant = self.ds.key
        self.policy = self.ds.policy()  # asked before any fault is set: it is an upload call too

    def task(self, marker: str = "") -> str:
        return self.ds.task_id(inputs=person_on(asset("person.png") + marker))

    def call(self, kind: str, task: str, headers: dict[str, str], marker: str = "") -> httpx2.Response:
        ds = self.ds
        if kind in ("submit", "task"):
            return ds.submit(inputs=person_on(asset("person.png") + marker), headers=headers)
        if kind == "process":
            body = {
                "model": "aitryon-parsing-v1",
                "input": {"image_url": asset("top.png") + marker},
                "parameters": {"clothes_type": ["upper"]},
            }
            return ds.client.post(
                PROCESS, json=body, headers={"Authorization": f"Bearer {ds.key}", **headers}
            )
        if kind == "upload":
            return ds.upload(self.policy, asset_bytes("person.png"), f"person.png{marker}", headers)
        if kind == "query":
            return ds.query(task, headers)
        if kind == "cancel":
            return ds.client.post(f"/api/v1/tasks/{task}/cancel", headers=ds.headers(**headers))
        return ds.client.get("/api/v1/tasks", headers=ds.headers(**headers))

    def assert_rendered(self, error: ErrorCode, kind: str, response: httpx2.Response) -> None:
        if kind == "task":
            assert response.status_code == 200, response.text
            task_id = response.json()["output"]["task_id"]
            advance(self.ds.client, 3600)
            out = self.ds.output(task_id)
            assert (out["task_status"], out["code"], out["message"]) == (
                self.contract.lifecycle.failed,
                error.code,
                error.message,
            )
            return
        assert response.status_code == error.http_status, response.text
        if kind == "upload":  # OSS's own XML, whatever the row
            assert response.headers["content-type"].startswith("application/xml")
            root = ElementTree.fromstring(response.content)
            found = {child.tag: child.text or "" for child in root}
            assert root.tag == "Error" and set(found) == {"Code", "Message", "RequestId", "HostId"}
            assert (found["Code"], found["Message"]) == (error.code, error.message.replace("%s", ""))
            assert response.headers["x-oss-request-id"] == found["RequestId"]
            return
        assert response.headers["content-type"].startswith("application/json")
        body: dict[str, Any] = conforms(self.endpoints[kind], response)
        assert set(body) == {"code", "message", "request_id"}
        assert (body["code"], body["message"]) == (error.code, error.message)


class DamoDriver:
    contract = contracts.load("damo")
    endpoints = {"submit": "submit", "task": "submit", "query": "query"}

    def __init__(self, client: TestClient) -> None:
        self.client = client
        default = next(c for c in self.contract.default_credentials if "appcode" in c)
        self.headers = {"Authorization": f"APPCODE {default['appcode']}"}
        self.tenant = default["tenant"]

    def _submit(self, headers: dict[str, str], marker: str = "", position: int = 0) -> httpx2.Response:
        marks = [marker if i == position else "" for i in range(2)]
        task_list = [{"model_image": asset("person.png") + m, "tops_image": asset("top.png")} for m in marks]
        body = {"data": {"fit_type": "HALF_BODY", "task_list": task_list}}
        return self.client.post("/api/v1/tryon/submit", json=body, headers={**self.headers, **headers})

    def batch_with_marker(self, marker: str, position: int) -> str:
        return str(self._submit({}, marker, position).json()["data"]["result_key"])

    def sub_task_statuses(self, batch: str) -> list[str]:
        answer = self.call("query", batch, {})
        return [t["status"] for t in conforms("query", answer, "damo")["data"]["task_list"]]

    def task(self, marker: str = "") -> str:
        response = self._submit({}, marker)
        assert response.status_code == 200, response.text
        result_key = response.json()["data"]["result_key"]
        assert isinstance(result_key, str)
        return result_key

    def call(self, kind: str, task: str, headers: dict[str, str], marker: str = "") -> httpx2.Response:
        if kind in ("submit", "task"):
            return self._submit(headers, marker)
        body = {"data": {"result_key": task}}
        return self.client.post("/api/v1/tryon/query", json=body, headers={**self.headers, **headers})

    def assert_rendered(self, error: ErrorCode, kind: str, response: httpx2.Response) -> None:
        request_id = response.headers["x-ca-request-id"]
        assert request_id == request_id.upper() and len(request_id) == 36
        if kind == "task":
            assert response.status_code == 200, response.text
            advance(self.client, 3600)
            answer = self.call("query", response.json()["data"]["result_key"], {})
            statuses = [t["status"] for t in conforms("query", answer, "damo")["data"]["task_list"]]
            life = self.contract.lifecycle
            assert statuses == [life.failed, life.succeeded], "only the first sub-task fails"
            return
        assert response.status_code == error.http_status, response.text
        if error.envelope == "gateway":
            assert response.content == b""
            assert response.headers["x-ca-error-message"] == error.text()
            assert "x-ca-error-code" not in response.headers
            return
        body = conforms(self.endpoints[kind], response, "damo")
        assert (body["code"], body["message"], body["success"]) == (error.code, error.message, False)
        assert body["requestId"] == request_id.lower().replace("-", "")


class AILabToolsDriver:
    contract = contracts.load("ailabtools")
    endpoints = {
        "submit": "try-on-clothes-pro",
        "task": "try-on-clothes-pro",
        "query": "query-async-task-result",
    }

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tenant = self.contract.default_credentials[0]["api_key"]
        self.headers = {"ailabapi-api-key": self.tenant}
        self.images = {
            name: client.get(f"/_mock/assets/{name}").content for name in ("person.png", "top.png")
        }

    def _submit(self, headers: dict[str, str], marker: str = "") -> httpx2.Response:
        # A file part carries no URL, so the magic marker rides in a text field.
        files = {
            "person_image": ("p.png", self.images["person.png"]),
            "top_garment": ("t.png", self.images["top.png"]),
        }
        data = {"task_type": "async", "resolution": "-1"}
        if marker:
            data["note"] = marker
        return self.client.post(
            "/api/portrait/editing/try-on-clothes-pro",
            data=data,
            files=files,
            headers={**self.headers, **headers},
        )

    def task(self, marker: str = "") -> str:
        response = self._submit({}, marker)
        assert response.status_code == 200, response.text
        return str(response.json()["task_id"])

    def call(self, kind: str, task: str, headers: dict[str, str], marker: str = "") -> httpx2.Response:
        if kind in ("submit", "task"):
            return self._submit(headers, marker)
        return self.client.get(
            "/api/common/query-async-task-result",
            params={"task_id": task},
            headers={**self.headers, **headers},
        )

    def assert_rendered(self, error: ErrorCode, kind: str, response: httpx2.Response) -> None:
        if kind == "task":
            assert response.status_code == 200, response.text
            advance(self.client, 3600)
            response = self.call("query", response.json()["task_id"], {})
            kind = "query"
        assert response.status_code == error.http_status, response.text
        body = conforms(self.endpoints[kind], response, "ailabtools")
        detail = body["error_detail"]
        assert (detail["status_code"], detail["code"], detail["code_message"]) == (
            error.http_status,
            error.code,
            error.message,
        )
        assert (body["error_code"], body["error_code_str"]) == (error.http_status, error.code)
        assert body["error_msg"] == detail["message"] and detail["message"].startswith(error.message)


class AidgeDriver:
    """Signs every call the way the official v2 samples do."""

    contract = contracts.load("aidge")
    endpoints = {"submit": "tryon", "task": "tryon", "query": "tryon-results", "list": "balance"}

    def __init__(self, client: TestClient) -> None:
        self.client = client
        cred = self.contract.default_credentials[0]
        self.tenant, self.secret = cred["app_key"], cred["app_secret"]

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx2.Response:
        query = v2_signed(self.tenant, self.secret)
        return self.client.post(
            f"/rest{path}", params=query, json=body, headers={"x-iop-trial": "true", **headers}
        )

    def _submit(self, headers: dict[str, str], marker: str = "", position: int = 0) -> httpx2.Response:
        marks = [marker if i == position else "" for i in range(2)]
        items = [
            {"clothesList": [{"imageUrl": asset("top.png") + m, "type": "tops"}], "generateCount": 1}
            for m in marks
        ]
        return self._post("/ai/virtual/tryon", {"requestParams": json.dumps(items)}, headers)

    def task(self, marker: str = "") -> str:
        response = self._submit({}, marker)
        assert response.json()["resCode"] == 200, response.text
        return str(response.json()["data"]["result"]["taskId"])

    def batch_with_marker(self, marker: str, position: int) -> str:
        return str(self._submit({}, marker, position).json()["data"]["result"]["taskId"])

    def sub_task_statuses(self, batch: str) -> list[str]:
        answer = self.call("query", batch, {})
        return [t["taskStatus"] for t in conforms("tryon-results", answer, "aidge")["data"]["taskResult"]]

    def call(self, kind: str, task: str, headers: dict[str, str], marker: str = "") -> httpx2.Response:
        if kind in ("submit", "task"):
            return self._submit(headers, marker)
        if kind == "query":
            return self._post("/ai/virtual/tryon-results", {"task_id": task}, headers)
        return self._post("/ai/query/balance", {"apiPath": "/ai/virtual/tryon"}, headers)

    def assert_rendered(self, error: ErrorCode, kind: str, response: httpx2.Response) -> None:
        assert response.status_code == error.http_status, response.text
        if kind == "task":
            advance(self.client, 3600)
            answer = self.call("query", response.json()["data"]["result"]["taskId"], {})
            data = conforms("tryon-results", answer, "aidge")["data"]
            life = self.contract.lifecycle
            assert [t["taskStatus"] for t in data["taskResult"]] == [life.failed, life.succeeded]
            assert data["taskStatus"] == life.succeeded, "a task with one finished sub-task is finished"
            return
        body = conforms(self.endpoints[kind], response, "aidge", schema="error.response.schema.json")
        if error.envelope == "gateway":
            assert (body["type"], body["code"], body["message"]) == ("ISV", error.code, error.message)
            return
        assert (body["code"], body["resCode"], body["success"]) == ("0", error.code, False)
        assert body["resMessage"].startswith(error.message)


DRIVERS: dict[str, Callable[[TestClient], Driver]] = {
    "dashscope": DashScopeDriver,
    "damo": DamoDriver,
    "ailabtools": AILabToolsDriver,
    "aidge": AidgeDriver,
}
CASES = [(name, error) for name in contracts.vendor_names() for error in contracts.load(name).errors]


def test_every_vendor_has_a_driver() -> None:
    assert set(DRIVERS) == set(contracts.vendor_names())


def home(error: ErrorCode) -> str:
    """The endpoint kind where the walk provokes this error."""
    return next(kind for kind in KINDS if error.can_occur(kind))


def provoke(driver: Driver, error: ErrorCode, way: str) -> tuple[str, httpx2.Response]:
    kind = home(error)
    task = driver.task()
    if way == "header":
        spec = f"error={error.id}" + ("; at=task" if kind == "task" else "")
        return kind, driver.call(kind, task, {"X-Mock-Fault": spec})
    if way == "rule":
        rule = {
            "vendor": driver.contract.name,
            "tenant": driver.tenant,
            "error": error.id,
            "times": 1,
            "endpoint": "submit" if kind == "task" else kind,
        }
        assert driver.client.post("/_mock/faults", json=rule).status_code == 201
        return kind, driver.call(kind, task, {})
    marker = f"?mock-error={error.id}"
    if kind in ("submit", "process", "upload", "task"):
        return kind, driver.call(kind, task, {}, marker)
    # Errors of the task endpoints ride on a submit: they end the task where they can, else they
    # hit the task's next call.
    if faults.place(error, "submit") == "task":
        return "task", driver.call("submit", "", {}, marker)
    return kind, driver.call(kind, driver.task(marker), {})


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("vendor", "error"), CASES, ids=[f"{v}-{e.id}" for v, e in CASES])
def test_every_error_is_reachable_and_rendered(
    client: TestClient, vendor: str, error: ErrorCode, way: str
) -> None:
    driver = DRIVERS[vendor](client)
    kind, response = provoke(driver, error, way)
    driver.assert_rendered(error, kind, response)
    if kind == "task":
        return
    entry = client.get("/_mock/journal", params={"tenant": driver.tenant}).json()["entries"][-1]
    assert entry["error"] == error.id
    source = entry["fault"]["source"]
    assert {
        "header": source == "header",
        "rule": source.startswith("rule-"),
        "marker": source in ("marker", "deferred"),
    }[way], source


@pytest.mark.parametrize(("vendor", "error"), CASES, ids=[f"{v}-{e.id}" for v, e in CASES])
def test_a_rule_for_one_request_leaves_the_next_alone(
    client: TestClient, vendor: str, error: ErrorCode
) -> None:
    driver = DRIVERS[vendor](client)
    kind, first = provoke(driver, error, "rule")
    driver.assert_rendered(error, kind, first)
    second = driver.call("submit" if kind == "task" else kind, driver.task(), {})
    assert second.status_code == 200, second.text
