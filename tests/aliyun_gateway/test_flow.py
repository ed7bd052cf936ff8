"""The whole flow through the gateway, as the signer sends it (HmacSHA256 and HmacSHA1) and as
the DAMO doc shows it with an APPCODE: submit, two queries, the results downloaded; the journal
shows exactly what was sent."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aliyun_api_gateway import ApiGatewayRequest
from PIL import Image

from mock_server.testing import Tenant
from tests.aliyun_gateway.rig import (
    QUERY,
    SUBMIT,
    VENDOR,
    Answer,
    Recording,
    asset,
    check_request_id,
    hand_sign,
    md5,
    signer,
    submit_body,
)


def run_flow(tenant: Tenant, http: httpx.Client, call: Callable[[str, dict[str, Any]], Answer]) -> str:
    """Submit one sub-task with two results, query it twice (polls:2), download the results.
    Returns the result_key."""
    tenant.timing(VENDOR, progress="polls:2")
    submitted = call(SUBMIT, submit_body(tenant))
    body = passed_gateway_answer(submitted)
    result_key = body["data"]["result_key"]
    assert isinstance(result_key, str)
    assert re.fullmatch(r"[0-9a-f]{32}", result_key)
    assert [t["status"] for t in body["data"]["task_list"]] == ["WAITING"]

    first = passed_gateway_answer(call(QUERY, {"data": {"result_key": result_key}}))
    assert first["data"]["result_key"] == result_key
    assert [t["status"] for t in first["data"]["task_list"]] != ["SUCCESS"]
    assert all("results" not in t for t in first["data"]["task_list"])

    done = passed_gateway_answer(call(QUERY, {"data": {"result_key": result_key}}))
    tasks = done["data"]["task_list"]
    assert [t["status"] for t in tasks] == ["SUCCESS"]
    assert tasks[0]["model_image"] == asset(tenant, "person.png")
    assert tasks[0]["tops_image"] == asset(tenant, "top.png")
    urls = tasks[0]["results"]
    assert len(urls) == 2 and len(set(urls)) == 2
    for url in urls:
        assert url.startswith(tenant.server.url + "/")
        image = http.get(url)
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
        picture = Image.open(io.BytesIO(image.content))
        picture.load()
        assert picture.format == "PNG"
    return result_key


def passed_gateway_answer(answer: Answer) -> dict[str, Any]:
    assert "x-ca-error-message" not in answer.headers, answer.headers
    check_request_id(answer)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert isinstance(body, dict), body
    assert body["requestId"] == answer.headers["x-ca-request-id"].replace("-", "").lower()
    assert (body["success"], body["code"], body["message"]) == (True, 0, "success")
    return body


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_full_flow_with_the_signer(tryon_mock: Tenant, http: httpx.Client, method: str) -> None:
    transport = Recording()
    client = signer(tryon_mock, signature_method=method, transport=transport)

    def call(path: str, doc: dict[str, Any]) -> Answer:
        return Answer.of(client.send(ApiGatewayRequest(method="POST", path=path, json_body=doc)))

    result_key = run_flow(tryon_mock, http, call)

    journal = tryon_mock.journal(VENDOR)
    assert [(e["endpoint"], e["status"]) for e in journal] == [
        ("submit", 200),
        ("query", 200),
        ("query", 200),
    ]
    assert [e["task_id"] for e in journal] == [result_key] * 3
    assert len(transport.sent) == 3
    cred = tryon_mock.credentials[VENDOR]
    for entry, sent in zip(journal, transport.sent, strict=True):
        headers = entry["headers"]
        assert "authorization" not in headers
        for name, value in sent.headers.items():
            assert headers[name.lower()] == value, name
        assert headers["x-ca-key"] == cred["app_key"]
        assert headers["x-ca-signature-method"] == method
        assert headers["x-ca-signature-headers"] == "X-Ca-Key,X-Ca-Nonce,X-Ca-Signature-Method,X-Ca-Timestamp"
        assert headers["content-md5"] == md5(sent.body or b"")
        assert headers["x-ca-signature"] == hand_sign(
            cred["app_secret"], sent.string_to_sign, hashlib.sha1 if method == "HmacSHA1" else hashlib.sha256
        )
        assert entry["body"] == (sent.body or b"").decode()
    assert len({e["headers"]["x-ca-nonce"] for e in journal}) == 3


def test_full_flow_with_appcode(tryon_mock: Tenant, http: httpx.Client) -> None:
    """As the DAMO doc shows: APPCODE plus X-Ca-Nonce, here one nonce for both calls as
    third-party clients do (the APPCODE path does not check nonces)."""
    code = tryon_mock.credentials[VENDOR]["appcode"]
    nonce = str(uuid.uuid4())
    headers = {"Authorization": f"APPCODE {code}", "X-Ca-Nonce": nonce, "Content-Type": "application/json"}

    def call(path: str, doc: dict[str, Any]) -> Answer:
        return Answer.of(http.post(tryon_mock.server.url + path, json=doc, headers=headers))

    result_key = run_flow(tryon_mock, http, call)

    journal = tryon_mock.journal(VENDOR)
    assert [(e["endpoint"], e["status"]) for e in journal] == [
        ("submit", 200),
        ("query", 200),
        ("query", 200),
    ]
    assert [e["task_id"] for e in journal] == [result_key] * 3
    for entry in journal:
        assert entry["headers"]["authorization"] == f"APPCODE {code}"
        assert entry["headers"]["x-ca-nonce"] == nonce
        assert "x-ca-signature" not in entry["headers"]
