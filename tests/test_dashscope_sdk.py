"""The official ``dashscope`` SDK (2.0.2) driven against the real mock server.

Every call goes through ``dashscope.client.base_api.BaseAsyncApi`` with an explicit ``api_key``
and ``base_address``, the way the vendor notes (B6) say a try-on client reaches the API.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import httpx
import pytest
from dashscope.api_entities.dashscope_response import DashScopeAPIResponse
from dashscope.client.base_api import BaseAsyncApi
from PIL import Image

import contracts
from mock_server.testing import Tenant
from tests.helpers import png_of

VENDOR = "dashscope"
CONTRACT = contracts.load(VENDOR)
SYNTHESIS = {"task_group": "aigc", "task": "image2image", "function": "image-synthesis"}
SUBMIT_PATH = "/api/v1/services/aigc/image2image/image-synthesis"

pytestmark = pytest.mark.usefixtures("loopback_only")


def asset(tenant: Tenant, name: str) -> str:
    return f"{tenant.server.url}/_mock/assets/{name}"


class SdkTarget(TypedDict):
    """The per-call arguments that point the SDK at one tenant on the mock (``base_address`` goes
    through the SDK's ``**kwargs``)."""

    api_key: str
    base_address: str


def sdk(tenant: Tenant) -> SdkTarget:
    """The per-call arguments that point the SDK at this tenant on the mock."""
    return {"api_key": tenant.credentials[VENDOR]["api_key"], "base_address": tenant.base_url(VENDOR)}


def submit(tenant: Tenant, model: str, inputs: dict[str, str], **parameters: Any) -> DashScopeAPIResponse:
    response = BaseAsyncApi.async_call(model=model, input=inputs, **SYNTHESIS, **sdk(tenant), **parameters)
    assert response.status_code == 200, response
    assert response.output["task_status"] == "PENDING"
    assert response.output["task_id"]
    return response


def png(http: httpx.Client, url: str) -> Image.Image:
    return png_of(http.get(url))


def check_sdk_journal(tenant: Tenant, task_ids: list[str], coarse_url: str) -> None:
    """The journal holds what the SDK really sent, and every query was for the task just made."""
    key = tenant.credentials[VENDOR]["api_key"]
    first_id, refined_id = task_ids
    journal = tenant.journal(VENDOR)
    submits = [e for e in journal if e["endpoint"] == "image-synthesis"]
    queries = [e for e in journal if e["endpoint"] == "task-query"]
    assert [e["task_id"] for e in submits] == [first_id, refined_id]
    assert {e["endpoint"] for e in journal} == {"image-synthesis", "task-query"}
    for entry in journal:
        headers = entry["headers"]
        assert entry["status"] == 200
        assert headers["authorization"] == f"Bearer {key}"
        assert headers["user-agent"].startswith("dashscope/")
        assert headers["x-dashscope-sdk-client"].startswith("python-sdk/")
    for entry in submits:
        assert entry["method"] == "POST"
        assert entry["path"] == SUBMIT_PATH
        assert entry["headers"]["x-dashscope-async"] == "enable"
        assert entry["headers"]["content-type"].startswith("application/json")
    for entry in queries:
        assert entry["method"] == "GET"
        assert "x-dashscope-async" not in entry["headers"]
        assert entry["path"] == f"/api/v1/tasks/{entry['task_id']}"
    first_body, refiner_body = (json.loads(e["body"]) for e in submits)
    assert first_body["parameters"] == {"resolution": -1, "restore_face": True}
    assert refiner_body["parameters"] == {"gender": "woman"}
    assert refiner_body["input"]["coarse_image_url"] == coarse_url

    # Every query was for the task the SDK had just created: polls:2 -> exactly two each.
    expected: list[str] = []
    current: str | None = None
    for entry in journal:
        if entry["endpoint"] == "image-synthesis":
            current = entry["task_id"]
        else:
            assert current is not None, "a query before any submit"
            expected.append(current)
    assert [e["task_id"] for e in queries] == expected == [first_id] * 2 + [refined_id] * 2


def test_tryon_then_refiner_through_the_sdk(tryon_mock: Tenant, http: httpx.Client) -> None:
    tryon_mock.timing(VENDOR, progress="polls:2")
    person_size = png(http, asset(tryon_mock, "person.png")).size
    assert person_size == (768, 1024)

    # First stage: aitryon.
    first = submit(
        tryon_mock,
        "aitryon",
        {
            "person_image_url": asset(tryon_mock, "person.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        },
        resolution=-1,
        restore_face=True,
    )
    first_id = first.output["task_id"]
    done = BaseAsyncApi.wait(first, **sdk(tryon_mock))
    assert done.status_code == 200, done
    assert done.output["task_id"] == first_id
    assert done.output["task_status"] == "SUCCEEDED"
    assert done.usage["image_count"] == 1
    coarse_url = done.output["image_url"]
    assert coarse_url.startswith(tryon_mock.server.url + "/")
    assert png(http, coarse_url).size == person_size  # resolution=-1: the person image's size

    # Second stage: aitryon-refiner on the first result.
    refined = submit(
        tryon_mock,
        "aitryon-refiner",
        {
            "coarse_image_url": coarse_url,
            "person_image_url": asset(tryon_mock, "person.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        },
        gender="woman",
    )
    refined_id = refined.output["task_id"]
    assert refined_id != first_id
    final = BaseAsyncApi.wait(refined, **sdk(tryon_mock))
    assert final.status_code == 200, final
    assert final.output["task_id"] == refined_id
    assert final.output["task_status"] == "SUCCEEDED"
    assert final.usage["image_count"] == 1
    assert final.output["image_url"] != coarse_url
    assert png(http, final.output["image_url"]).size == person_size

    check_sdk_journal(tryon_mock, [first_id, refined_id], coarse_url)


def test_unknown_api_key_is_reported_by_the_sdk(tryon_mock: Tenant) -> None:
    error = CONTRACT.error("InvalidApiKey")
    response = BaseAsyncApi.async_call(
        model="aitryon",
        input={
            "person_image_url": asset(tryon_mock, "person.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        },
        **SYNTHESIS,
        api_key="sk-not-registered-anywhere",
        base_address=tryon_mock.base_url(VENDOR),
        resolution=-1,
        restore_face=True,
    )
    assert response.status_code == error.http_status == 401
    assert response.code == str(error.code) == "InvalidApiKey"
    assert response.message == error.message
    assert response.request_id
    assert response.output is None

    # The task API answers the same way.
    fetched = BaseAsyncApi.fetch(
        "no-such-task", api_key="sk-not-registered-anywhere", base_address=tryon_mock.base_url(VENDOR)
    )
    assert (fetched.status_code, fetched.code, fetched.message) == (401, str(error.code), error.message)
    assert tryon_mock.journal(VENDOR) == []  # nothing was booked to the real tenant


def test_failed_tasks_through_the_sdk(tryon_mock: Tenant) -> None:
    tryon_mock.timing(VENDOR, progress="polls:2")

    # 1. A person image with two people: accepted, then the task fails with InvalidPerson.
    invalid_person = CONTRACT.error("InvalidPerson")
    task = submit(
        tryon_mock,
        "aitryon",
        {
            "person_image_url": asset(tryon_mock, "two-persons.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        },
        resolution=-1,
        restore_face=True,
    )
    result = BaseAsyncApi.wait(task, **sdk(tryon_mock))
    assert result.status_code == 200, result
    assert result.output["task_id"] == task.output["task_id"]
    assert result.output["task_status"] == "FAILED"
    assert result.output["code"] == str(invalid_person.code)
    assert result.output["message"] == invalid_person.message
    assert "image_url" not in result.output

    # 2. The fault header, passed through the SDK's ``headers=`` kwarg.
    algo = CONTRACT.error("InternalError.Algo")
    fault = "error=InternalError.Algo; at=task"
    task = submit(
        tryon_mock,
        "aitryon",
        {
            "person_image_url": asset(tryon_mock, "person.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        },
        headers={"X-Mock-Fault": fault},
        resolution=-1,
        restore_face=True,
    )
    result = BaseAsyncApi.wait(task, **sdk(tryon_mock))
    assert result.status_code == 200, result
    assert result.output["task_status"] == "FAILED"
    assert result.output["code"] == str(algo.code) == "InternalError.Algo"
    assert result.output["message"] == algo.message

    # The SDK really sent the header (and not as a body parameter); the mock read it.
    submits = tryon_mock.journal(VENDOR, "image-synthesis")
    assert len(submits) == 2
    assert "x-mock-fault" not in submits[0]["headers"]
    assert submits[1]["headers"]["x-mock-fault"] == fault
    assert submits[1]["fault"]["source"] == "header"
    assert submits[1]["fault"]["error"] == "InternalError.Algo"
    assert "headers" not in json.loads(submits[1]["body"])["parameters"]


def test_cancel_and_list_through_the_sdk(tryon_mock: Tenant) -> None:
    tryon_mock.timing(VENDOR, progress="time", queue_seconds=3600)
    other = tryon_mock.server.new_tenant()
    try:
        other.timing(VENDOR, progress="time", queue_seconds=3600)
        inputs = {
            "person_image_url": asset(tryon_mock, "person.png"),
            "top_garment_url": asset(tryon_mock, "top.png"),
        }
        mine = submit(tryon_mock, "aitryon", inputs, resolution=-1, restore_face=True)
        theirs = submit(other, "aitryon", inputs, resolution=-1, restore_face=True)
        mine_id, theirs_id = mine.output["task_id"], theirs.output["task_id"]

        canceled = BaseAsyncApi.cancel(mine, **sdk(tryon_mock))
        assert canceled.status_code == 200, canceled
        assert canceled.request_id

        fetched = BaseAsyncApi.fetch(mine, **sdk(tryon_mock))
        assert fetched.status_code == 200
        assert fetched.output["task_id"] == mine_id
        assert fetched.output["task_status"] == "CANCELED"

        not_cancelable = CONTRACT.error("UnsupportedOperation")
        again = BaseAsyncApi.cancel(mine_id, **sdk(tryon_mock))
        assert again.status_code == not_cancelable.http_status == 400
        assert again.code == "UnsupportedOperation"
        assert again.message == not_cancelable.message

        # Another tenant cannot cancel (or see) my task.
        foreign = BaseAsyncApi.cancel(mine_id, **sdk(other))
        assert (foreign.status_code, foreign.code) == (400, "UnsupportedOperation")

        listed = BaseAsyncApi.list(**sdk(tryon_mock))
        assert listed.status_code == 200, listed
        assert listed.output["total"] == 1
        assert [(row["task_id"], row["status"], row["model_name"]) for row in listed.output["data"]] == [
            (mine_id, "CANCELED", "aitryon")
        ]

        listed = BaseAsyncApi.list(**sdk(other))
        assert listed.status_code == 200, listed
        assert [(row["task_id"], row["status"]) for row in listed.output["data"]] == [(theirs_id, "PENDING")]

        listed = BaseAsyncApi.list(status="PENDING", **sdk(tryon_mock))
        assert listed.status_code == 200
        assert listed.output["total"] == 0
        assert listed.output["data"] == []

        lists = tryon_mock.journal(VENDOR, "task-list")
        assert [e["path"] for e in lists] == ["/api/v1/tasks"] * 2
        assert "page_no=1" in lists[0]["query"] and "page_size=10" in lists[0]["query"]
    finally:
        other.reset()
