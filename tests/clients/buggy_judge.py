"""Buggy clients the suite's judging must catch (issue 16): a forgotten task polled on, result links
cut to their path, an ``error`` reported with budget left, a signature in an undocumented variant
the mock tolerates for other callers. Each shared bug is a mixin, made a variant of every vendor's
correct client; tests/clients/buggy.py names them in ``CATALOG``."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

import contracts
from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import Answer, Client, GiveUp, Progress
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient

PATIENCE = 4  # how many more times the forgetful bug polls a task the vendor no longer knows
POLL_LIMIT = 3  # the early quitter's polls


class PollsForgottenTask(Client):
    """The shared bug: takes the vendor's "no such task" answer (DashScope's UNKNOWN status, the
    others' not-found error), which it gets for a task forgotten after its retention, for a task not
    ready yet, and polls it again (up to PATIENCE times) before it reports."""

    def query(self, task_id: str) -> httpx.Response:
        response = super().query(task_id)
        for _ in range(PATIENCE):
            if not self.forgotten(response):
                break
            self.pause(self.job["poll_interval_seconds"])
            response = super().query(task_id)
        return response

    def forgotten(self, response: httpx.Response) -> bool:
        contract = contracts.load(self.vendor)
        try:
            answer = self.read(response)
        except ValueError:
            return False
        if answer.error is not None:
            unknown = contract.triggers.get("task.unknown")
            return unknown is not None and str(answer.error["code"]) == str(contract.error(unknown).code)
        output = answer.body.get("output") if isinstance(answer.body, dict) else None
        status = output.get("task_status") if isinstance(output, dict) else None
        return status is not None and status == contract.lifecycle.unknown


class DashScopePollsForgotten(PollsForgottenTask, DashScopeClient):
    """Polls on after the task's UNKNOWN status (takes it for a glitch)."""


class DamoPollsForgotten(PollsForgottenTask, DamoClient):
    """Polls on after 23500008 "no records found" for its own result_key (takes it for not ready)."""


class AidgePollsForgotten(PollsForgottenTask, AidgeClient):
    """Polls on after 700 "invalid input: task_id" for its own task (takes it for not ready)."""


class AILabToolsPollsForgotten(PollsForgottenTask, AILabToolsClient):
    """Polls on after 404 ERROR_RESOURCE_NOT_FOUND for its own task (takes it for not ready)."""


def _bare(url: Any) -> Any:
    """The link without its query string (and fragment)."""
    return urlunsplit(urlsplit(url)._replace(query="", fragment="")) if isinstance(url, str) else url


class DropsLinkQuery(Client):
    """The shared bug: "cleans" each result link of its query string before reporting it; the link
    is signed (``Expires``, ``Signature``) and answers 403 without it."""

    def progress(self, answer: Answer) -> Progress:
        progress = super().progress(answer)
        outcome = dict(progress.outcome)
        if "images" in outcome:
            outcome["images"] = [_bare(u) for u in outcome["images"]]
        if "items" in outcome:
            items = outcome["items"]
            outcome["items"] = [{**i, "images": [_bare(u) for u in i.get("images", [])]} for i in items]
        return Progress(progress.terminal, outcome)


class DashScopeDropsLinkQuery(DropsLinkQuery, DashScopeClient):
    """Reports the result link without its signed query string."""


class DamoDropsLinkQuery(DropsLinkQuery, DamoClient):
    """Reports the sub-tasks' result links without their signed query strings."""


class AidgeDropsLinkQuery(DropsLinkQuery, AidgeClient):
    """Reports the sub-tasks' result links without their signed query strings."""


class AILabToolsDropsLinkQuery(DropsLinkQuery, AILabToolsClient):
    """Reports the result link without its signed query string."""


class GivesUpEarly(Client):
    """The shared bug: a fixed limit of POLL_LIMIT polls, whatever the time budget: a task that
    needs more is reported as ``error`` with most of the budget left."""

    def query(self, task_id: str) -> httpx.Response:
        self.polls = getattr(self, "polls", {})
        self.polls[task_id] = self.polls.get(task_id, 0) + 1
        if self.polls[task_id] > POLL_LIMIT:
            raise GiveUp(f"no result after {POLL_LIMIT} polls")
        return super().query(task_id)

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        self.polls = {}
        return super().__call__(job)


class DashScopeGivesUpEarly(GivesUpEarly, DashScopeClient):
    """Reports ``error`` after three polls of a task still running."""


class DamoGivesUpEarly(GivesUpEarly, DamoClient):
    """Reports ``error`` after three polls of a batch still running."""


class AidgeGivesUpEarly(GivesUpEarly, AidgeClient):
    """Reports ``error`` after three polls of a task still running."""


class AILabToolsGivesUpEarly(GivesUpEarly, AILabToolsClient):
    """Reports ``error`` after three polls of a task still running."""


class AidgeLowercaseSignature(AidgeClient):
    """Sends the v2 signature as lower-case hex (Python's ``hexdigest()`` without ``.upper()``); the
    documentation and every sample use upper case, and the mock tolerates it only for callers that
    are not strict."""

    def sign(self, secret: str, stamp: str) -> str:
        return hmac.new(secret.encode(), (secret + stamp).encode(), hashlib.sha256).hexdigest()


class DamoLooseAppCode(DamoClient):
    """Authenticates with ``Authorization: APPCODE  <code>`` (two spaces, from a format string); the
    documented form is ``APPCODE <code>``, which the mock tolerates loosely for non-strict callers."""

    def signed(self, path: str, body: bytes) -> dict[str, str]:
        code = self.credentials["appcode"]
        return {"Content-Type": "application/json; charset=utf-8", "Authorization": f"APPCODE  {code}"}
