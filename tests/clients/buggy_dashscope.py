"""Buggy DashScope clients: each is tests/clients/dashscope.py's client with ONE behaviour broken
(a key without Bearer, swapped images, a wrong query path, a made-up task id ...); its docstring
says the bug, and tests/clients/buggy.py's CATALOG the check it must trip."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.clients.base import Answer, Progress
from tests.clients.buggy_shared import (
    LateRequest,
    NeverRetries,
    NoBackoff,
    RetriesEverything,
    StopsAtRunning,
    SwallowsCode,
    TightLoop,
)
from tests.clients.dashscope import DashScopeClient


class DashScopeNoBearer(DashScopeClient):
    """Sends ``Authorization: sk-...``: the API key without the ``Bearer`` scheme."""

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.credentials["api_key"], "X-DashScope-Async": "enable"}


class DashScopeSwappedImages(DashScopeClient):
    """Sends the person image as the garment and the garment as the person (fields swapped)."""

    def submit(self) -> httpx.Response:
        body = copy.deepcopy(self.job["request"])
        inputs = body["input"]
        garment = "top_garment_url" if "top_garment_url" in inputs else "bottom_garment_url"
        inputs["person_image_url"], inputs[garment] = inputs[garment], inputs["person_image_url"]
        return self.http.post(self.job["endpoint"]["path"], json=body, headers=self.headers())


class DashScopeTightLoop(TightLoop, DashScopeClient):
    """Ignores the job's poll interval: polls again after a millisecond."""


class DashScopeStopsAtRunning(StopsAtRunning, DashScopeClient):
    """Takes a PENDING or RUNNING answer for the end: reports success (with a made-up image) while the
    task still runs."""


class DashScopeFailedAsSuccess(DashScopeClient):
    """Treats every terminal status, FAILED included, as success."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "failed":
            return Progress(True, {"status": "succeeded", "images": ["no-image"]})
        return progress


class DashScopeNeverRetries(NeverRetries, DashScopeClient):
    """Tries every call once (attempts = 1): a 429 Throttling or a 500 is reported as the outcome."""


class DashScopeRetriesEverything(RetriesEverything, DashScopeClient):
    """Retries every vendor error, a 400 or 401 as much as a 429."""


class DashScopeNoBackoff(NoBackoff, DashScopeClient):
    """Retries throttling and server errors at once, with no backoff."""


class DashScopeLateRequest(LateRequest, DashScopeClient):
    """Returns its outcome and then, from a background thread, polls the task once more."""


class DashScopePersonAsResult(DashScopeClient):
    """On success reports the person (input) image instead of the server's result image."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "succeeded":
            inputs = self.job["request"]["input"]
            person = inputs.get("person_image_url") or inputs["image_url"]  # image_url: parsing-v1
            return Progress(True, {"status": "succeeded", "images": [person]})
        return progress


class DashScopeStatusDone(DashScopeClient):
    """Reports status ``done`` (no such outcome status) when the task succeeded."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "succeeded":
            return Progress(True, {**progress.outcome, "status": "done"})
        return progress


class DashScopeWrongQueryPath(DashScopeClient):
    """Polls ``/task/{id}`` (singular), a path the vendor does not have."""

    def query(self, task_id: str) -> httpx.Response:
        return self.http.get(f"/task/{task_id}", headers={"Authorization": self.headers()["Authorization"]})


class DashScopeSwallowsCode(SwallowsCode, DashScopeClient):
    """Reports every failure with a generic code ``FAILED`` instead of the vendor's code."""


class DashScopeWrongTaskId(DashScopeClient):
    """Reports a task id of its own making in the outcome instead of the vendor's."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        if "task_id" in outcome:
            outcome["task_id"] = outcome["task_id"][::-1]
        return outcome
