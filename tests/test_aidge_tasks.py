"""Aidge's routes and tasks through HTTP, in-process: an unknown API path answers InvalidApiPath,
an unknown task 700 naming task_id, and a task is its caller's own and forgotten (its result
links too) after the retention."""

from __future__ import annotations

import uuid

import pytest

from tests.aidge_rig import (
    CONTRACT,
    INVALID,
    LIFE,
    RESULTS,
    VENDOR,
    Aidge,
    item,
    refused,
    standard_images,
    sub_tasks,
)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_an_unknown_api_path_answers_invalid_api_path(aidge: Aidge, method: str) -> None:
    error = CONTRACT.trigger("route.unknown")
    if method == "POST":
        response = aidge.post("/ai/virtual/tryon-nonexistent", {"task_id": "x"})
    else:
        response = aidge.get("/ai/unknown/path", {})
    refused(response, error)


def test_an_unknown_task_answers_700_naming_task_id(aidge: Aidge) -> None:
    error = CONTRACT.trigger("task.unknown")
    refused(aidge.post(RESULTS, {"task_id": str(uuid.uuid4())}), error, "task_id")
    refused(aidge.get(RESULTS, {"taskId": "not-a-task"}), error, "task_id")
    refused(aidge.post(RESULTS, {}), CONTRACT.trigger(INVALID), "task_id")


def test_tasks_are_the_callers_own_and_forgotten_after_retention(aidge: Aidge) -> None:
    other = {"app_key": "534567", "app_secret": "yet-another-secret-0123456"}
    aidge.client.post("/_mock/credentials", json={VENDOR: [other]}).raise_for_status()
    task_id = aidge.task_id([item(generateCount=1)])
    aidge.finish()
    stranger = Aidge(aidge.client, other["app_key"], other["app_secret"])
    refused(stranger.post(RESULTS, {"task_id": task_id}), CONTRACT.trigger("task.unknown"), "task_id")
    [sub] = sub_tasks(aidge.results(task_id))
    link = standard_images(sub)[0]["imageUrl"]
    aidge.advance(CONTRACT.retention_seconds - 1)
    assert aidge.results(task_id)["data"]["taskStatus"] == LIFE.succeeded
    assert aidge.client.get(link).status_code == 200
    aidge.advance(
        max(CONTRACT.result_ttl_seconds, CONTRACT.retention_seconds) - CONTRACT.retention_seconds + 2
    )
    refused(aidge.post(RESULTS, {"task_id": task_id}), CONTRACT.trigger("task.unknown"), "task_id")
    expired = aidge.client.get(link)
    assert expired.status_code == 403 and b"AccessDenied" in expired.content
