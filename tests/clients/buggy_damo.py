"""Buggy DAMO clients (Alibaba Cloud Marketplace, API Gateway signature): each is
tests/clients/damo.py's client with ONE behaviour broken (a constant nonce, unsorted signed
headers, an SHA-1 signature, a dropped image ...); its docstring says the bug, and
tests/clients/buggy.py's CATALOG the check it must trip."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from typing import Any

import httpx

from tests.clients.base import Answer, Progress
from tests.clients.buggy_shared import IgnoresFailedItems, PollAfterEnd
from tests.clients.damo import DamoClient


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
