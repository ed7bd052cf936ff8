"""Which credentials the gateway takes: an unknown AppKey, an APPCODE used as an AppKey and the
other way round, and an empty or missing signature."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from aliyun_api_gateway import ApiGatewayClient

from mock_server.testing import Tenant
from tests.aliyun_gateway.rig import CONTRACT, QUERY, VENDOR, gateway_error, query_request


def test_unknown_app_key(tryon_mock: Tenant) -> None:
    client = ApiGatewayClient(tryon_mock.server.url, "no-such-app-key", "whatever")
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.invalid_key"))


def test_appcode_used_as_app_key(tryon_mock: Tenant) -> None:
    code = tryon_mock.credentials[VENDOR]["appcode"]
    client = ApiGatewayClient(tryon_mock.server.url, code, tryon_mock.credentials[VENDOR]["app_secret"])
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.invalid_key"))


def test_app_key_as_appcode(tryon_mock: Tenant, http: httpx.Client) -> None:
    key = tryon_mock.credentials[VENDOR]["app_key"]
    response = http.post(
        tryon_mock.server.url + QUERY,
        json={"data": {"result_key": "x"}},
        headers={"Authorization": f"APPCODE {key}"},
    )
    gateway_error(response, CONTRACT.trigger("auth.invalid"))


@pytest.mark.parametrize("signature", [None, ""])
def test_empty_signature(tryon_mock: Tenant, http: httpx.Client, signature: str | None) -> None:
    error = CONTRACT.trigger("auth.empty_signature")
    assert error.http_status == 404
    headers = {
        "X-Ca-Key": tryon_mock.credentials[VENDOR]["app_key"],
        "X-Ca-Timestamp": str(int(time.time() * 1000)),
        "X-Ca-Nonce": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if signature is not None:
        headers["X-Ca-Signature"] = signature
    response = http.post(tryon_mock.server.url + QUERY, json={"data": {"result_key": "x"}}, headers=headers)
    gateway_error(response, error)
