"""DashScope through the official ``dashscope`` SDK (2.0.2): ``BaseAsyncApi.async_call`` and
``fetch`` send once and return the vendor's error as a ``DashScopeAPIResponse``; they never retry a
vendor answer (429 Throttling, 500 InternalError/SystemError, 503 ModelUnavailable come straight
back). The submit's HTTP layer (``http_request._send_with_retry``) resends once, at once, when the
connection drops before any answer (a ``requests`` ConnectionError, e.g. a reset): no backoff, and
the glue cannot turn it off (harmless: nothing was answered, and no check counts a network fault
as a retryable answer). ``fetch`` (a plain ``requests.Session.get``, fixed 300 s timeout) has no
such resend. ``BaseAsyncApi.wait`` does poll, but sleeps 1 s growing to 5 s between polls (and
retries only 503/504 polls): seconds where a test task takes milliseconds, so the glue polls with
``fetch`` in its own loop at the job's pace and retries what is retryable."""

from __future__ import annotations

from typing import Any

import requests
from dashscope.client.base_api import BaseAsyncApi

from tests.clients.sdk_glue import Glue, Outcome, Reply, refused

# -- DashScope: dashscope.client.base_api.BaseAsyncApi ---------------------------------------------

DASHSCOPE_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}


class DashScopeGlue(Glue):
    vendor = "dashscope"
    # requests' own errors: a second drop after the SDK's one resend, a truncated body, no JSON
    transport_errors = (requests.RequestException,)

    def sdk(self) -> dict[str, str]:
        return {"api_key": self.credentials["api_key"], "base_address": self.job["base_url"]}

    def submit(self) -> Reply:
        # "/services/aigc/image2image/image-synthesis" -> the SDK's task_group, task, function
        task_group, task, function = self.job["endpoint"]["path"].removeprefix("/services/").split("/")
        request = self.job["request"]
        answer = BaseAsyncApi.async_call(
            model=request["model"],
            input=request["input"],
            task_group=task_group,
            task=task,
            function=function,
            request_timeout=self.remaining(),
            **self.sdk(),
            **request.get("parameters", {}),  # the SDK sends its extra keyword arguments as parameters
        )
        return self.read(answer)

    def query(self, task_id: str) -> Reply:
        return self.read(BaseAsyncApi.fetch(task_id, **self.sdk()))

    @staticmethod
    def read(answer: Any) -> Reply:
        if answer.status_code != 200:
            return Reply(answer, refused(answer.code, answer.message, answer.status_code))
        return Reply(answer)

    def task_id(self, reply: Reply) -> str:
        return str(reply.body.output["task_id"])

    def progress(self, reply: Reply) -> Outcome | None:
        output: dict[str, Any] = reply.body.output
        status = output["task_status"]
        if status not in DASHSCOPE_TERMINAL:
            return None
        if status == "SUCCEEDED":
            url = output.get("image_url") or output.get("results", {}).get("image_url")
            return {"status": "succeeded", "images": [url]}
        return {"status": "failed", "error": refused(output.get("code", status), output.get("message"))}


def dashscope_sdk(job: dict[str, Any]) -> Outcome:
    """DashScope through the official ``dashscope`` SDK."""
    return DashScopeGlue(job).outcome()
