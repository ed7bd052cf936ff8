"""Deliberately buggy clients: each is one of the correct clients with ONE behaviour broken, the way a
real integration gets it wrong. The contract-test suite must catch every one of them; ``CATALOG``
names the check each must trip (tests/test_verify_clients.py runs them).

A variant overrides a single method (or class attribute); its docstring says the bug.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import httpx

from tests.clients.aidge import RESULTS, AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import TLS, Answer, Client, Progress
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient

LATE_SECONDS = 0.003  # how long after returning the late request goes out (the suite settles 20 ms)


# -- behaviours several vendors' variants share ----------------------------------------------------


def _late_poll(client: Client, job: dict[str, Any], outcome: dict[str, Any]) -> None:
    """Fire one more poll of the outcome's task from a background thread, just after returning."""
    late = copy.copy(client)  # the suite reuses the client for its next example: keep this one apart
    http = httpx.Client(base_url=job["base_url"], timeout=1, trust_env=False, verify=TLS)
    late.http = http
    task_id = str(outcome.get("task_id") or "late")

    def fire() -> None:
        try:
            time.sleep(LATE_SECONDS)
            late.query(task_id)
        except Exception:
            pass
        finally:
            http.close()

    threading.Thread(target=fire, daemon=True).start()


def _generic_code(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome.get("status") == "failed":
        return {**outcome, "error": {"code": "FAILED", "message": "the try-on failed"}}
    return outcome


class TightLoop(Client):
    """The shared bug: ignores the job's poll interval."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        return super().__call__({**job, "poll_interval_seconds": 0.001})


class StopsAtRunning(Client):
    """The shared bug: takes a PENDING or RUNNING answer for the end."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if not progress.terminal:  # PENDING or RUNNING taken for done
            return Progress(True, {"status": "succeeded", "images": [self.job["base_url"] + "/result.png"]})
        return progress


class NeverRetries(Client):
    """The shared bug: tries every call once (attempts = 1)."""

    attempts = 1


class RetriesEverything(Client):
    """The shared bug: retries every vendor error, a 400 or 401 as much as a 429."""

    def retryable(self, error: dict[str, Any]) -> bool:
        return True


class NoBackoff(Client):
    """The shared bug: retries throttling and server errors at once, with no backoff."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        return super().__call__({**job, "retry_backoff_seconds": 0})


class LateRequest(Client):
    """The shared bug: returns its outcome and then, from a background thread, polls the task once more."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        outcome = super().__call__(job)
        _late_poll(self, job, outcome)
        return outcome


class SwallowsCode(Client):
    """The shared bug: reports every failure with a generic code ``FAILED`` instead of the vendor's code."""

    def run(self) -> dict[str, Any]:
        return _generic_code(super().run())


class IgnoresFailedItems(Client):
    """The shared bug: reports a batch as succeeded when every sub-task ended, failed ones included."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "failed":
            images = progress.outcome["images"] or ["no-image"]
            return Progress(True, {"status": "succeeded", "images": images})
        return progress


class PollAfterEnd(Client):
    """The shared bug: polls once more after the answer that showed every sub-task ended."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        if "task_id" in outcome:
            self.pause(self.job["poll_interval_seconds"])
            self.query(outcome["task_id"])
        return outcome


# -- DashScope --------------------------------------------------------------------------------------


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


# -- DAMO (Alibaba Cloud Marketplace, API Gateway signature) -----------------------------------------


class DamoConstantNonce(DamoClient):
    """Sends the same X-Ca-Nonce with every request."""

    def nonce(self) -> str:
        return "5f1c2b3a-0000-4000-8000-000000000000"


class DamoUnsortedHeaders(DamoClient):
    """Signs the X-Ca-* headers in the order it set them instead of sorted by name."""

    def signed_headers(self, headers: dict[str, str]) -> list[str]:
        return [k for k in headers if k.lower().startswith("x-ca-") and k.lower() != "x-ca-signature"]


class DamoSha1Signature(DamoClient):
    """Computes the signature with HMAC-SHA1 while X-Ca-Signature-Method says HmacSHA256."""

    def signed(self, path: str, body: bytes) -> dict[str, str]:
        headers = super().signed(path, body)
        text = self.string_to_sign(
            "POST",
            path,
            {k: v for k, v in headers.items() if k not in ("X-Ca-Signature-Headers", "X-Ca-Signature")},
        )
        secret = self.credentials["app_secret"].encode()
        digest = hmac.new(secret, text.encode(), hashlib.sha1).digest()
        headers["X-Ca-Signature"] = base64.b64encode(digest).decode()
        return headers


class DamoDropsPants(DamoClient):
    """Leaves ``pants_image`` out of every sub-task it submits."""

    def submit(self) -> httpx.Response:
        doc = copy.deepcopy(self.job["request"])
        for item in doc["data"]["task_list"]:
            item.pop("pants_image", None)
        return self.post(self.job["endpoint"]["path"], doc)


class DamoElevenSubtasks(DamoClient):
    """Pads ``task_list`` to 11 sub-tasks (the vendor takes at most 10)."""

    def submit(self) -> httpx.Response:
        doc = copy.deepcopy(self.job["request"])
        items = doc["data"]["task_list"]
        items += [items[0]] * (11 - len(items))
        return self.post(self.job["endpoint"]["path"], doc)


class DamoIgnoresFailedItems(IgnoresFailedItems, DamoClient):
    """Reports a batch as succeeded when every sub-task ended, failed ones included."""


class DamoPollsOtherTask(DamoClient):
    """Polls a result_key of its own making instead of the one the submit answered."""

    def query(self, task_id: str) -> httpx.Response:
        return super().query(task_id[::-1])


class DamoPollAfterEnd(PollAfterEnd, DamoClient):
    """Polls once more after the answer that showed every sub-task ended."""


class DamoFirstImageOnly(DamoClient):
    """On success reports only the first result image, not all of them."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "succeeded":
            return Progress(True, {**progress.outcome, "images": progress.outcome["images"][:1]})
        return progress


class DamoNoStatus(DamoClient):
    """Leaves ``status`` out of the outcome document."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        outcome.pop("status", None)
        return outcome


# -- Aidge ------------------------------------------------------------------------------------------


class AidgeUnsaltedSignature(AidgeClient):
    """Signs the timestamp alone, without the secret prefix (HMAC(secret, timestamp))."""

    def sign(self, secret: str, stamp: str) -> str:
        return hmac.new(secret.encode(), stamp.encode(), hashlib.sha256).hexdigest().upper()


class AidgeWrongAppKey(AidgeClient):
    """Sends the app secret as ``app_key``."""

    def signed(self) -> dict[str, str]:
        return {**super().signed(), "app_key": self.credentials["app_secret"]}


class AidgeIgnoresFailedItems(IgnoresFailedItems, AidgeClient):
    """Drops the failed request objects of a batch and reports the rest as a success."""


class AidgeFirstImageOnly(AidgeClient):
    """On success reports the first request object's images only."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        if progress.terminal and progress.outcome["status"] == "succeeded":
            first = progress.outcome["items"][0]["images"]
            return Progress(True, {"status": "succeeded", "images": first})
        return progress


class AidgeRetriesEverything(RetriesEverything, AidgeClient):
    """Retries every vendor error, ``700 invalid input`` as much as ``500 system error``."""


class AidgeNoBackoff(NoBackoff, AidgeClient):
    """Retries rate limits and system errors at once, with no backoff."""


class AidgePollsOtherTask(AidgeClient):
    """Polls a task id of its own making instead of the one the submit answered."""

    def query(self, task_id: str) -> httpx.Response:
        return self.http.post(RESULTS, params=self.signed(), json={"task_id": task_id + "0"})


class AidgePollAfterEnd(PollAfterEnd, AidgeClient):
    """Polls once more after the answer that showed the batch ended."""


class AidgeFirstObjectOnly(AidgeClient):
    """Submits only the first request object of a batch (``requestParams`` as one object)."""

    def submit(self) -> httpx.Response:
        body = {"requestParams": json.dumps(self.job["request"][0])}
        return self.http.post(self.job["endpoint"]["path"], params=self.signed(), json=body)


# -- AILabTools -------------------------------------------------------------------------------------


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


# -- the catalog ------------------------------------------------------------------------------------


# -- bugs the suite does not catch (yet) --------------------------------------------------------------


class DashScopeWrongTaskId(DashScopeClient):
    """Reports a task id of its own making in the outcome instead of the vendor's."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        if "task_id" in outcome:
            outcome["task_id"] = outcome["task_id"][::-1]
        return outcome


CATALOG: list[tuple[str, str, type, str]] = [
    ("dashscope-no-bearer", "dashscope", DashScopeNoBearer, "auth_conformance"),
    ("dashscope-swapped-images", "dashscope", DashScopeSwappedImages, "request_matches_job"),
    ("dashscope-tight-loop", "dashscope", DashScopeTightLoop, "poll_pace"),
    ("dashscope-stops-at-running", "dashscope", DashScopeStopsAtRunning, "stops_at_terminal_status"),
    ("dashscope-failed-as-success", "dashscope", DashScopeFailedAsSuccess, "failure_reported"),
    ("dashscope-never-retries", "dashscope", DashScopeNeverRetries, "retryable_retried"),
    ("dashscope-retries-everything", "dashscope", DashScopeRetriesEverything, "non_retryable_not_retried"),
    ("dashscope-no-backoff", "dashscope", DashScopeNoBackoff, "retryable_retried"),
    ("dashscope-late-request", "dashscope", DashScopeLateRequest, "no_request_after_outcome"),
    ("dashscope-person-as-result", "dashscope", DashScopePersonAsResult, "success_images_match"),
    ("dashscope-status-done", "dashscope", DashScopeStatusDone, "outcome_conformance"),
    ("dashscope-wrong-query-path", "dashscope", DashScopeWrongQueryPath, "request_conformance"),
    ("dashscope-swallows-code", "dashscope", DashScopeSwallowsCode, "failure_reported"),
    ("dashscope-wrong-task-id", "dashscope", DashScopeWrongTaskId, "task_id_reported"),
    ("damo-constant-nonce", "damo", DamoConstantNonce, "nonce_uniqueness"),
    ("damo-unsorted-headers", "damo", DamoUnsortedHeaders, "auth_conformance"),
    ("damo-sha1-signature", "damo", DamoSha1Signature, "auth_conformance"),
    ("damo-drops-pants", "damo", DamoDropsPants, "request_matches_job"),
    ("damo-eleven-subtasks", "damo", DamoElevenSubtasks, "request_conformance"),
    ("damo-ignores-failed-items", "damo", DamoIgnoresFailedItems, "failure_reported"),
    ("damo-polls-other-task", "damo", DamoPollsOtherTask, "polls_own_task"),
    ("damo-poll-after-end", "damo", DamoPollAfterEnd, "stops_at_terminal_status"),
    ("damo-first-image-only", "damo", DamoFirstImageOnly, "success_images_match"),
    ("damo-no-status", "damo", DamoNoStatus, "outcome_conformance"),
    ("aidge-unsalted-signature", "aidge", AidgeUnsaltedSignature, "auth_conformance"),
    ("aidge-wrong-app-key", "aidge", AidgeWrongAppKey, "auth_conformance"),
    ("aidge-ignores-failed-items", "aidge", AidgeIgnoresFailedItems, "failure_reported"),
    ("aidge-first-image-only", "aidge", AidgeFirstImageOnly, "success_images_match"),
    ("aidge-retries-everything", "aidge", AidgeRetriesEverything, "non_retryable_not_retried"),
    ("aidge-no-backoff", "aidge", AidgeNoBackoff, "retryable_retried"),
    ("aidge-polls-other-task", "aidge", AidgePollsOtherTask, "polls_own_task"),
    ("aidge-poll-after-end", "aidge", AidgePollAfterEnd, "stops_at_terminal_status"),
    ("aidge-first-object-only", "aidge", AidgeFirstObjectOnly, "request_matches_job"),
    ("ailabtools-wrong-header", "ailabtools", AILabToolsWrongHeader, "auth_conformance"),
    ("ailabtools-files-as-urls", "ailabtools", AILabToolsFilesAsUrls, "request_conformance"),
    ("ailabtools-tight-loop", "ailabtools", AILabToolsTightLoop, "poll_pace"),
    ("ailabtools-stops-at-running", "ailabtools", AILabToolsStopsAtRunning, "stops_at_terminal_status"),
    ("ailabtools-never-retries", "ailabtools", AILabToolsNeverRetries, "retryable_retried"),
    ("ailabtools-late-request", "ailabtools", AILabToolsLateRequest, "no_request_after_outcome"),
    ("ailabtools-polls-other-task", "ailabtools", AILabToolsPollsOtherTask, "polls_own_task"),
    ("ailabtools-swallows-code", "ailabtools", AILabToolsSwallowsCode, "failure_reported"),
]
