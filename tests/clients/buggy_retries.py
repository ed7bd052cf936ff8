"""Buggy clients of retries, pace and batches (issue 16, gaps 3, 7, 8 and 11), each a correct
client of tests/clients with ONE behaviour broken: a retry loop without an end, a single retry,
a backoff or poll interval read as milliseconds, a batch judged by its first sub-task. The bugs
every vendor can have are mixins with a variant per vendor; tests/clients/buggy.py's CATALOG names
the check each must trip. ``ThreeAttemptsInAll`` is no bug: a correct client with the common
"three attempts in all, connection errors included" rule, which the suite must pass."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.clients.aidge import TERMINAL as AIDGE_TERMINAL
from tests.clients.aidge import AidgeClient, sub_tasks
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import TLS, Answer, Client, Progress, batch_outcome
from tests.clients.damo import TERMINAL as DAMO_TERMINAL
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient


class RetriesForever(Client):
    """The shared bug: retries a retryable answer until it gets another one, with no limit on
    attempts and no look at the job's time budget."""

    attempts = 1_000_000

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)  # the deadline is never checked


class RetriesOnce(Client):
    """The shared bug: "retry once": two attempts in all, one fewer than the documented three."""

    attempts = 2


class BackoffAsMilliseconds(Client):
    """The shared bug: takes the job's retry backoff for milliseconds and divides it by 1000, so it
    retries at once (50 µs)."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        return super().__call__({**job, "retry_backoff_seconds": job["retry_backoff_seconds"] / 1000})


class PollIntervalAsMilliseconds(Client):
    """The shared bug: takes the job's poll interval for milliseconds (polls 50 µs apart), on a new
    connection per poll, the way a client that builds its HTTP client per request does."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        return super().__call__({**job, "poll_interval_seconds": job["poll_interval_seconds"] / 1000})

    def call(self, send: Any) -> Answer:
        shared = self.http
        with httpx.Client(base_url=self.job["base_url"], timeout=10, trust_env=False, verify=TLS) as fresh:
            self.http = fresh
            try:
                return super().call(send)
            finally:
                self.http = shared


class ThreeAttemptsInAll(Client):
    """Correct: three attempts of a call in all, a connection error counted as one."""

    attempts = 3


class DashScopeRetriesForever(RetriesForever, DashScopeClient):
    """Retries throttling and server errors forever, past the job's time budget."""


class DamoRetriesForever(RetriesForever, DamoClient):
    """Retries throttling and server errors forever, past the job's time budget."""


class AidgeRetriesForever(RetriesForever, AidgeClient):
    """Retries throttling and server errors forever, past the job's time budget."""


class AILabToolsRetriesForever(RetriesForever, AILabToolsClient):
    """Retries throttling and server errors forever, past the job's time budget."""


class DashScopeRetriesOnce(RetriesOnce, DashScopeClient):
    """Gives up on a retryable answer after one retry (two attempts, not three)."""


class AILabToolsRetriesOnce(RetriesOnce, AILabToolsClient):
    """Gives up on a retryable answer after one retry (two attempts, not three)."""


class DamoBackoffAsMilliseconds(BackoffAsMilliseconds, DamoClient):
    """Reads the retry backoff as milliseconds: retries at once."""


class AILabToolsBackoffAsMilliseconds(BackoffAsMilliseconds, AILabToolsClient):
    """Reads the retry backoff as milliseconds: retries at once."""


class DashScopePollIntervalAsMilliseconds(PollIntervalAsMilliseconds, DashScopeClient):
    """Reads the poll interval as milliseconds, a new connection per poll."""


class AidgePollIntervalAsMilliseconds(PollIntervalAsMilliseconds, AidgeClient):
    """Reads the poll interval as milliseconds, a new connection per poll."""


class DamoFirstSubTask(DamoClient):
    """Judges a batch by its first sub-task: reports as soon as ``task_list[0]`` ended, the
    others still running (and so reported failed)."""

    def progress(self, answer: Answer) -> Progress:
        tasks = answer.body["data"]["task_list"]
        if tasks[0]["status"] not in DAMO_TERMINAL:
            return Progress(False)
        items = [
            ("succeeded" if t["status"] == "SUCCESS" else "failed", list(t.get("results", []))) for t in tasks
        ]
        return Progress(True, batch_outcome(items))


class AidgeFirstSubTask(AidgeClient):
    """Judges a task of several request objects by its first sub-task (``taskResult[0]``): reports
    as soon as that one ended, the others still running (and so reported failed)."""

    def progress(self, answer: Answer) -> Progress:
        data = answer.body["data"]
        if data["taskResult"][0]["taskStatus"] not in AIDGE_TERMINAL:
            return Progress(False)
        return Progress(True, batch_outcome(sub_tasks(data)))


class DashScopeThreeAttemptsInAll(ThreeAttemptsInAll, DashScopeClient):
    """Correct: three attempts of a call in all, a connection error counted as one."""


class DamoThreeAttemptsInAll(ThreeAttemptsInAll, DamoClient):
    """Correct: three attempts of a call in all, a connection error counted as one."""


class AidgeThreeAttemptsInAll(ThreeAttemptsInAll, AidgeClient):
    """Correct: three attempts of a call in all, a connection error counted as one."""


class AILabToolsThreeAttemptsInAll(ThreeAttemptsInAll, AILabToolsClient):
    """Correct: three attempts of a call in all, a connection error counted as one."""
