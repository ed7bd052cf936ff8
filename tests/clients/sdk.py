"""Contract-test adapters (job -> outcome) that drive each vendor's official SDK for every HTTP call.

The adapter owns only the glue: the job turned into SDK calls, the SDK's answers turned into an
outcome, a poll loop where the SDK has none or one too slow for a test, retries where the SDK has
none, and the job's time budget. What each SDK does on its own (read from its installed source):

- ``dashscope`` 2.0.2: ``BaseAsyncApi.async_call`` and ``fetch`` send once and return the
  vendor's error as a ``DashScopeAPIResponse``; they never retry a vendor answer (429 Throttling,
  500 InternalError/SystemError, 503 ModelUnavailable come straight back). The submit's HTTP
  layer (``http_request._send_with_retry``) resends once, at once, when the connection drops
  before any answer (a ``requests`` ConnectionError, e.g. a reset): no backoff, and the glue
  cannot turn it off (harmless: nothing was answered, and no check counts a network fault as a
  retryable answer). ``fetch`` (a plain ``requests.Session.get``, fixed 300 s timeout) has no such
  resend. ``BaseAsyncApi.wait`` does poll, but sleeps 1 s growing to 5 s between polls (and
  retries only 503/504 polls): seconds where a test task takes milliseconds, so the glue polls
  with ``fetch`` in its own loop at the job's pace and retries what is retryable.
- ``aliyun-api-gateway-python`` 0.1.0 (the DAMO gateway signer): ``ApiGatewayClient.send`` signs
  (a fresh ``X-Ca-Nonce`` each call) and sends once; HTTP errors come back as a response,
  transport failures raise ``ApiGatewayTransportError``. No retries, no poll helper: the glue has
  both.
- ``lazop-sdk`` 1.0.3 (the IOP client; its class is ``LazopClient``): ``execute`` posts once with
  ``requests`` and re-raises any transport failure. No retries, no poll helper: the glue has both.
- ``ailabtools-sdk`` 0.5.4: every call raises ``AILabApiError`` for an error answer and never
  retries. ``AILabClient.wait_for_task(interval=...)`` polls at a pace the caller chooses, so the
  glue uses it with the job's poll interval. It gives up on the first error answer, retryable ones
  included, and once it has raised the glue cannot tell how many polls it made, so from a first
  error on the glue polls with the SDK's single query call (``commonQueryAsyncTaskResult``) in
  its own loop, retrying what is retryable.

Which answers are retryable is read from the contract's error table, as tests/clients/base.py does.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import requests
from ailabtools import AILabApiError, AILabClient
from ailabtools.generated import endpoints as ailab_endpoints
from aliyun_api_gateway import (
    ApiGatewayClient,
    ApiGatewayRequest,
    ApiGatewayResponse,
    ApiGatewayTransportError,
)
from dashscope.client.base_api import BaseAsyncApi
from lazop_sdk import LazopClient, LazopRequest

import contracts
from tests.clients.aidge import sub_tasks
from tests.clients.base import GiveUp, batch_outcome

Outcome = dict[str, Any]


@dataclass
class Reply:
    """One SDK answer as the glue understood it."""

    body: Any = None
    error: dict[str, Any] | None = None  # {"http_status"?, "code", "message"} when the vendor refused


@functools.cache
def retryable_codes(vendor: str) -> frozenset[str]:
    """Codes (and, for gateway answers, messages) whose every row in the error table is retryable."""
    rows = contracts.load(vendor).errors
    names = {str(e.code) for e in rows} | {e.message for e in rows}
    return frozenset(
        name for name in names if all(e.retryable for e in rows if name in (str(e.code), e.message))
    )


class Glue:
    """One job, run through an SDK: submit (with retries), wait for the task, report."""

    vendor: ClassVar[str] = ""
    attempts: ClassVar[int] = 4  # per call, for retryable answers and transport failures
    transport_errors: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.credentials: dict[str, str] = job["credentials"]
        self.poll_interval = float(job["poll_interval_seconds"])
        self.backoff = float(job["retry_backoff_seconds"])
        self.deadline = time.monotonic() + float(job["time_budget_seconds"])

    def outcome(self) -> Outcome:
        try:
            return self.run()
        except GiveUp as exc:
            return {"status": "error", "detail": str(exc)}
        finally:
            self.close()

    def run(self) -> Outcome:
        reply = self.call(self.submit)
        if reply.error is not None:
            return {"status": "failed", "error": reply.error}
        task_id = self.task_id(reply)
        return {"task_id": task_id, **self.wait(task_id)}

    def wait(self, task_id: str) -> Outcome:
        """The glue's own poll loop, at the job's pace."""
        while True:
            self.pause(self.poll_interval)
            outcome = self.poll(task_id)
            if outcome is not None:
                return outcome

    def poll(self, task_id: str, attempt: int = 1) -> Outcome | None:
        """One query (with its retries): the outcome once the task ended, else None."""
        reply = self.call(lambda: self.query(task_id), attempt)
        if reply.error is not None:
            return {"status": "failed", "error": reply.error}
        return self.progress(reply)

    # -- the shared mechanics ----------------------------------------------------------------------

    def call(self, send: Callable[[], Reply], attempt: int = 1) -> Reply:
        """Send, retrying transport failures and retryable vendor answers after a growing backoff.
        ``attempt`` > 1 continues a retry sequence begun elsewhere."""
        while True:
            try:
                reply = send()
            except self.transport_errors as exc:
                if attempt >= self.attempts:
                    raise GiveUp(f"transport: {exc!r}") from exc
            else:
                if reply.error is None or not self.retryable(reply.error) or attempt >= self.attempts:
                    return reply
            self.pause(self.backoff * attempt)
            attempt += 1

    def retryable(self, error: dict[str, Any]) -> bool:
        return str(error.get("code")) in retryable_codes(self.vendor)

    def pause(self, seconds: float) -> None:
        if time.monotonic() + seconds > self.deadline:
            raise GiveUp("time budget spent")
        time.sleep(seconds)

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def close(self) -> None:
        pass

    # -- what a vendor's glue supplies -------------------------------------------------------------

    def submit(self) -> Reply:
        raise NotImplementedError

    def query(self, task_id: str) -> Reply:
        raise NotImplementedError

    def task_id(self, reply: Reply) -> str:
        raise NotImplementedError

    def progress(self, reply: Reply) -> Outcome | None:
        raise NotImplementedError


def refused(code: Any, message: Any, http_status: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": "" if message is None else str(message)}
    if http_status is not None:
        error["http_status"] = int(http_status)
    return error


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


# -- DAMO (Marketplace, behind the API Gateway): aliyun_api_gateway.ApiGatewayClient ---------------

DAMO_QUERY = "/api/v1/tryon/query"
DAMO_TERMINAL = {"SUCCESS", "FAILED"}


class DamoGlue(Glue):
    vendor = "damo"
    transport_errors = (ApiGatewayTransportError, json.JSONDecodeError)

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        self.client = ApiGatewayClient(
            job["base_url"],
            self.credentials["app_key"],
            self.credentials["app_secret"],
            timeout=float(job["time_budget_seconds"]),
        )

    def post(self, path: str, doc: Any) -> Reply:
        answer = self.client.send(ApiGatewayRequest(method="POST", path=path, json_body=doc))
        return self.read(answer)

    def submit(self) -> Reply:
        return self.post(self.job["endpoint"]["path"], self.job["request"])

    def query(self, task_id: str) -> Reply:
        return self.post(DAMO_QUERY, {"data": {"result_key": task_id}})

    @staticmethod
    def read(answer: ApiGatewayResponse) -> Reply:
        gateway = answer.get_header("X-Ca-Error-Message")
        if gateway is not None and not answer.body:  # the gateway's own refusal: no body
            code = answer.get_header("X-Ca-Error-Code") or gateway
            return Reply(None, refused(code, gateway, answer.status))
        body = answer.json()
        if answer.status != 200 or str(body.get("code")) != "0":
            return Reply(body, refused(body.get("code"), body.get("message"), answer.status))
        return Reply(body)

    def task_id(self, reply: Reply) -> str:
        return str(reply.body["data"]["result_key"])

    def progress(self, reply: Reply) -> Outcome | None:
        tasks = reply.body["data"]["task_list"]
        if not all(t["status"] in DAMO_TERMINAL for t in tasks):
            return None
        return batch_outcome(
            [
                ("succeeded" if t["status"] == "SUCCESS" else "failed", list(t.get("results", [])))
                for t in tasks
            ]
        )


def damo_sdk(job: dict[str, Any]) -> Outcome:
    """DAMO try-on through ``aliyun-api-gateway-python`` (AppKey/AppSecret signatures)."""
    return DamoGlue(job).outcome()


# -- Aidge: lazop_sdk.LazopClient (IOP signature over form fields) ---------------------------------

IOP_GATEWAY = "/rest"  # LazopClient takes the gateway URL, ".../rest", and API names under it
AIDGE_RESULTS = "/ai/virtual/tryon-results"
AIDGE_TERMINAL = {"finished", "failed"}


class AidgeGlue(Glue):
    vendor = "aidge"
    # requests' errors (and its JSONDecodeError); OSError: the SDK logs a failure with
    # socket.gethostbyname(socket.gethostname()) before re-raising it, which can fail itself
    transport_errors = (requests.RequestException, OSError)

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        self.client = LazopClient(
            job["base_url"] + IOP_GATEWAY,
            self.credentials["app_key"],
            self.credentials["app_secret"],
            timeout=float(job["time_budget_seconds"]),
        )

    def execute(self, api: str, params: dict[str, str]) -> Reply:
        request = LazopRequest(api)  # POST: the parameters travel as signed form fields
        for key, value in params.items():
            request.add_api_param(key, value)
        body = self.client.execute(request).body
        if "resCode" not in body:  # the IOP gateway's own envelope: type, code, message
            return Reply(body, refused(body.get("code"), body.get("message")))
        if str(body["resCode"]) != "200":
            return Reply(body, refused(body["resCode"], body.get("resMessage")))
        return Reply(body)

    def submit(self) -> Reply:
        api = self.job["endpoint"]["path"].removeprefix(IOP_GATEWAY)
        return self.execute(api, {"requestParams": json.dumps(self.job["request"])})

    def query(self, task_id: str) -> Reply:
        return self.execute(AIDGE_RESULTS, {"task_id": task_id})

    def task_id(self, reply: Reply) -> str:
        return str(reply.body["data"]["result"]["taskId"])

    def progress(self, reply: Reply) -> Outcome | None:
        data = reply.body["data"]
        if data["taskStatus"] not in AIDGE_TERMINAL:
            return None
        return batch_outcome(sub_tasks(data))


def aidge_sdk(job: dict[str, Any]) -> Outcome:
    """Aidge through ``lazop-sdk``'s IOP client."""
    return AidgeGlue(job).outcome()


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


SDK_ADAPTERS: dict[str, Callable[[dict[str, Any]], Outcome]] = {
    "dashscope": dashscope_sdk,
    "damo": damo_sdk,
    "aidge": aidge_sdk,
    "ailabtools": ailabtools_sdk,
}
