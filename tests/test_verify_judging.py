"""How the client suite judges (issue 16): a forgotten task ends the job, a read-only call of
another endpoint does not change the verdict, ``error`` needs a transport failure or a spent budget,
and the suite's credentials are strict. The buggy clients of these gaps are in CATALOG
(tests/clients/buggy_judge.py), run by tests/test_verify_clients.py."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from starlette.testclient import TestClient

import contracts
from contracts.verify import verify_client
from contracts.verify.scenario import PATIENT
from mock_server.testing import MockServer
from tests.aidge_rig import BALANCE
from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import Client
from tests.clients.buggy_judge import (
    AidgePollsForgotten,
    AILabToolsPollsForgotten,
    DamoPollsForgotten,
    DashScopePollsForgotten,
)
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient
from tests.clients.readonly import AidgeChecksBalance, DashScopeListsTasks
from tests.helpers import DashScopeCaller, v2_signed

SEED = 9
SECRET = "strict-test-secret-0000000000000"

# The simplest request of each vendor, with the explicit examples' task: it runs a few polls long
# and is forgotten as it ends.
FORGOTTEN: list[tuple[str, type[Client], type[Client], dict[str, object]]] = [
    (
        "dashscope",
        DashScopeClient,
        DashScopePollsForgotten,
        {
            "operation": "aitryon",
            "request": {
                "model": "aitryon",
                "input": {"person_image_url": "asset://person.png", "top_garment_url": "asset://top.png"},
            },
        },
    ),
    (
        "damo",
        DamoClient,
        DamoPollsForgotten,
        {
            "operation": "tryon",
            "request": {
                "data": {
                    "fit_type": "HALF_BODY",
                    "task_list": [{"model_image": "asset://person.png", "tops_image": "asset://top.png"}],
                }
            },
        },
    ),
    (
        "aidge",
        AidgeClient,
        AidgePollsForgotten,
        {"operation": "tryon", "request": [{"clothesList": [{"imageUrl": "asset://top.png"}]}]},
    ),
    (
        "ailabtools",
        AILabToolsClient,
        AILabToolsPollsForgotten,
        {
            "operation": "try-on-clothes-pro",
            "request": {"task_type": "async"},
            "files": {"person_image": "person.png", "top_garment": "top.png"},
        },
    ),
]


@pytest.mark.parametrize(
    ("vendor", "correct", "buggy", "scenario"), FORGOTTEN, ids=[vendor for vendor, *_ in FORGOTTEN]
)
def test_a_forgotten_task_ends_the_job(
    tryon_mock_server: MockServer,
    vendor: str,
    correct: type[Client],
    buggy: type[Client],
    scenario: dict[str, object],
) -> None:
    replay = json.dumps({**scenario, "timing": PATIENT})
    report = verify_client(correct(), vendor=vendor, server=tryon_mock_server, replay=replay)
    assert report.ok, report.text()  # stopping at the vendor's "no such task" and reporting failed
    caught = verify_client(buggy(), vendor=vendor, server=tryon_mock_server, replay=replay)
    assert caught.failure is not None, caught.text()
    assert "stops_at_terminal_status" in caught.failure.names, caught.text()


@pytest.mark.parametrize(
    ("vendor", "cls"),
    [("dashscope", DashScopeListsTasks), ("aidge", AidgeChecksBalance)],
    ids=["dashscope-lists-tasks", "aidge-checks-balance"],
)
def test_a_read_only_call_before_reporting_changes_no_verdict(
    tryon_mock_server: MockServer, vendor: str, cls: type[Client]
) -> None:
    report = verify_client(cls(), vendor=vendor, server=tryon_mock_server, max_examples=10, seed=SEED)
    assert report.ok, report.text()
    assert report.checks["stops_at_terminal_status"]["failed"] == 0


def test_an_error_after_the_budget_is_spent_is_justified(tryon_mock_server: MockServer) -> None:
    replay = json.dumps({**FORGOTTEN[0][3], "timing": {"progress": "polls:50"}})
    report = verify_client(
        DashScopeClient(), vendor="dashscope", server=tryon_mock_server, replay=replay, time_budget=0.1
    )
    assert report.ok, report.text()  # it gave up with its budget spent: error is its verdict
    assert report.checks["error_justified"] == {"passed": 1, "failed": 0}


def test_strict_credentials_refuse_the_variants_the_mock_tolerates(client: TestClient) -> None:
    doc = {
        "aidge": [
            {"app_key": "loose-aidge", "app_secret": SECRET},
            {"app_key": "strict-aidge", "app_secret": SECRET, "strict": True},
        ],
        "damo": [{"appcode": "loose-damo-code"}, {"appcode": "strict-damo-code", "strict": True}],
    }
    client.post("/_mock/credentials", json=doc).raise_for_status()
    listed = client.get("/_mock/credentials").json()
    strictness = {c["app_key"]: c.get("strict", False) for c in listed["aidge"]}
    assert (strictness["loose-aidge"], strictness["strict-aidge"]) == (False, True)

    def balance(app_key: str, lower: bool) -> dict[str, object]:
        params = v2_signed(app_key, SECRET)
        if lower:
            stamp = params["timestamp"]
            params["sign"] = hmac.new(SECRET.encode(), (SECRET + stamp).encode(), hashlib.sha256).hexdigest()
        base = contracts.load("aidge").base_path
        answer: dict[str, object] = client.post(base + BALANCE, params=params, json={"apiPath": "/x"}).json()
        return answer

    assert balance("loose-aidge", lower=True)["success"] is True, "tolerated for a loose caller"
    assert balance("strict-aidge", lower=False)["success"] is True, "the documented form passes"
    refused = balance("strict-aidge", lower=True)
    assert refused["code"] == "IncompleteSignature", refused

    def damo(code: str) -> tuple[int, str | None]:
        headers = {"Authorization": f"APPCODE  {code}", "Content-Type": "application/json"}
        answer = client.post("/api/v1/tryon/query", json={"data": {"result_key": "0" * 32}}, headers=headers)
        return answer.status_code, answer.headers.get("X-Ca-Error-Message")

    assert damo("loose-damo-code") == (400, None), "past the gateway: the result key is unknown"
    _, message = damo("strict-damo-code")
    assert message is not None and message.startswith("Invalid AppCode"), "the gateway refuses it"


def test_the_journal_shows_a_forgotten_task(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/timing", json={"tenant": ds.key, "retention_seconds": 5}).raise_for_status()
    task_id = ds.task_id()
    ds.client.post("/_mock/clock", json={"advance": 60}).raise_for_status()  # ended, then forgotten
    assert ds.output(task_id)["task_status"] == "UNKNOWN"
    *_, last = ds.client.get("/_mock/journal", params={"tenant": ds.key}).json()["entries"]
    assert last["tasks"] == [{"id": task_id, "status": "UNKNOWN", "stage": "unknown"}]
    assert last["error"] is None and last["status"] == 200
