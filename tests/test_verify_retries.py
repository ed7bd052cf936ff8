"""The client suite on retries, budgets, pace and batches (issue 16, gaps 3, 7, 8, 11 and 12): exact
scenarios replayed against the buggy clients of tests/clients/buggy_retries.py (each must fail on
its check) and the correct clients (each must pass), and the same seed giving the same verdict."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import contracts
from contracts.verify import verify_client
from contracts.verify.report import Report
from contracts.verify.scenario import LASTING
from mock_server.testing import MockServer
from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import Client
from tests.clients.buggy import DashScopeNeverRetries
from tests.clients.buggy_retries import (
    AidgeFirstSubTask,
    AidgePollIntervalAsMilliseconds,
    AidgeThreeAttemptsInAll,
    AILabToolsBackoffAsMilliseconds,
    AILabToolsRetriesForever,
    AILabToolsThreeAttemptsInAll,
    DamoBackoffAsMilliseconds,
    DamoFirstSubTask,
    DamoThreeAttemptsInAll,
    DashScopePollIntervalAsMilliseconds,
    DashScopeRetriesForever,
    DashScopeRetriesOnce,
    DashScopeThreeAttemptsInAll,
)
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient

PERSON, TOP = "asset://person.png", "asset://top.png"
REQUESTS: dict[str, tuple[str, Any, dict[str, str]]] = {  # operation, request, files
    "dashscope": (
        "aitryon",
        {"model": "aitryon", "input": {"person_image_url": PERSON, "top_garment_url": TOP}},
        {},
    ),
    "damo": (
        "tryon",
        {"data": {"fit_type": "HALF_BODY", "task_list": [{"model_image": PERSON, "tops_image": TOP}] * 3}},
        {},
    ),
    "aidge": ("tryon", [{"clothesList": [{"imageUrl": TOP}], "modelImage": [PERSON]}] * 3, {}),
    "ailabtools": (
        "try-on-clothes",
        {"task_type": "async", "clothes_type": "upper_body"},
        {"person_image": "person.png", "clothes_image": "top.png"},
    ),
}


def scenario(vendor: str, faults: list[dict[str, Any]], timing: dict[str, Any] | None = None) -> str:
    operation, request, files = REQUESTS[vendor]
    doc = {
        "operation": operation,
        "request": request,
        "files": files,
        "timing": timing or {"progress": "polls:2"},
        "faults": faults,
    }
    return json.dumps(doc)


def retryable_row(vendor: str, kind: str) -> str:
    """A retryable error of the vendor's table that can answer a ``kind`` request."""
    contract = contracts.load(vendor)
    return next(e.id for e in contract.errors if e.retryable and e.can_occur(kind))


def replay(client: Client, vendor: str, server: MockServer, doc: str, **options: Any) -> Report:
    return verify_client(client, vendor=vendor, server=server, replay=doc, **options)


def failed(report: Report) -> list[str]:
    return report.failure.names if report.failure is not None else []


# -- gap 3: a lasting retryable fault; the time budget kept exactly -------------------------------


def test_a_client_retrying_forever_is_stopped_and_fails_the_budget(tryon_mock_server: MockServer) -> None:
    lasting = [{"endpoint": "submit", "error": retryable_row("dashscope", "submit"), "times": LASTING}]
    doc = scenario("dashscope", lasting)
    report = replay(DashScopeRetriesForever(), "dashscope", tryon_mock_server, doc)
    assert "within_time_budget" in failed(report), report.text()
    assert report.failure is not None
    assert report.failure.job["time_budget_seconds"] == 2.0  # a lasting fault's short budget
    assert any("past its 2 s budget" in message for _, message in report.failure.checks), report.text()
    # the correct client gives up after its attempts and reports the vendor's error
    correct = replay(DashScopeClient(), "dashscope", tryon_mock_server, doc)
    assert correct.ok, correct.text()


def test_a_client_retrying_a_tasks_retryable_end_forever_is_stopped(tryon_mock_server: MockServer) -> None:
    """AILabTools answers a failed task with its (here retryable) error on every poll: no fault
    rule to lift. Past the budget the mock refuses the tenant's requests, so the run ends."""
    row = next(e.id for e in contracts.load("ailabtools").errors if e.retryable and e.can_occur("task"))
    doc = scenario(
        "ailabtools", [{"endpoint": "submit", "error": row, "at": "task"}], {"progress": "polls:1"}
    )
    report = replay(AILabToolsRetriesForever(), "ailabtools", tryon_mock_server, doc, time_budget=1.0)
    assert "within_time_budget" in failed(report), report.text()
    assert any(
        "past its 1 s budget" in message for _, message in (report.failure.checks if report.failure else [])
    )
    correct = replay(AILabToolsClient(), "ailabtools", tryon_mock_server, doc, time_budget=1.0)
    assert correct.ok, correct.text()


# -- gap 11: transport failures and retryable answers count together ------------------------------


