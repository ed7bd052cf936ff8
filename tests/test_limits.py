"""The vendors' documented rate and concurrency limits, on by default, per tenant, on the mock
clock (here a manual one): DashScope's 10 submits a second per model, 20 task queries a second,
100 upload policies a second per model, and 5 concurrent tasks per model; ``limits=off``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, create_app
from tests.helpers import AnyResponse, DashScopeCaller, conforms

THROTTLED = ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
LIMITS = contracts.load("dashscope").rate_limits


def advance(client: TestClient, seconds: float) -> None:
    client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


def rule(name: str) -> tuple[int, float]:
    found = next(r for r in LIMITS.rules if r.name == name)
    assert found.source  # every number cites its page
    return found.calls, found.per_seconds


def throttled(response: AnyResponse) -> bool:
    if response.status_code != 429:
        assert response.status_code == 200, response.text
        return False
    body = response.json()
    assert (body["code"], body["message"]) == THROTTLED
    return True


@pytest.fixture
def other(client: TestClient) -> DashScopeCaller:
    caller = DashScopeCaller(client, key="sk-second-tenant")
    client.post("/_mock/credentials", json={"dashscope": [{"api_key": caller.key}]}).raise_for_status()
    return caller


def test_submits_past_the_rate_are_throttled_per_tenant_and_model(
    client: TestClient, ds: DashScopeCaller, other: DashScopeCaller
) -> None:
    calls, per = rule("submit")
    assert (calls, per) == (10, 1.0)
    answers = [ds.submit() for _ in range(calls + 1)]
    assert [throttled(a) for a in answers] == [False] * calls + [True]
    conforms("image-synthesis", answers[-1])
    assert not throttled(ds.submit(model="aitryon-plus"))  # another model counts on its own
    assert not throttled(other.submit())  # another tenant too
    advance(client, per)
    assert not throttled(ds.submit())  # the window slid on the mock clock


def test_task_queries_past_the_rate_are_throttled(client: TestClient, ds: DashScopeCaller) -> None:
    calls, per = rule("task-query")
    assert (calls, per) == (20, 1.0)
    task_id = ds.task_id()
    answers = [ds.query(task_id) for _ in range(calls + 1)]
    assert [throttled(a) for a in answers] == [False] * calls + [True]
    advance(client, per)
    assert not throttled(ds.query(task_id))


def test_upload_policies_past_the_rate_are_throttled(ds: DashScopeCaller) -> None:
    calls, _ = rule("upload-policy")
    assert calls == 100
    path, params = "/api/v1/uploads", {"action": "getPolicy", "model": "aitryon"}
    answers = [ds.client.get(path, params=params, headers=ds.headers()) for _ in range(calls + 1)]
    assert [throttled(a) for a in answers] == [False] * calls + [True]


def statuses(ds: DashScopeCaller, ids: list[str]) -> list[str]:
    return [ds.query(task_id).json()["output"]["task_status"] for task_id in ids]


def test_a_task_beyond_the_concurrency_waits_in_pending(client: TestClient, ds: DashScopeCaller) -> None:
    assert LIMITS.concurrency is not None and LIMITS.concurrency.tasks == 5
    ids = [ds.task_id() for _ in range(6)]  # aitryon: 2 s queued, then 20 s running
    advance(client, 10)
    now = statuses(ds, ids)
    assert "PENDING" not in now[:5] and now[5] == "PENDING"
    advance(client, 11)  # 21 s: the first five still run
    assert statuses(ds, ids)[5] == "PENDING"
    advance(client, 2)  # 23 s: they ended, the sixth runs
    later = statuses(ds, ids)
    assert later[:5] == ["SUCCEEDED"] * 5 and later[5] not in ("PENDING", "SUCCEEDED")
    advance(client, 20)
    assert statuses(ds, ids)[5] == "SUCCEEDED"
    other_model = ds.task_id(model="aitryon-plus")  # counted per model: it does not wait
    advance(client, 3)
    assert statuses(ds, [other_model]) != ["PENDING"]


@pytest.fixture
def unlimited() -> Iterator[DashScopeCaller]:
    app = create_app(Settings(speed=0, seed=7, options={"dashscope": {"limits": "off"}}))
    with TestClient(app) as client:
        yield DashScopeCaller(client)


def test_limits_off_turns_every_limit_off(unlimited: DashScopeCaller) -> None:
    ids = [unlimited.task_id() for _ in range(12)]  # past the rate and the concurrency
    advance(unlimited.client, 10)
    assert "PENDING" not in statuses(unlimited, ids)
    assert not any(throttled(unlimited.query(ids[0])) for _ in range(25))
