"""What the DAMO tests share: the contract's routes, phases and default APPCODE, a sub-task on
the sample images, a caller of the DAMO routes of an in-process app as the Marketplace sample
code calls them (APPCODE), and the shapes of its answers: a success, the backend's error in its
envelope, and the gateway's own error (an empty body, the message in X-Ca-Error-Message)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx2
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from tests.helpers import asset, conforms

DAMO = contracts.load("damo")
DS = contracts.load("dashscope")
LIFE = DAMO.lifecycle
OP = DAMO.operations["tryon"]
DEFAULTS = next(c for c in DAMO.default_credentials if "appcode" in c)
APPCODE = DEFAULTS["appcode"]
TENANT = DEFAULTS["tenant"]
SUBMIT = DAMO.endpoint("submit").paths[0]
QUERY = DAMO.endpoint("query").paths[0]
UPPER_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
HEX32 = re.compile(r"[0-9a-f]{32}")
WAITING, RUNNING = (p.status for p in LIFE.phases)


def sub_task(model: str = "person.png", **images: str) -> dict[str, str]:
    """One sub-task on sample images: a model photo and (unless given otherwise) the sample top."""
    item = {"model_image": asset(model)}
    item.update(images or {"tops_image": asset("top.png")})
    return item


class DamoCaller:
    """Calls the DAMO routes of an in-process app as the Marketplace sample code does (APPCODE).
    Extra headers come as a mapping: their names (X-Ca-Stage, ...) are no Python keywords."""

    def __init__(self, client: TestClient, appcode: str = APPCODE) -> None:
        self.client = client
        self.appcode = appcode

    def tasks_kept(self) -> int:
        """How many tasks the mock keeps (its health answer)."""
        count: int = self.client.get("/_mock/health").json()["tasks"]
        return count

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"APPCODE {self.appcode}", "Content-Type": "application/json", **extra}

    def post(
        self,
        path: str,
        doc: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        sent = self.headers(**(headers or {}))
        if content is None:
            return self.client.post(path, json=doc, headers=sent)
        return self.client.post(path, content=content, headers=sent)

    def submit(
        self,
        task_list: list[dict[str, Any]] | None = None,
        fit_type: str = "HALF_BODY",
        inference_num: float | None = None,  # a JSON number: a float such as 2.0 is sent as it is
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        data: dict[str, Any] = {"fit_type": fit_type, "task_list": task_list or [sub_task()]}
        if inference_num is not None:
            data["inference_num"] = inference_num
        return self.post(SUBMIT, {"data": data}, headers=headers)

    def result_key(
        self,
        task_list: list[dict[str, Any]] | None = None,
        fit_type: str = "HALF_BODY",
        inference_num: float | None = None,
    ) -> str:
        response = self.submit(task_list, fit_type, inference_num)
        assert response.status_code == 200, response.text
        return str(conforms("submit", response, vendor="damo")["data"]["result_key"])

    def query(self, result_key: str, headers: Mapping[str, str] | None = None) -> httpx2.Response:
        return self.post(QUERY, {"data": {"result_key": result_key}}, headers=headers)

    def batch(self, result_key: str) -> list[dict[str, Any]]:
        response = self.query(result_key)
        assert response.status_code == 200, response.text
        body = conforms("query", response, vendor="damo")
        assert body["data"]["result_key"] == result_key
        return list(body["data"]["task_list"])

    def statuses(self, result_key: str) -> list[str]:
        return [item["status"] for item in self.batch(result_key)]

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


# -- answer shapes ------------------------------------------------------------------------------


def request_id(response: httpx2.Response) -> str:
    """The gateway's X-Ca-Request-Id, checked to be an uppercase UUID."""
    rid = response.headers.get("x-ca-request-id", "")
    assert UPPER_UUID.fullmatch(rid), f"X-Ca-Request-Id {rid!r} is not an uppercase UUID"
    return rid


def assert_ids_match(response: httpx2.Response, body: dict[str, Any]) -> None:
    assert body["requestId"] == request_id(response).lower().replace("-", "")


def ok(response: httpx2.Response, endpoint_id: str = "submit") -> dict[str, Any]:
    """A success answer: 200, the contract's schema, the vendor's content type, matching ids."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = conforms(endpoint_id, response, vendor="damo")
    assert response.headers["content-type"] == DAMO.endpoint(endpoint_id).content_type
    assert_ids_match(response, body)
    return body


def assert_backend_error(response: httpx2.Response, error: ErrorCode, endpoint_id: str = "submit") -> None:
    assert error.envelope is None, f"{error.id} is a gateway row"
    assert response.status_code == error.http_status, response.text
    body = conforms(endpoint_id, response, vendor="damo")
    assert body == {
        "code": str(error.code),
        "message": error.message,
        "requestId": body["requestId"],
        "success": False,
    }
    assert HEX32.fullmatch(body["requestId"])
    assert_ids_match(response, body)
    assert "x-ca-error-message" not in response.headers
    assert "x-ca-error-code" not in response.headers


def assert_gateway_error(response: httpx2.Response, error: ErrorCode, with_code: bool = False) -> None:
    assert error.envelope == "gateway", f"{error.id} is a backend row"
    assert response.status_code == error.http_status, response.text
    assert response.content == b"", "the gateway answers its own errors with an empty body"
    assert response.headers["x-ca-error-message"] == error.message
    request_id(response)
    if with_code:
        assert response.headers["x-ca-error-code"] == str(error.code)
    else:
        assert "x-ca-error-code" not in response.headers
