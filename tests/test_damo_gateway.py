"""The Alibaba Cloud API Gateway's own answers in front of DAMO, through HTTP, in-process: a
wrong APPCODE, no credential, an unknown path or method, a DashScope key on the shared base path,
the stage header, the error-code option, and a fresh request id on every answer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.damo_rig import (
    DAMO,
    DS,
    QUERY,
    SUBMIT,
    DamoCaller,
    assert_backend_error,
    assert_gateway_error,
    ok,
    request_id,
)
from tests.helpers import KEY as DASHSCOPE_KEY

# -- the gateway --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
def test_wrong_appcode_is_the_gateways_invalid_appcode(client: TestClient, path: str) -> None:
    expected = DAMO.trigger("auth.invalid")
    assert "`" in expected.message
    response = DamoCaller(client, "not-a-registered-code").post(path, {"data": {"result_key": "x"}})
    assert_gateway_error(response, expected)


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
def test_no_credential_is_the_backend_authorization_error(client: TestClient, path: str) -> None:
    response = client.post(path, json={"data": {"result_key": "x"}})
    endpoint_id = "submit" if path == SUBMIT else "query"
    assert_backend_error(response, DAMO.trigger("auth.missing"), endpoint_id)


def test_unknown_path_and_wrong_method_are_invalid_url(damo: DamoCaller) -> None:
    expected = DAMO.trigger("route.unknown")
    assert_gateway_error(damo.post("/api/v1/tryon/nowhere", {"data": {}}), expected)
    assert_gateway_error(damo.client.get(SUBMIT, headers=damo.headers()), expected)
    assert_gateway_error(damo.client.get(QUERY, headers=damo.headers()), expected)


def test_shared_base_path_unknown_path_with_a_dashscope_key(client: TestClient) -> None:
    expected = DS.trigger("route.unknown")
    response = client.post(
        "/api/v1/tryon/nowhere", json={"data": {}}, headers={"Authorization": f"Bearer {DASHSCOPE_KEY}"}
    )
    assert response.status_code == expected.http_status
    assert response.json()["code"] == expected.code
    assert "x-ca-error-message" not in response.headers


def test_stage_header(damo: DamoCaller) -> None:
    assert_gateway_error(damo.submit(headers={"X-Ca-Stage": "NOPE"}), DAMO.trigger("route.unknown"))
    for stage in ("TEST", "PRE", "RELEASE"):
        ok(damo.submit(headers={"X-Ca-Stage": stage}))


def test_gateway_error_code_is_an_option() -> None:
    app = create_app(Settings(speed=0, options={"damo": {"gateway_error_code": "on"}}))
    client = TestClient(app)
    damo = DamoCaller(client)
    assert_gateway_error(DamoCaller(client, "nope").submit(), DAMO.trigger("auth.invalid"), with_code=True)
    assert_gateway_error(
        damo.post("/api/v1/tryon/nowhere", {"data": {}}), DAMO.trigger("route.unknown"), with_code=True
    )
    # backend errors never carry it: its absence is how clients tell the two apart
    assert_backend_error(damo.query("0" * 32), DAMO.trigger("task.unknown"), "query")


def test_every_answer_carries_a_fresh_request_id(damo: DamoCaller) -> None:
    answers = [
        damo.submit(),
        damo.query("0" * 32),
        DamoCaller(damo.client, "nope").submit(),
        damo.client.post(SUBMIT, json={}),
    ]
    ids = [request_id(r) for r in answers]
    assert len(set(ids)) == len(ids)
