"""A correct AILabTools client over plain httpx (multipart uploads), written from the API pages."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.clients.base import Answer, Client, Progress, refused

RUNNING_CODES = {0, 1}  # task_status: 0 queued, 1 running, 2 done


class AILabToolsClient(Client):
    vendor = "ailabtools"

    def headers(self) -> dict[str, str]:
        return {"ailabapi-api-key": self.credentials["api_key"]}

    def submit(self) -> httpx.Response:
        files = {
            name: (f["filename"], Path(f["path"]).read_bytes(), f["content_type"])
            for name, f in self.job["files"].items()
        }
        return self.http.post(
            self.job["endpoint"]["path"], data=self.job["request"], files=files, headers=self.headers()
        )

    def query(self, task_id: str) -> httpx.Response:
        return self.http.get(
            "/api/common/query-async-task-result", params={"task_id": task_id}, headers=self.headers()
        )

    def read(self, response: httpx.Response) -> Answer:
        body = response.json()
        if response.status_code != 200 or body.get("error_code") not in (0, None):
            code = body.get("error_code_str") or (body.get("error_detail") or {}).get("code")
            return refused(response, body, code, body.get("error_msg", ""))
        return Answer(response, None, body)

    def task_id(self, answer: Answer) -> str:
        task_id: str = answer.body["task_id"]
        return task_id

    def progress(self, answer: Answer) -> Progress:
        body = answer.body
        if body["task_status"] in RUNNING_CODES:
            return Progress(False)
        url = (body.get("output") or {}).get("image_url") or (body.get("data") or {}).get("image")
        return Progress(True, {"status": "succeeded", "images": [url]})
