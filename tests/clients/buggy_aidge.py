"""Buggy Aidge clients: each is tests/clients/aidge.py's client with ONE behaviour broken (an
unsalted signature, the secret as app_key, one request object of a batch ...); its docstring says
the bug, and tests/clients/buggy.py's CATALOG the check it must trip."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from tests.clients.aidge import RESULTS, AidgeClient
from tests.clients.base import Answer, Progress
from tests.clients.buggy_shared import IgnoresFailedItems, NoBackoff, PollAfterEnd, RetriesEverything


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
