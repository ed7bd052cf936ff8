"""What the gateway tests share: the DAMO contract and routes, an answer from either client seen
the same way, the gateway's own error and an answer that passed the gateway, the PyPI signer (with
a transport that keeps what it sent), a signed request sent with its body or headers changed after
signing, and the digests the signature is made of."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from aliyun_api_gateway import ApiGatewayClient, ApiGatewayRequest, ApiGatewayResponse, SignedRequest
from aliyun_api_gateway.transport import HttpTransport

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server.testing import Tenant

VENDOR = "damo"
CONTRACT = contracts.load(VENDOR)
SUBMIT = "/api/v1/tryon/submit"
QUERY = "/api/v1/tryon/query"
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
MINUTE = 60.0


@dataclass
class Answer:
    """An answer from either client, seen the same way."""

    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @classmethod
    def of(cls, response: ApiGatewayResponse | httpx.Response) -> Answer:
        if isinstance(response, httpx.Response):
            return cls(
                response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
            )
        return cls(response.status, {k.lower(): v for k, v in response.headers}, response.body)

    def json(self) -> Any:
        return json.loads(self.body)


def check_request_id(answer: Answer) -> str:
    request_id = answer.headers.get("x-ca-request-id", "")
    assert REQUEST_ID.match(request_id), f"X-Ca-Request-Id {request_id!r} is not an uppercase UUID"
    return request_id


def gateway_error(response: ApiGatewayResponse | httpx.Response, error: ErrorCode, detail: str = "") -> None:
    """The gateway's own answer: the row's status, an empty body, its text in X-Ca-Error-Message."""
    answer = Answer.of(response)
    assert error.envelope == "gateway"
    assert (answer.status, answer.headers.get("x-ca-error-message")) == (
        error.http_status,
        error.text(detail),
    ), answer.body
    assert answer.body == b""
    assert answer.headers.get("content-length") == "0"
    assert "x-ca-error-code" not in answer.headers  # classic instances send none (option off)
    check_request_id(answer)


def passed_gateway(response: ApiGatewayResponse | httpx.Response, trigger: Situation) -> Any:
    """Past the gateway: no gateway error, the backend's own error ``trigger`` in its envelope."""
    answer = Answer.of(response)
    assert "x-ca-error-message" not in answer.headers, answer.headers
    request_id = check_request_id(answer)
    body = answer.json()
    assert body["requestId"] == request_id.replace("-", "").lower()
    error = CONTRACT.trigger(trigger)
    assert (answer.status, body["code"], body["success"]) == (error.http_status, str(error.code), False)
    assert body["message"] == error.text()
    return body


def unsigned_text(text: str) -> str:
    """The string-to-sign as the gateway shows it back in a header."""
    return text.replace("\n", "#")


def asset(tenant: Tenant, name: str) -> str:
    return f"{tenant.server.url}/_mock/assets/{name}"


def submit_body(tenant: Tenant) -> dict[str, Any]:
    return {
        "data": {
            "fit_type": "HALF_BODY",
            "inference_num": 2,
            "task_list": [
                {"model_image": asset(tenant, "person.png"), "tops_image": asset(tenant, "top.png")}
            ],
        }
    }


def query_request(result_key: str = "0" * 32, **kwargs: Any) -> ApiGatewayRequest:
    return ApiGatewayRequest(
        method="POST", path=QUERY, json_body={"data": {"result_key": result_key}}, **kwargs
    )


class Recording(HttpTransport):
    """The signer's own transport, keeping what it sent."""

    def __init__(self) -> None:
        self.sent: list[SignedRequest] = []

    def send(self, request: SignedRequest, **kwargs: Any) -> ApiGatewayResponse:
        self.sent.append(request)
        return super().send(request, **kwargs)


def signer(tenant: Tenant, **kwargs: Any) -> ApiGatewayClient:
    cred = tenant.credentials[VENDOR]
    options: dict[str, Any] = {"app_key": cred["app_key"], "app_secret": cred["app_secret"], **kwargs}
    return ApiGatewayClient(tenant.server.url, **options)


def send_signed(
    http: httpx.Client, signed: SignedRequest, body: bytes | None = None, **headers: str
) -> httpx.Response:
    """A signed request sent by httpx, with its body or headers changed after signing."""
    merged = {**signed.headers}
    for field, value in headers.items():
        name = field.replace("_", "-")
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    content = signed.body if body is None else body
    return http.request(signed.method, signed.url, headers=merged, content=content or b"")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def hand_sign(secret: str, text: str, digest: Callable[..., Any] = hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), digest).digest()).decode()


def mock_now(tenant: Tenant) -> float:
    return float(tenant.server.admin("GET", "/clock").json()["now"])
