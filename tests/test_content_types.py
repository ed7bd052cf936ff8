"""Where a vendor's page marks a request's Content-Type required, the contract says so
(``request_media_types``) and the engine answers a body declared otherwise, or not declared, with
the vendor's ``header.content_type`` error: DashScope and DAMO (JSON), AILabTools (multipart, in
tests/test_ailabtools_bodies.py). What real clients send stays accepted: charset parameters (the
dashscope SDK, the gateway signers), DAMO's application/octet-stream (Alibaba's signing demo). An
empty body keeps the vendor's empty-body answer. Aidge's pages require none: it reads any."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

import contracts
from tests.aidge_rig import STANDARD, Aidge, accepted, item
from tests.damo_rig import APPCODE, DAMO, QUERY, SUBMIT, assert_backend_error, ok, sub_task
from tests.helpers import KEY, PROCESS, SYNTHESIS, asset, conforms

DS = contracts.load("dashscope")
WRONG = {
    "missing": None,
    "text": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "xml": "text/json",
}
DS_BODIES = {
    SYNTHESIS: {
        "model": "aitryon",
        "input": {"person_image_url": asset("person.png"), "top_garment_url": asset("top.png")},
    },
    PROCESS: {
        "model": "aitryon-parsing-v1",
        "input": {"image_url": asset("top.png")},
        "parameters": {"clothes_type": ["upper"]},
    },
}


def ds_post(client: TestClient, path: str, content_type: str | None, body: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {KEY}"}
    if path == SYNTHESIS:
        headers["X-DashScope-Async"] = "enable"
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = json.dumps(DS_BODIES[path]).encode() if body is None else body
    return client.post(path, content=raw, headers=headers)


@pytest.mark.parametrize("path", [SYNTHESIS, PROCESS])
@pytest.mark.parametrize("kind", list(WRONG))
def test_dashscope_refuses_a_body_not_declared_json(client: TestClient, path: str, kind: str) -> None:
    response = ds_post(client, path, WRONG[kind])
    error = DS.trigger("header.content_type")
    assert (response.status_code, error.code) == (400, "BadRequest.IllegalInput"), response.text
    endpoint = "image-synthesis" if path == SYNTHESIS else "image-process"
    body = conforms(endpoint, response)
    assert body == {"code": error.code, "message": error.message, "request_id": body["request_id"]}
    assert error.message == "The input parameter requires json format."


@pytest.mark.parametrize("path", [SYNTHESIS, PROCESS])
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
    ],
)
def test_dashscope_takes_json_with_any_parameters(client: TestClient, path: str, content_type: str) -> None:
    """The official SDK sends 'application/json; charset=utf-8'."""
    response = ds_post(client, path, content_type)
    assert response.status_code == 200, response.text


def test_dashscope_empty_body_keeps_its_body_error(client: TestClient) -> None:
    response = ds_post(client, SYNTHESIS, None, b"")
    assert response.json()["message"] == DS.trigger("body.invalid").message


def damo_post(client: TestClient, path: str, content_type: str | None, doc: object) -> Any:
    headers = {"Authorization": f"APPCODE {APPCODE}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = b"" if doc is None else json.dumps(doc).encode()
    return client.post(path, content=raw, headers=headers)


SUBMIT_DOC = {"data": {"fit_type": "HALF_BODY", "task_list": [sub_task()]}}


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
@pytest.mark.parametrize("kind", list(WRONG))
def test_damo_refuses_a_body_not_declared_json(client: TestClient, path: str, kind: str) -> None:
    doc = SUBMIT_DOC if path == SUBMIT else {"data": {"result_key": "0" * 32}}
    response = damo_post(client, path, WRONG[kind], doc)
    error = DAMO.trigger("header.content_type")
    assert (error.code, error.envelope) == ("23500013", None)
    assert_backend_error(response, error, "submit" if path == SUBMIT else "query")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=UTF-8", "application/octet-stream"],
)
def test_damo_takes_json_and_the_signing_demos_octet_stream(client: TestClient, content_type: str) -> None:
    submitted = ok(damo_post(client, SUBMIT, content_type, SUBMIT_DOC))
    query = {"data": {"result_key": submitted["data"]["result_key"]}}
    ok(damo_post(client, QUERY, content_type, query), "query")


def test_damo_empty_body_keeps_its_missing_body_error(client: TestClient) -> None:
    assert_backend_error(damo_post(client, SUBMIT, None, None), DAMO.trigger("body.empty"))


@pytest.mark.parametrize("kind", [k for k in WRONG if k != "form"])
def test_aidge_requires_no_content_type(aidge: Aidge, kind: str) -> None:
    """Aidge's pages mark none: the v2 JSON body is read whatever its Content-Type says (but a
    form, which is read as the form the IOP SDKs send)."""
    body = json.dumps({"requestParams": json.dumps([item(generateCount=1)])}).encode()
    headers = {"x-iop-trial": "true"}
    declared = WRONG[kind]
    if declared is not None:
        headers["Content-Type"] = declared
    url = contracts.load("aidge").base_path + STANDARD
    accepted(aidge.client.post(url, params=aidge.signed(), content=body, headers=headers))
