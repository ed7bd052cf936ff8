"""Buggy AILabTools clients: each is tests/clients/ailabtools.py's client with ONE behaviour
broken (the key under the wrong header, files sent as URLs, polls of another task ...); its
docstring says the bug, and tests/clients/buggy.py's CATALOG the check it must trip."""

from __future__ import annotations

import httpx

from tests.clients.ailabtools import AILabToolsClient
from tests.clients.buggy_shared import LateRequest, NeverRetries, StopsAtRunning, SwallowsCode, TightLoop


class AILabToolsWrongHeader(AILabToolsClient):
    """Sends the key under ``ailabapi-key`` instead of ``ailabapi-api-key``."""

    def headers(self) -> dict[str, str]:
        return {"ailabapi-key": self.credentials["api_key"]}


class AILabToolsFilesAsUrls(AILabToolsClient):
    """Sends the images as URLs in text fields instead of uploading them as file parts."""

    def submit(self) -> httpx.Response:
        fields = {**self.job["request"], **{name: f["url"] for name, f in self.job["files"].items()}}
        return self.http.post(self.job["endpoint"]["path"], data=fields, headers=self.headers())


class AILabToolsTightLoop(TightLoop, AILabToolsClient):
    """Ignores the job's poll interval: polls again after a millisecond."""


class AILabToolsStopsAtRunning(StopsAtRunning, AILabToolsClient):
    """Takes a queued or running answer for the end: reports success (with a made-up image) while the
    task still runs."""


class AILabToolsNeverRetries(NeverRetries, AILabToolsClient):
    """Tries every call once: a rate limit or service error is reported as the outcome."""


class AILabToolsLateRequest(LateRequest, AILabToolsClient):
    """Returns its outcome and then, from a background thread, polls the task once more."""


class AILabToolsPollsOtherTask(AILabToolsClient):
    """Polls a task id of its own making instead of the one the submit answered."""

    def query(self, task_id: str) -> httpx.Response:
        return super().query(task_id.upper() if task_id != task_id.upper() else task_id + "X")


class AILabToolsSwallowsCode(SwallowsCode, AILabToolsClient):
    """Reports every failure with a generic code ``FAILED`` instead of the vendor's code."""
