"""A correct Aidge client: the v2 signature (HMAC-SHA256 of secret + millisecond timestamp,
upper-case hex) in the query string, request objects as a JSON string, written from the samples."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from tests.clients.base import Answer, Client, Progress, batch_outcome, refused

RESULTS = "/rest/ai/virtual/tryon-results"
TERMINAL = {"finished", "failed"}


class AidgeClient(Client):
    vendor = "aidge"

    def sign(self, secret: str, stamp: str) -> str:
        return hmac.new(secret.encode(), (secret + stamp).encode(), hashlib.sha256).hexdigest().upper()

    def signed(self) -> dict[str, str]:
        stamp = str(int(time.time() * 1000))
        secret = self.credentials["app_secret"]
        return {
            "partner_id": "aidge",
            "sign_method": "sha256",
            "sign_ver": "v2",
            "app_key": self.credentials["app_key"],
            "timestamp": stamp,
            "sign": self.sign(secret, stamp),
        }

    def submit(self) -> httpx.Response:
        body = {"requestParams": json.dumps(self.job["request"])}
        return self.http.post(self.job["endpoint"]["path"], params=self.signed(), json=body)

    def query(self, task_id: str) -> httpx.Response:
        return self.http.post(RESULTS, params=self.signed(), json={"task_id": task_id})

    def read(self, response: httpx.Response) -> Answer:
        body = response.json()
        if "resCode" not in body:  # the gateway's own envelope
            return refused(response, body, body.get("code"), body.get("message", ""))
        if str(body["resCode"]) != "200":
            return refused(response, body, body["resCode"], body.get("resMessage", ""))
        return Answer(response, None, body)

    def task_id(self, answer: Answer) -> str:
        task_id: str = answer.body["data"]["result"]["taskId"]
        return task_id

    def progress(self, answer: Answer) -> Progress:
        data = answer.body["data"]
        if data["taskStatus"] not in TERMINAL:
            return Progress(False)
        return Progress(True, batch_outcome(sub_tasks(data)))


def sub_tasks(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each sub-task's status and result images, from a finished results answer's ``data``
    (standard layout: ``result.imageList``; pro: ``result.data.structData.imageList``)."""
    items: list[tuple[str, list[str]]] = []
    for sub in data["taskResult"]:
        if sub["taskStatus"] != "finished":
            items.append(("failed", []))
            continue
        result = sub["taskResult"]["result"]
        images = result.get("imageList") or result["data"]["structData"]["imageList"]
        items.append(("succeeded", [i["imageUrl"] for i in images]))
    return items
