"""contracts/journal.schema.json: what a mock answers about what it saw. Real answers of a real
uvicorn, for every vendor, after submits, polls, faults and an auth failure, follow it; the schema
refuses a wrong type; the suite refuses a server whose answers do not follow it, naming the server
and the first violation."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import contracts
from contracts.verify.documents import anonymous_tenant, journal_problems, tasks_problems
from contracts.verify.server import ANONYMOUS, ServerFormatError, Session, Tenant
from mock_server.testing import MockServer
from tests.clients.jobs import job_for, sample_files
from tests.clients.run import CORRECT


@pytest.fixture
def files(tryon_mock_server: MockServer, tmp_path: Path) -> dict[str, Any]:
    return sample_files(tryon_mock_server, tmp_path)


def answers(server: MockServer, vendor: str, tenant: str) -> tuple[Any, Any, Any]:
    """The tenant's journal, the anonymous journal and the tenant's tasks, as the admin API answers."""
    journal = server.admin("GET", "/journal", params={"vendor": vendor, "tenant": tenant}).json()
    strangers = server.admin("GET", "/journal", params={"vendor": vendor, "tenant": ANONYMOUS}).json()
    tasks = server.admin("GET", "/tasks", params={"vendor": vendor, "tenant": tenant}).json()
    return journal, strangers, tasks


@pytest.mark.parametrize("vendor", contracts.vendor_names())
def test_real_journal_and_task_answers_follow_the_schema(
    tryon_mock_server: MockServer, files: dict[str, Any], vendor: str
) -> None:
    server, contract = tryon_mock_server, contracts.load(vendor)
    tenant = server.new_tenant()
    tenant.timing(vendor, progress="polls:2")
    job = job_for(server, tenant, vendor, files)
    run = CORRECT[vendor]()

    run(job)  # a submit, polls, a task that succeeds with results
    failing = next(e for e in contract.errors if e.can_occur("task"))
    tenant.fault(vendor, endpoint="submit", error=failing.id, at="task", times=1)
    run(job)  # a task that fails
    refusal = next(e for e in contract.errors if e.can_occur("submit") and not e.retryable)
    tenant.fault(vendor, endpoint="submit", error=refusal.id, times=1)
    run(job)  # a vendor error injected at the submit
    tenant.fault(vendor, endpoint="submit", delay_ms=5, times=1)
    run(job)  # a delay
    run({**job, "credentials": {k: f"unknown-{v}" for k, v in job["credentials"].items()}})  # no tenant

    journal, strangers, tasks = answers(server, vendor, tenant.id(vendor))
    assert journal_problems(journal) == []
    assert journal_problems(strangers) == []
    assert tasks_problems(tasks) == []
    assert journal_problems(server.admin("GET", "/journal").json()) == []
    assert tasks_problems(server.admin("GET", "/tasks").json()) == []

    # ... and the answers held what the schema describes, not just empty lists.
    entries = journal["entries"]
    faults = [e["fault"] for e in entries if e["fault"]]
    assert {f["error"] for f in faults} >= {failing.id, refusal.id}
    assert any(f["delay_ms"] == 5 and f["error"] is None for f in faults)
    assert any(e["tasks"] for e in entries) and any(e["params"] is not None for e in entries)
    assert any(e["tenant"] == ANONYMOUS and e["error"] for e in strangers["entries"])
    rows = tasks["tasks"]
    assert any(t["stage"] == "succeeded" and t["results"] for t in rows)
    assert any(t["stage"] == "failed" and t["error"] == failing.id for t in rows)


def test_the_schema_refuses_a_wrong_type(tryon_mock: Any, files: dict[str, Any]) -> None:
    server = tryon_mock.server
    tryon_mock.timing("dashscope", progress="polls:1")
    CORRECT["dashscope"]()(job_for(server, tryon_mock, "dashscope", files))
    journal, _, tasks = answers(server, "dashscope", tryon_mock.id("dashscope"))
    assert journal_problems(journal) == [] and tasks_problems(tasks) == []

    bad_journal = copy.deepcopy(journal)
    bad_journal["entries"][1]["seq"] = str(bad_journal["entries"][1]["seq"])
    assert journal_problems(bad_journal) == [
        ("/entries/1/seq", f"{bad_journal['entries'][1]['seq']!r} is not of type 'integer'")
    ]
    bad_tasks = copy.deepcopy(tasks)
    bad_tasks["tasks"][0]["polls"] = None
    assert tasks_problems(bad_tasks) == [("/tasks/0/polls", "None is not of type 'integer'")]
    assert tasks_problems(journal) != [], "one answer is not the other"


def test_the_anonymous_tenant_is_the_schemas() -> None:
    assert ANONYMOUS == anonymous_tenant() == "-"


def fake_server(journal: httpx.Response) -> httpx.Client:
    """A server that lists no assets and answers every journal read with ``journal``."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_mock/assets":
            return httpx.Response(200, json={"assets": []})
        if request.url.path == "/_mock/journal":
            return journal
        return httpx.Response(200, json={"tasks": []})

    return httpx.Client(transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("journal", "expected"),
    [
        (
            httpx.Response(200, json={"entries": [{"seq": "1"}]}),
            "answers GET /_mock/journal in another format than contracts/journal.schema.json "
            "documents: /entries/0: 'time' is a required property (and 19 more)",
        ),
        (httpx.Response(200, json={"requests": []}), "/: 'entries' is a required property (and 1 more)"),
        (httpx.Response(200, text="<html>", headers={"content-type": "text/html"}), "not JSON (text/html)"),
    ],
    ids=["wrong-entry", "wrong-envelope", "not-json"],
)
def test_the_suite_refuses_a_server_that_speaks_another_format(
    journal: httpx.Response, expected: str
) -> None:
    url = "http://elsewhere.test:8000"
    session = Session(url, contracts.load("dashscope"), http=fake_server(journal))
    try:
        with pytest.raises(ServerFormatError) as refused:
            session.seen(Tenant("t", {}, opened=0.0), until=time.time())
    finally:
        session.shutdown()
    assert str(refused.value).startswith(f"the server at {url} answers GET /_mock/journal")
    assert expected in str(refused.value)
