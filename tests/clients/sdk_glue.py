"""What every official-SDK adapter (tests/clients/sdk.py) shares: ``Glue``, one job run through an
SDK (submit with retries, wait for the task in its own poll loop at the job's pace, report), with
retries of transport failures and of the answers the contract's error table marks retryable,
after a growing backoff, within the job's time budget; a vendor's glue supplies the SDK calls."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import contracts
from tests.clients.base import GiveUp

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
