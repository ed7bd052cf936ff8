"""A correct DashScope client over plain httpx, written from the API reference."""

from __future__ import annotations

from typing import Any

import httpx

from tests.clients.base import Answer, Client, Progress, refused

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}


class DashScopeClient(Client):
    vendor = "dashscope"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['api_key']}", "X-DashScope-Async": "enable"}

    def submit(self) -> httpx.Response:
        return self.http.post(self.job["endpoint"]["path"], json=self.job["request"], headers=self.headers())

    def query(self, task_id: str) -> httpx.Response:
        return self.http.get(f"/tasks/{task_id}", headers={"Authorization": self.headers()["Authorization"]})

    def read(self, response: httpx.Response) -> Answer:
        body = response.json()
        if response.status_code != 200:
            return refused(response, body, body.get("code"), body.get("message", ""))
        return Answer(response, None, body)

    def task_id(self, answer: Answer) -> str:
        task_id: str = answer.body["output"]["task_id"]
        return task_id

    def progress(self, answer: Answer) -> Progress:
        output: dict[str, Any] = answer.body["output"]
        status = output["task_status"]
        if status not in TERMINAL:
            return Progress(False)
        if status == "SUCCEEDED":
            url = output.get("image_url") or output.get("results", {}).get("image_url")
            return Progress(True, {"status": "succeeded", "images": [url]})
        error = {"code": output.get("code", status), "message": output.get("message", "")}
        return Progress(True, {"status": "failed", "error": error})
