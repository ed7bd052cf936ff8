"""Fault rules and the X-Mock-Fault header: seeded probabilities, tenant scope, bad specs."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers import DashScopeCaller
from tests.test_error_tables import AidgeDriver, DamoDriver


def test_probability_rules_are_reproducible_from_their_seed(ds: DashScopeCaller) -> None:
    def run() -> list[int]:
        ds.client.delete("/_mock/faults")
        rule = {
            "vendor": "dashscope",
            "endpoint": "list",
            "error": "Throttling",
            "probability": 0.5,
            "seed": 42,
        }
        ds.client.post("/_mock/faults", json=rule).raise_for_status()
        return [ds.client.get("/api/v1/tasks", headers=ds.headers()).status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 10 < first.count(429) < 30, "about half are throttled"


def test_fault_rules_stay_with_their_tenant(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-other"}]}).raise_for_status()
    rule = {"vendor": "dashscope", "tenant": "sk-other", "endpoint": "submit", "error": "Arrearage"}
    ds.client.post("/_mock/faults", json=rule).raise_for_status()
    assert ds.submit().status_code == 200
    other = DashScopeCaller(ds.client, "sk-other")
    assert other.submit().json()["code"] == "Arrearage"


@pytest.mark.parametrize("spec", ["error=NoSuchError", "network=explode", "delay=soon", "colour=red"])
def test_a_bad_fault_header_is_the_mocks_own_400(ds: DashScopeCaller, spec: str) -> None:
    response = ds.submit(headers={"X-Mock-Fault": spec})
    assert response.status_code == 400
    assert response.headers["x-mock-error"] == "bad-fault" and "mock_error" in response.json()


def test_bad_fault_rules_are_refused(ds: DashScopeCaller) -> None:
    for rule in (
        {"error": "Nope"},
        {"endpoint": "nowhere", "error": "Throttling"},
        {"times": 0, "error": "Throttling"},
        {"after": -1, "error": "Throttling"},
        {"after": "2", "error": "Throttling"},
        {"probability": 2, "error": "Throttling"},
    ):
        assert ds.client.post("/_mock/faults", json=rule).status_code == 400, rule
    nobody = ds.client.post("/_mock/faults", json={"vendor": "nobody", "error": "Throttling"})
    assert nobody.status_code == 404 and "'nobody'" in nobody.json()["error"], "a vendor that does not exist"
    assert ds.client.get("/_mock/faults").json()["rules"] == []


@pytest.mark.parametrize("driver_class", [DamoDriver, AidgeDriver], ids=["damo", "aidge"])
def test_a_marker_in_one_item_of_a_batch_fails_that_item(client: TestClient, driver_class: type) -> None:
    driver = driver_class(client)
    error = driver.contract.trigger("fault.task_failed")
    marked = driver.batch_with_marker(f"?mock-error={error.id}", position=1)
    client.post("/_mock/clock", json={"advance": 3600}).raise_for_status()
    life = driver.contract.lifecycle
    assert driver.sub_task_statuses(marked) == [life.succeeded, life.failed]


def test_after_lets_requests_through_first(ds: DashScopeCaller) -> None:
    rule = {
        "vendor": "dashscope",
        "tenant": ds.key,
        "endpoint": "query",
        "error": "Throttling",
        "after": 2,
        "times": 1,
    }
    ds.client.post("/_mock/faults", json=rule).raise_for_status()
    task_id = ds.task_id()
    statuses = [ds.query(task_id).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 200]
    listed = ds.client.get("/_mock/faults").json()["rules"][0]
    assert listed["after"] == 2 and listed["hits"] == 1
