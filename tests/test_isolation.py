"""Tenant isolation, for every vendor, through a real uvicorn and the correct clients: one
tenant's task is answered to another exactly as an id that never existed; journals hold only
their tenant's requests; a fault rule of one tenant leaves the other's requests alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import contracts
from mock_server.testing import MockServer, Tenant
from tests.clients.base import Answer
from tests.clients.jobs import job_for, sample_files
from tests.clients.run import CORRECT

VENDORS = contracts.vendor_names()


def query_as(server: MockServer, tenant: Tenant, vendor: str, task_id: str, files: dict[str, Any]) -> Answer:
    """One query of ``task_id`` with ``tenant``'s credentials, read as the correct client reads it."""
    client = CORRECT[vendor]()
    client.job = job_for(server, tenant, vendor, files)
    with httpx.Client(base_url=tenant.base_url(vendor), timeout=10, trust_env=False) as http:
        client.http = http
        return client.read(client.query(task_id))


def seen_as(answer: Answer) -> tuple[Any, ...]:
    """What an answer tells a client: its HTTP status and the error code."""
    code = answer.error["code"] if answer.error else None
    return answer.response.status_code, code


def never_existed(task_id: str) -> str:
    """An id of the same shape that no task has (its last character changed)."""
    return task_id[:-1] + ("1" if task_id[-1] == "0" else "0")


def two_tenants(server: MockServer, vendor: str) -> tuple[Tenant, Tenant]:
    """Two fresh tenants whose tasks end at their first poll."""
    pair = server.new_tenant(), server.new_tenant()
    for tenant in pair:
        tenant.timing(vendor, progress="polls:1")
    return pair


@pytest.fixture
def files(tryon_mock_server: MockServer, tmp_path: Path) -> dict[str, Any]:
    return sample_files(tryon_mock_server, tmp_path)


@pytest.mark.parametrize("vendor", VENDORS)
def test_another_tenants_task_is_answered_as_an_unknown_id(
    tryon_mock_server: MockServer, files: dict[str, Any], vendor: str
) -> None:
    server = tryon_mock_server
    owner, other = two_tenants(server, vendor)
    done = CORRECT[vendor]()(job_for(server, owner, vendor, files))
    assert done["status"] == "succeeded", done
    task_id = done["task_id"]

    own = query_as(server, owner, vendor, task_id, files)
    assert own.error is None, own.error
    theirs = query_as(server, other, vendor, task_id, files)
    unknown = query_as(server, other, vendor, never_existed(task_id), files)
    assert seen_as(theirs) == seen_as(unknown)
    if theirs.error is None:  # vendors that answer an unknown id with a status, not an error
        client = CORRECT[vendor]()
        assert client.progress(theirs) == client.progress(unknown)
        assert client.progress(theirs) != client.progress(own)

    endpoints = {e.id: e.kind for e in contracts.load(vendor).endpoints}
    kinds = [endpoints[e["endpoint"]] for e in owner.journal(vendor)]
    assert kinds.count("submit") == 1 and len(kinds) == 3  # its submit, its poll, its own query
    assert [endpoints[e["endpoint"]] for e in other.journal(vendor)] == ["query", "query"]
    assert {t["id"] for t in other.tasks(vendor)} == set()


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_fault_rule_touches_only_its_tenant(
    tryon_mock_server: MockServer, files: dict[str, Any], vendor: str
) -> None:
    server = tryon_mock_server
    faulty, calm = two_tenants(server, vendor)
    contract = contracts.load(vendor)
    error = next(e for e in contract.errors if e.can_occur("submit") and not e.retryable)
    rule = faulty.fault(vendor, endpoint="submit", error=error.id)
    assert CORRECT[vendor]()(job_for(server, calm, vendor, files))["status"] == "succeeded"
    refused = CORRECT[vendor]()(job_for(server, faulty, vendor, files))
    assert refused["status"] == "failed", refused
    listed = server.admin("GET", "/faults", params={"tenant": calm.id(vendor)}).json()["rules"]
    assert rule["id"] not in [r["id"] for r in listed]


def test_one_tenant_with_every_vendor_sees_each_vendors_own_tasks(
    tryon_mock: Tenant, tryon_mock_server: MockServer, files: dict[str, Any]
) -> None:
    """The ``tryon_mock`` fixture's tenant holds credentials of every vendor. Jobs of all four
    vendors succeed on it; each vendor answers another vendor's task id exactly as an id that never
    existed; and the DashScope task list holds only DashScope's task."""
    server = tryon_mock_server
    done: dict[str, str] = {}
    for vendor in VENDORS:
        tryon_mock.timing(vendor, progress="polls:1")
        outcome = CORRECT[vendor]()(job_for(server, tryon_mock, vendor, files))
        assert outcome["status"] == "succeeded", (vendor, outcome)
        done[vendor] = outcome["task_id"]
    for vendor in VENDORS:
        unknown = query_as(server, tryon_mock, vendor, never_existed(done[vendor]), files)
        for other in (v for v in VENDORS if v != vendor):
            theirs = query_as(server, tryon_mock, vendor, done[other], files)
            assert seen_as(theirs) == seen_as(unknown), (vendor, other)
            if theirs.error is None:
                client = CORRECT[vendor]()
                assert client.progress(theirs) == client.progress(unknown), (vendor, other)
    key = tryon_mock.credentials["dashscope"]["api_key"]
    listed = httpx.get(
        tryon_mock.base_url("dashscope") + "/tasks",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        trust_env=False,
    )
    assert listed.status_code == 200, listed.text
    assert [row["task_id"] for row in listed.json()["data"]] == [done["dashscope"]]
