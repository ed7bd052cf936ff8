"""A correct Marketplace DAMO client: the API Gateway's AppKey/AppSecret signature (HmacSHA256),
written from the gateway's signing documentation with hmac and hashlib only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx

from tests.clients.base import Answer, Client, Progress, batch_outcome, refused

ACCEPT = "application/json"
CONTENT_TYPE = "application/json; charset=utf-8"
TERMINAL = {"SUCCESS", "FAILED"}


class DamoClient(Client):
    vendor = "damo"

    def nonce(self) -> str:
        return str(uuid.uuid4())

    def signed_headers(self, headers: dict[str, str]) -> list[str]:
        """The X-Ca-* headers the signature covers, sorted by name."""
        return sorted(k for k in headers if k.lower().startswith("x-ca-") and k.lower() != "x-ca-signature")

    def string_to_sign(self, method: str, path: str, headers: dict[str, str]) -> str:
        signed = self.signed_headers(headers)
        block = "".join(f"{k}:{headers[k]}\n" for k in signed)
        fixed = [
            method,
            headers.get("Accept", ""),
            headers.get("Content-MD5", ""),
            headers.get("Content-Type", ""),
            "",
        ]
        return "\n".join(fixed) + "\n" + block + path

    def signed(self, path: str, body: bytes) -> dict[str, str]:
        headers = {
            "Accept": ACCEPT,
            "Content-Type": CONTENT_TYPE,
            "Content-MD5": base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode(),
            "X-Ca-Key": self.credentials["app_key"],
            "X-Ca-Timestamp": str(int(time.time() * 1000)),
            "X-Ca-Nonce": self.nonce(),
            "X-Ca-Signature-Method": "HmacSHA256",
        }
        names = sorted(k for k in headers if k.startswith("X-Ca-"))
        headers["X-Ca-Signature-Headers"] = ",".join(names)
        text = self.string_to_sign(
            "POST", path, {k: v for k, v in headers.items() if k != "X-Ca-Signature-Headers"}
        )
        secret = self.credentials["app_secret"].encode()
        headers["X-Ca-Signature"] = base64.b64encode(
            hmac.new(secret, text.encode(), hashlib.sha256).digest()
        ).decode()
        return headers

    def post(self, path: str, doc: Any) -> httpx.Response:
        body = json.dumps(doc).encode()
        return self.http.post(path, content=body, headers=self.signed(path, body))

    def submit(self) -> httpx.Response:
        return self.post(self.job["endpoint"]["path"], self.job["request"])

    def query(self, task_id: str) -> httpx.Response:
        return self.post("/api/v1/tryon/query", {"data": {"result_key": task_id}})

    def read(self, response: httpx.Response) -> Answer:
        gateway = response.headers.get("X-Ca-Error-Message")
        if gateway is not None and not response.content:
            code = response.headers.get("X-Ca-Error-Code") or gateway
            return Answer(response, {"http_status": response.status_code, "code": code, "message": gateway})
        body = response.json()
        if response.status_code != 200 or str(body.get("code")) != "0":
            return refused(response, body, body.get("code"), body.get("message", ""))
        return Answer(response, None, body)

    def task_id(self, answer: Answer) -> str:
        key: str = answer.body["data"]["result_key"]
        return key

    def progress(self, answer: Answer) -> Progress:
        tasks = answer.body["data"]["task_list"]
        if not all(t["status"] in TERMINAL for t in tasks):
            return Progress(False)
        items = [
            ("succeeded" if t["status"] == "SUCCESS" else "failed", list(t.get("results", []))) for t in tasks
        ]
        return Progress(True, batch_outcome(items))