@pytest.mark.parametrize(
    ("vendor", "cls"),
    [
        ("dashscope", DashScopeThreeAttemptsInAll),
        ("damo", DamoThreeAttemptsInAll),
        ("aidge", AidgeThreeAttemptsInAll),
        ("ailabtools", AILabToolsThreeAttemptsInAll),
    ],
)
@pytest.mark.parametrize("kind", ["submit", "query"])
def test_three_attempts_in_all_connection_errors_included_pass(
    tryon_mock_server: MockServer, vendor: str, cls: type[Client], kind: str
) -> None:
    """reset, error, error: three attempts of one call; the client may stop there."""
    faults = [
        {"endpoint": kind, "network": "reset", "after": 0, "times": 1},
        {"endpoint": kind, "error": retryable_row(vendor, kind), "after": 0, "times": LASTING},
    ]
    report = replay(cls(), vendor, tryon_mock_server, scenario(vendor, faults))
    assert report.ok, report.text()
    lines = report.checks["retryable_retried"]
    assert lines == {"passed": 1, "failed": 0}


def test_a_client_that_retries_once_fails_after_a_reset_and_an_error(tryon_mock_server: MockServer) -> None:
    faults = [
        {"endpoint": "query", "network": "reset", "after": 0, "times": 1},
        {"endpoint": "query", "error": retryable_row("dashscope", "query"), "after": 0, "times": LASTING},
    ]
    report = replay(DashScopeRetriesOnce(), "dashscope", tryon_mock_server, scenario("dashscope", faults))
    assert failed(report) == ["retryable_retried"], report.text()
    assert report.failure is not None
    assert any("(attempt 2)" in message for _, message in report.failure.checks), report.text()


# -- gap 8: pace thresholds far from the noise -----------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "cls"), [("damo", DamoBackoffAsMilliseconds), ("ailabtools", AILabToolsBackoffAsMilliseconds)]
)
def test_a_backoff_read_as_milliseconds_fails(
    tryon_mock_server: MockServer, vendor: str, cls: type[Client]
) -> None:
    faults = [{"endpoint": "submit", "error": retryable_row(vendor, "submit"), "times": LASTING}]
    report = replay(cls(), vendor, tryon_mock_server, scenario(vendor, faults))  # three retries at once
    assert failed(report) == ["retryable_retried"], report.text()


@pytest.mark.parametrize(
    ("vendor", "cls"),
    [("dashscope", DashScopePollIntervalAsMilliseconds), ("aidge", AidgePollIntervalAsMilliseconds)],
)
def test_a_poll_interval_read_as_milliseconds_fails_even_on_new_connections(
    tryon_mock_server: MockServer, vendor: str, cls: type[Client]
) -> None:
    report = replay(cls(), vendor, tryon_mock_server, scenario(vendor, [], {"progress": "polls:8"}))
    assert failed(report) == ["poll_pace"], report.text()


# -- gap 7: every partial state of a batch shows on a poll -----------------------------------------


@pytest.mark.parametrize(
    ("vendor", "buggy", "correct"),
    [("damo", DamoFirstSubTask, DamoClient), ("aidge", AidgeFirstSubTask, AidgeClient)],
)
def test_a_batch_judged_by_its_first_sub_task_fails(
    tryon_mock_server: MockServer, vendor: str, buggy: type[Client], correct: type[Client]
) -> None:
    doc = scenario(vendor, [], {"progress": "polls:1", "stagger_polls": 1})
    report = replay(buggy(), vendor, tryon_mock_server, doc)
    assert "stops_at_terminal_status" in failed(report), report.text()
    assert report.failure is not None
    # the answer it stopped at showed the first sub-task ended and the others not
    assert any("[" in line and "]" in line for line in report.failure.requests), report.text()
    passed = replay(correct(), vendor, tryon_mock_server, doc)
    assert passed.ok, passed.text()
    assert passed.checks["stops_at_terminal_status"] == {"passed": 1, "failed": 0}


def test_stagger_polls_is_a_timing_field_checked_like_the_others(tryon_mock_server: MockServer) -> None:
    tenant = tryon_mock_server.new_tenant().id("damo")
    url = f"{tryon_mock_server.url}/_mock/timing"
    bad = httpx.post(url, json={"tenant": tenant, "stagger_polls": -1}, trust_env=False)
    assert bad.status_code == 400, bad.text
    assert "stagger_polls" in bad.text
    good = tryon_mock_server.admin("POST", "/timing", json={"tenant": tenant, "stagger_polls": 2})
    assert good.json()["stagger_polls"] == 2


# -- gap 12: the same seed gives the same verdict --------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "cls"),
    [
        ("ailabtools", AILabToolsClient),
        ("dashscope", DashScopeNeverRetries),
        ("damo", DamoFirstSubTask),
        ("dashscope", DashScopeRetriesOnce),
    ],
    ids=lambda x: x if isinstance(x, str) else x.__name__,
)
def test_same_seed_same_verdict(tryon_mock_server: MockServer, vendor: str, cls: type[Client]) -> None:
    """Clients whose verdict hangs on no race: the failing checks and the example that failed are
    the same on a second run (a no-wait client's pace, or a late request against the settle
    window, are measured in wall-clock time: their failing example may move under load)."""

    def verdict() -> tuple[list[str], int]:
        report = verify_client(
            cls(),
            vendor=vendor,
            server=tryon_mock_server,
            max_examples=20,
            seed=1616,
            shrink=False,
            explicit="off",  # the random phase: the explicit one draws the simplest case, the same each run
        )
        return failed(report), report.examples

    assert verdict() == verdict()
