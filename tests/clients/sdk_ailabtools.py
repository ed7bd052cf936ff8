"""AILabTools through the official ``ailabtools-sdk`` (0.5.4): every call raises ``AILabApiError``
for an error answer and never retries. ``AILabClient.wait_for_task(interval=...)`` polls at a pace
the caller chooses, so the glue uses it with the job's poll interval. It gives up on the first
error answer, retryable ones included, and once it has raised the glue cannot tell how many polls
it made, so from a first error on the glue polls with the SDK's single query call
(``commonQueryAsyncTaskResult``) in its own loop, retrying what is retryable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from ailabtools import AILabApiError, AILabClient
from ailabtools.generated import endpoints as ailab_endpoints

from tests.clients.base import GiveUp
from tests.clients.sdk_glue import Glue, Outcome, Reply, refused

# -- AILabTools: ailabtools.AILabClient (async) ----------------------------------------------------

AILAB_METHODS = {  # submit path -> the SDK's portrait method and its parameter map
    "/api/portrait/editing/try-on-clothes": (
        "portraitTryOnClothes",
        ailab_endpoints.PortraitTryOnClothesParamMap,
    ),
    "/api/portrait/editing/try-on-clothes-pro": (
        "portraitTryOnClothesPro",
        ailab_endpoints.PortraitTryOnClothesProParamMap,
    ),
    "/api/portrait/editing/try-on-clothes-premium": (
        "portraitTryOnClothesPremium",
        ailab_endpoints.PortraitTryOnClothesPremiumParamMap,
    ),
    "/api/portrait/enhance/try-on-clothes-refiner": (
        "portraitTryOnClothesRefiner",
        ailab_endpoints.PortraitTryOnClothesRefinerParamMap,
    ),
}
AILAB_ENDED = (2, 3)  # task_status: 0 queued, 1 running, 2 done, 3 failed (as the SDK's wait loop reads it)


class AILabToolsGlue(Glue):
    vendor = "ailabtools"
    transport_errors = (httpx.TransportError,)

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        # One event loop for the whole job: the SDK's httpx.AsyncClient belongs to it.
        self.loop = asyncio.Runner()
        self.client = AILabClient(
            api_key=self.credentials["api_key"],
            base_url=job["base_url"],
            timeout=float(job["time_budget_seconds"]),
        )

    def close(self) -> None:
        self.loop.run(self.client.aclose())
        self.loop.close()

    def answer(self, call: Any) -> Reply:
        """Await an SDK call; its AILabApiError is the vendor's refusal."""
        try:
            return Reply(self.loop.run(call))
        except AILabApiError as exc:
            return Reply(exc.raw, self.refusal(exc))

    @staticmethod
    def refusal(exc: AILabApiError) -> dict[str, Any]:
        raw = exc.raw if isinstance(exc.raw, dict) else {}
        detail = exc.detail
        code = raw.get("error_code_str") or (detail.code if detail is not None else None)
        # The SDK keeps the HTTP response to itself: its status is the body's error_detail.status_code
        # (the vendor's own copy of it), else the HTTP status when the body had none.
        status = detail.status_code if detail is not None else None
        return refused(code, raw.get("error_msg") or str(exc), status)

    def submit(self) -> Reply:
        method, param_map = AILAB_METHODS[self.job["endpoint"]["path"]]
        # The SDK takes camelCase names (it validates them, then maps them to the form's names).
        camel = {form: name for name, form in param_map.items()}
        params: dict[str, Any] = {camel.get(k, k): v for k, v in self.job["request"].items()}
        for field, file in self.job["files"].items():
            params[camel.get(field, field)] = Path(file["path"]).read_bytes()
        return self.answer(getattr(self.client.portrait, method)(params))

    def query(self, task_id: str) -> Reply:
        return self.answer(self.client.common.commonQueryAsyncTaskResult({"taskId": task_id}))

    def wait(self, task_id: str) -> Outcome:
        """The SDK's own wait loop, at the job's pace, until its first error: from there (a retry
        of the failed poll after a backoff) the glue's loop with the single query call."""
        wait = self.client.wait_for_task(
            task_id, interval=self.poll_interval, timeout=self.remaining(), raise_on_failed=False
        )
        try:
            return self.finished(Reply(self.loop.run(wait)))
        except TimeoutError as exc:
            raise GiveUp("time budget spent") from exc
        except AILabApiError as exc:
            error = self.refusal(exc)
            if not self.retryable(error):
                return {"status": "failed", "error": error}
        except self.transport_errors:
            pass  # as a retryable answer: the first attempt of this poll failed
        self.pause(self.backoff)
        outcome = self.poll(task_id, attempt=2)
        return outcome if outcome is not None else super().wait(task_id)

    def task_id(self, reply: Reply) -> str:
        return str(reply.body["task_id"])

    @staticmethod
    def status(body: dict[str, Any]) -> Any:
        """Where the SDK's wait loop reads the task's status."""
        data = body.get("data") or {}
        return data.get("taskStatus", data.get("task_status", body.get("task_status")))

    def progress(self, reply: Reply) -> Outcome | None:
        return self.finished(reply) if self.status(reply.body) in AILAB_ENDED else None

    @staticmethod
    def finished(reply: Reply) -> Outcome:
        body = reply.body
        url = (body.get("output") or {}).get("image_url") or (body.get("data") or {}).get("image")
        if url:
            return {"status": "succeeded", "images": [url]}
        code = body.get("error_code_str") or "task_status 3"
        return {"status": "failed", "error": refused(code, body.get("error_msg"))}


def ailabtools_sdk(job: dict[str, Any]) -> Outcome:
    """AILabTools through the official ``ailabtools-sdk``."""
    return AILabToolsGlue(job).outcome()
