"""DashScope's temporary storage through HTTP: the upload policy, the upload host (an OSS
PostObject form, checked as OSS checks it), and ``oss://`` inputs that resolve only with the
resolve header, only for the tenant that uploaded, and only for 48 hours."""

from __future__ import annotations

import base64
import json
from typing import Any
from xml.etree import ElementTree

import httpx2
import pytest
from starlette.testclient import TestClient

from mock_server.assets import asset_bytes
from tests.helpers import DashScopeCaller, asset, conforms

RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}
HOURS_48 = 48 * 3600


def advance(client: TestClient, seconds: float) -> None:
    client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


def oss_error(response: httpx2.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Error"
    found = {child.tag: child.text or "" for child in root}
    return response.status_code, found["Code"], found["Message"]


def uploaded(ds: DashScopeCaller, name: str = "person.png", model: str = "aitryon") -> str:
    """An ``oss://`` URL of the named sample asset, uploaded through a fresh policy."""
    policy = ds.policy(model)
    response = ds.upload(policy, asset_bytes(name), name)
    assert response.status_code == 200, response.text
    assert response.content == b""
    return f"oss://{policy['upload_dir']}/{name}"


def finished(
    ds: DashScopeCaller, client: TestClient, inputs: dict[str, str], **headers: str
) -> dict[str, Any]:
    task_id = ds.task_id(inputs=inputs, headers=headers)
    advance(client, 3600)
    response = ds.query(task_id)
    output: dict[str, Any] = conforms("task-query", response)["output"]
    return output


def test_the_policy_is_the_sdks_shape_and_names_the_mock_as_upload_host(ds: DashScopeCaller) -> None:
    policy = ds.policy("aitryon")
    assert policy["upload_host"] == "http://testserver/oss/dashscope-file-mgr"
    assert policy["upload_dir"].startswith("dashscope-instant/")
    assert policy["max_file_size_mb"] == 5  # the try-on models' image limit
    assert (policy["x_oss_object_acl"], policy["x_oss_forbid_overwrite"]) == ("private", "true")
    document = json.loads(base64.b64decode(policy["policy"]))
    assert ["starts-with", "$key", policy["upload_dir"]] in document["conditions"]
    assert policy["expire_in_seconds"] == 300


def test_the_policy_call_checks_its_key_and_parameters(client: TestClient, ds: DashScopeCaller) -> None:
    path = "/api/v1/uploads"
    assert (
        client.get(path, params={"action": "getPolicy", "model": "aitryon"}).json()["code"] == "InvalidApiKey"
    )
    missing = client.get(path, params={"action": "getPolicy"}, headers=ds.headers())
    assert (missing.status_code, missing.json()["code"]) == (400, "BadRequest.EmptyModel")
    unknown = client.get(path, params={"action": "getPolicy", "model": "nope"}, headers=ds.headers())
    assert (unknown.status_code, unknown.json()["code"]) == (400, "InvalidParameter")


def test_an_uploaded_file_is_a_try_on_input_with_the_resolve_header(
    client: TestClient, ds: DashScopeCaller
) -> None:
    inputs = {"person_image_url": uploaded(ds, "person.png"), "top_garment_url": uploaded(ds, "top.png")}
    output = finished(ds, client, inputs, **RESOLVE)
    assert output["task_status"] == "SUCCEEDED", output
    assert client.get(output["image_url"]).status_code == 200


def test_without_the_resolve_header_an_oss_url_is_unreachable(
    client: TestClient, ds: DashScopeCaller
) -> None:
    inputs = {"person_image_url": uploaded(ds), "top_garment_url": asset("top.png")}
    output = finished(ds, client, inputs)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidURL")


def test_an_uploaded_file_resolves_for_its_tenant_only(client: TestClient, ds: DashScopeCaller) -> None:
    other = DashScopeCaller(client, key="sk-other-tenant")
    client.post("/_mock/credentials", json={"dashscope": [{"api_key": other.key}]}).raise_for_status()
    inputs = {"person_image_url": uploaded(ds), "top_garment_url": asset("top.png")}
    output = finished(other, client, inputs, **RESOLVE)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidURL")
    assert finished(ds, client, inputs, **RESOLVE)["task_status"] == "SUCCEEDED"


def test_an_uploaded_file_expires_after_48_hours(client: TestClient, ds: DashScopeCaller) -> None:
    inputs = {"person_image_url": uploaded(ds), "top_garment_url": asset("top.png")}
    advance(client, HOURS_48 - 60)
    assert finished(ds, client, inputs, **RESOLVE)["task_status"] == "SUCCEEDED"  # an hour passes in it
    output = finished(ds, client, inputs, **RESOLVE)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidURL")


def test_an_unknown_oss_key_is_unreachable(client: TestClient, ds: DashScopeCaller) -> None:
    policy = ds.policy()
    inputs = {
        "person_image_url": f"oss://{policy['upload_dir']}/never.png",
        "top_garment_url": asset("top.png"),
    }
    output = finished(ds, client, inputs, **RESOLVE)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidURL")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, (403, "SignatureDoesNotMatch")),
        ({"OSSAccessKeyId": "LTAI5tSomebodyElse"}, (403, "InvalidAccessKeyId")),
        ({"OSSAccessKeyId": "LTAI5t\u00e9"}, (403, "InvalidAccessKeyId")),  # not ASCII: no crash
        ({"Signature": "\u7b7e\u540d"}, (403, "SignatureDoesNotMatch")),
        ({"key": "dashscope-instant/elsewhere/person.png"}, (403, "AccessDenied")),
        ({"x-oss-object-acl": "public-read"}, (403, "AccessDenied")),
    ],
)
def test_the_upload_host_checks_the_policy(
    ds: DashScopeCaller, changes: dict[str, str], expected: tuple[int, str]
) -> None:
    response = ds.upload(ds.policy(), asset_bytes("person.png"), "person.png", None, **changes)
    status, code, message = oss_error(response)
    assert (status, code) == expected
    if changes.get("key"):
        assert message.startswith("Invalid according to Policy: Policy Condition failed: ")
        assert "starts-with" in message


def test_an_expired_policy_is_refused(client: TestClient, ds: DashScopeCaller) -> None:
    policy = ds.policy()
    advance(client, 301)
    assert oss_error(ds.upload(policy, asset_bytes("person.png"))) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_a_file_over_the_models_limit_and_an_overwrite_are_refused(ds: DashScopeCaller) -> None:
    policy = ds.policy()
    too_big = oss_error(ds.upload(policy, b"\0" * (5 * 1024 * 1024 + 1), "big.png"))
    assert too_big[:2] == (400, "EntityTooLarge")
    assert ds.upload(policy, asset_bytes("person.png")).status_code == 200
    assert oss_error(ds.upload(policy, asset_bytes("top.png")))[:2] == (409, "FileAlreadyExists")


def test_a_form_without_the_file_is_malformed(client: TestClient, ds: DashScopeCaller) -> None:
    policy = ds.policy()
    form = {"OSSAccessKeyId": policy["oss_access_key_id"], "key": f"{policy['upload_dir']}/x.png"}
    answer = client.post("/oss/dashscope-file-mgr", data=form)
    assert oss_error(answer)[:2] == (400, "MalformedPOSTRequest")


def test_success_action_status_picks_the_answer(ds: DashScopeCaller) -> None:
    policy = ds.policy()
    assert (
        ds.upload(policy, asset_bytes("person.png"), "a.png", success_action_status="201").status_code == 201
    )
    answer = ds.upload(policy, asset_bytes("person.png"), "b.png", success_action_status="")
    assert (answer.status_code, answer.content) == (204, b"")
