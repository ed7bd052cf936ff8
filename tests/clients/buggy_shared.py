"""The bugs several vendors' buggy variants share (tests/clients/buggy.py): each a mixin that
breaks ONE behaviour of the correct client it is mixed into (the poll interval ignored, a running
task taken for the end, no retries, retries of everything, no backoff, a request after the
outcome, a generic failure code, failed sub-tasks ignored, a poll after the end)."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import httpx

from tests.clients.base import TLS, Answer, Client, Progress

LATE_SECONDS = 0.003  # how long after returning the late request goes out (the suite settles 20 ms)


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
