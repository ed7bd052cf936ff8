"""The shape every test client shares: submit (retrying what is retryable), poll the task at the
job's pace until a terminal status, report an outcome document. A vendor client fills in the
requests and how to read the answers; a buggy variant overrides one step.

Which answers are retryable is the client's knowledge of the vendor (its documentation); these
test clients take it from the contract's error table, which records the same documentation.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

import contracts

TLS = ssl.create_default_context()  # made once: loading the CA store costs ~30 ms a client


@dataclass
class Answer:
    """One vendor answer as the client understood it."""

    response: httpx.Response
    error: dict[str, Any] | None = None  # {"http_status", "code", "message"} when the vendor refused
    body: Any = None


@dataclass
class Progress:
    terminal: bool
    outcome: dict[str, Any] = field(default_factory=dict)


class GiveUp(Exception):
    pass


class Client:
    vendor = ""
    attempts = 4  # per call, for retryable answers and transport failures
    on_response: Any = None  # an httpx response hook, for tests that look at every answer

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        self.job = job
        self.deadline = time.monotonic() + job["time_budget_seconds"]
        hooks = {"response": [self.on_response]} if self.on_response else {}
        with httpx.Client(
            base_url=job["base_url"], timeout=10, trust_env=False, verify=TLS, event_hooks=hooks
        ) as http:
            self.http = http
            try:
                return self.run()
            except GiveUp as exc:
                return {"status": "error", "detail": str(exc)}

    def run(self) -> dict[str, Any]:
        answer = self.call(self.submit)
        if answer.error is not None:
            return {"status": "failed", "error": answer.error}
        task_id = self.task_id(answer)
        while True:
            self.pause(self.job["poll_interval_seconds"])
            answer = self.call(lambda: self.query(task_id))
            if answer.error is not None:
                return {"status": "failed", "task_id": task_id, "error": answer.error}
            progress = self.progress(answer)
            if progress.terminal:
                return {"task_id": task_id, **progress.outcome}

    # -- the shared mechanics ----------------------------------------------------------------------

    def call(self, send: Any) -> Answer:
        """Send, retrying transport failures and retryable vendor answers after a backoff."""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self.read(send())
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise GiveUp(f"transport: {exc!r}") from exc
            else:
                if answer.error is None or not self.retryable(answer.error) or attempt == self.attempts:
                    return answer
            self.pause(self.job["retry_backoff_seconds"] * attempt)
        raise AssertionError("unreachable")

    def pause(self, seconds: float) -> None:
        if time.monotonic() + seconds > self.deadline:
            raise GiveUp("time budget spent")
        time.sleep(seconds)

    def retryable(self, error: dict[str, Any]) -> bool:
        code = str(error.get("code"))
        rows = [e for e in contracts.load(self.vendor).errors if code in (str(e.code), e.message)]
        return bool(rows) and all(e.retryable for e in rows)

    @property
    def credentials(self) -> dict[str, str]:
        creds: dict[str, str] = self.job["credentials"]
        return creds

    # -- what a vendor client supplies -------------------------------------------------------------

    def submit(self) -> httpx.Response:
        raise NotImplementedError

    def query(self, task_id: str) -> httpx.Response:
        raise NotImplementedError

    def read(self, response: httpx.Response) -> Answer:
        raise NotImplementedError

    def task_id(self, answer: Answer) -> str:
        raise NotImplementedError

    def progress(self, answer: Answer) -> Progress:
        raise NotImplementedError


def refused(response: httpx.Response, body: Any, code: Any, message: str) -> Answer:
    """An answer carrying the vendor's error."""
    return Answer(response, {"http_status": response.status_code, "code": code, "message": message}, body)


def batch_outcome(items: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """The outcome of a batch from each sub-task's (status, images)."""
    ok = all(status == "succeeded" for status, _ in items)
    return {
        "status": "succeeded" if ok else "failed",
        "images": [url for status, urls in items if status == "succeeded" for url in urls],
        "items": [{"status": status, "images": urls} for status, urls in items],
    }
