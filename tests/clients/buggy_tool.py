"""Buggy variants that show how the suite runs a client as a command (tests/clients/buggy.py names
them all): a read-only request sent after the outcome is written but before the process exits
(DashScope's task list, Aidge's balance: DAMO and AILabTools have no call that another check would
not flag), and a long-lived client (the persistent mode) that keeps the first job's credentials."""

from __future__ import annotations

import copy
import threading
import time
from contextlib import suppress
from typing import Any

import httpx

from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import TLS, Client
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient

BALANCE = "/rest/ai/query/balance"  # Aidge's quota balance
LOG_DELAY = 0.005  # how long after reporting the closing poll goes out (the suite settles 20 ms)


class ReportsThenLogs(Client):
    """The shared bug: once it has reported, makes one read-only call "for the log" from a thread
    the process waits for before it exits (so, as a command, after writing its outcome)."""

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        outcome = super().__call__(job)
        logger = copy.copy(self)  # the suite reuses the client for its next job: keep this one apart
        threading.Thread(target=_log_call, args=(logger, job), daemon=False).start()
        return outcome

    def log_call(self) -> None:
        raise NotImplementedError


def _log_call(client: ReportsThenLogs, job: dict[str, Any]) -> None:
    time.sleep(LOG_DELAY)
    with httpx.Client(base_url=job["base_url"], timeout=2, trust_env=False, verify=TLS) as http:
        client.http = http
        with suppress(httpx.HTTPError):
            client.log_call()


class KeepsFirstKey(Client):
    """The shared bug: keeps the credentials of the first job it ran for every later one (a
    long-lived client that reads its keys once, at start)."""

    first: dict[str, str] | None = None

    @property
    def credentials(self) -> dict[str, str]:
        if self.first is None:
            self.first = dict(self.job["credentials"])
        return self.first


class DashScopeReportsThenLogs(ReportsThenLogs, DashScopeClient):
    """Lists its recent tasks (GET /tasks) after writing its outcome, before exiting."""

    def log_call(self) -> None:
        self.http.get("/tasks", headers={"Authorization": self.headers()["Authorization"]})


class AidgeReportsThenLogs(ReportsThenLogs, AidgeClient):
    """Asks for its quota balance after writing its outcome, before exiting."""

    def log_call(self) -> None:
        self.http.post(BALANCE, params=self.signed(), json={"apiPath": "/ai/virtual/tryon"})


class DashScopeKeepsFirstKey(KeepsFirstKey, DashScopeClient):
    """Sends the first job's API key with every later job."""


class DamoKeepsFirstKey(KeepsFirstKey, DamoClient):
    """Signs every later job with the first job's app key and secret."""


class AidgeKeepsFirstKey(KeepsFirstKey, AidgeClient):
    """Signs every later job with the first job's app key and secret."""


class AILabToolsKeepsFirstKey(KeepsFirstKey, AILabToolsClient):
    """Sends the first job's API key with every later job."""
