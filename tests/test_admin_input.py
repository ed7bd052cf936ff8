"""The admin API checks its input the same way on every route (README "Admin API", its errors): a
malformed request is a 400 naming what is wrong, a vendor or tenant that does not exist a 404
naming it and the valid ones, a method a route does not answer a 405 with ``Allow``."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import KEY, DashScopeCaller

VENDORS = "aidge, ailabtools, damo, dashscope"
PYTHON_WORDS = ("invalid literal", "could not convert", "not supported between", "NoneType", "Traceback")


def refused(answer: Any, status: int, *says: str) -> str:
    assert answer.status_code == status, answer.text
    error: str = answer.json()["error"]
    assert all(part in error for part in says), error
    assert not any(word in error for word in PYTHON_WORDS), error
    return error


# A request the route does not answer, and the route's Allow header.
NOT_ANSWERED = {
    "POST /_mock/journal": "GET, HEAD",
    "POST /_mock/tasks": "GET, HEAD",
    "POST /_mock/health": "GET, HEAD",
    "GET /_mock/reset": "POST",
    "DELETE /_mock/clock": "GET, HEAD, POST",
    "PUT /_mock/faults": "DELETE, GET, HEAD, POST",
    "GET /_mock/scenarios/happy-path": "POST",
    "POST /_mock/assets/top.png": "GET, HEAD",
    "POST /_mock/openapi/damo.json": "GET, HEAD",
    "GET /_mock/uploads": "POST",
}


@pytest.mark.parametrize("request_line", NOT_ANSWERED)
def test_a_method_a_route_does_not_answer_is_405_with_allow(client: TestClient, request_line: str) -> None:
    """It was the catch-all's plain 404, as if the route did not exist."""
    method, path = request_line.split()
    answer = client.request(method, path)
    refused(answer, 405, request_line, NOT_ANSWERED[request_line])
    assert answer.headers["allow"] == NOT_ANSWERED[request_line]


def test_the_vendors_routes_keep_their_own_answer_to_another_method(ds: DashScopeCaller) -> None:
    answer = ds.client.get("/api/v1/services/aigc/image2image/image-synthesis", headers=ds.headers())
    assert answer.status_code != 405 or "error" not in answer.json(), "the vendor's answer, not the admin's"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"limit": "abc"}, 'limit must be a whole number >= 1, not "abc"'),
        ({"limit": "0"}, "limit must be a whole number >= 1, not 0"),
        ({"since": "yesterday"}, 'since must be a whole number >= 0, not "yesterday"'),
        ({"tenat": KEY}, "GET /_mock/journal has no query parameter tenat: it takes endpoint, limit, since"),
    ],
)
def test_a_journal_query_parameter_of_the_wrong_kind_is_named(
    client: TestClient, query: dict[str, str], says: str
) -> None:
    refused(client.get("/_mock/journal", params=query), 400, says)


def test_a_journal_limit_keeps_the_last_entries(ds: DashScopeCaller) -> None:
    for _ in range(3):
        ds.query("none")
    entries = ds.client.get("/_mock/journal", params={"tenant": ds.key, "limit": "2"}).json()["entries"]
    assert [e["seq"] for e in entries] == [2, 3]


@pytest.mark.parametrize("path", ["/_mock/journal", "/_mock/tasks"])
def test_an_unknown_vendor_is_named_with_the_served_ones(client: TestClient, path: str) -> None:
    """``?vendor=nosuch`` answered an empty list, as if the vendor had nothing."""
    refused(client.get(path, params={"vendor": "nosuch"}), 404, "unknown vendor 'nosuch'", VENDORS)


def test_unknown_vendors_in_bodies_and_paths_are_named(client: TestClient) -> None:
    refused(client.get("/_mock/contracts/nosuch"), 404, "unknown vendor 'nosuch'", VENDORS)
    rule = {"vendor": "nosuch", "error": "Throttling"}
    refused(client.post("/_mock/faults", json=rule), 404, "unknown vendor 'nosuch'", VENDORS)
    quota = {"vendor": "nosuch", "tenant": KEY, "api": "a", "pool": "trial", "left": 1}
    refused(client.post("/_mock/quota", json=quota), 404, "unknown vendor 'nosuch'", VENDORS)
    creds = {"nosuch": [{"api_key": "x"}]}
    refused(client.post("/_mock/credentials", json=creds), 404, "unknown vendor 'nosuch'", VENDORS)


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (
            "/_mock/clock",
            {"bogus": 1},
            "POST /_mock/clock takes no field bogus: its fields are advance, set, speed",
        ),
        ("/_mock/timing", {"bogus": 1}, "POST /_mock/timing takes no field bogus: its fields are fail_at,"),
        ("/_mock/reset", {"tenants": KEY}, "POST /_mock/reset takes no field tenants: its fields are tenant"),
        ("/_mock/scenarios/happy-path", {"tenat": KEY}, "takes no field tenat: its fields are tenant"),
        (
            "/_mock/faults",
            {"error": "Throttling", "bogus": 1},
            "takes no field bogus in a rule: its fields are",
        ),
        (
            "/_mock/quota",
            {"vendor": "aidge", "tenant": KEY, "api": "a", "pool": "p", "left": 1, "x": 1},
            "field x",
        ),
        ("/_mock/credentials", {"credentials": {}, "x": 1}, "takes no field x beside credentials"),
    ],
)
def test_an_unknown_field_is_refused_on_every_route(
    client: TestClient, path: str, body: dict[str, Any], says: str
) -> None:
    """``/_mock/clock {"bogus": 1}`` was accepted, while ``/_mock/timing`` refused unknown fields."""
    before = client.get("/_mock/clock").json()["now"]
    refused(client.post(path, json=body), 400, says)
    assert client.get("/_mock/clock").json()["now"] == before, "a refused request changes nothing"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"speed": "fast"}, 'speed must be a number >= 0, not "fast"'),
        ({"advance": None}, "advance must be a number >= 0, not null"),
        ({"advance": -5}, "advance must be a number >= 0, not -5"),
        ({"set": "tomorrow"}, 'set must be a number, not "tomorrow"'),
        ({"set": 5}, "time only moves forward: set must be at or after the mock's now"),
    ],
)
def test_a_clock_field_of_the_wrong_kind_is_named(
    client: TestClient, body: dict[str, Any], says: str
) -> None:
    refused(client.post("/_mock/clock", json=body), 400, says)


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/_mock/timing", {"fail_at": "half"}, 'fail_at must be a number from 0 to 1, not "half"'),
        ("/_mock/timing", {"queue_seconds": [1]}, "queue_seconds must be a number >= 0, not [1]"),
        (
            "/_mock/faults",
            {"error": "Throttling", "per_tenant": "yes"},
            'per_tenant must be true or false, not "yes"',
        ),
        (
            "/_mock/quota",
            {"vendor": "aidge", "tenant": KEY, "api": "a", "pool": "trial", "left": "x"},
            "left must be",
        ),
        (
            "/_mock/quota",
            {"vendor": "aidge", "tenant": KEY, "api": "a", "pool": "free", "left": 1},
            'pool must be one of purchased, trial, not "free"',
        ),
        (
            "/_mock/quota",
            {"vendor": "dashscope", "tenant": KEY, "api": "a", "pool": "trial", "left": 1},
            "dashscope counts no quota: the vendors that do are aidge",
        ),
        (
            "/_mock/quota",
            {"vendor": "aidge"},
            "a quota is {vendor, tenant, api, pool, left}: api, left, pool, tenant",
        ),
    ],
)
def test_a_field_of_the_wrong_kind_is_named(
    client: TestClient, path: str, body: dict[str, Any], says: str
) -> None:
    refused(client.post(path, json=body), 400, says)


def tenant_refused(answer: Any) -> None:
    refused(answer, 404, "unknown tenant 'nosuch'", "POST /_mock/credentials", KEY)


def test_settings_for_a_tenant_that_does_not_exist_are_refused(client: TestClient) -> None:
    """Timing for a misspelt tenant was kept, and nobody's tasks used it."""
    tenant_refused(client.post("/_mock/timing", json={"tenant": "nosuch", "progress": "polls:1"}))
    tenant_refused(client.post("/_mock/timing", params={"tenant": "nosuch"}, json={"progress": "polls:1"}))
    tenant_refused(client.post("/_mock/faults", json={"tenant": "nosuch", "error": "Throttling"}))
    tenant_refused(client.post("/_mock/scenarios/throttled-burst", json={"tenant": "nosuch"}))
    quota = {"vendor": "aidge", "tenant": "nosuch", "api": "a", "pool": "trial", "left": 1}
    tenant_refused(client.post("/_mock/quota", json=quota))
    tenant_refused(client.post("/_mock/reset", json={"tenant": "nosuch"}))
    tenant_refused(client.delete("/_mock/faults", params={"tenant": "nosuch"}))
    tenant_refused(client.delete("/_mock/credentials", params={"tenant": "nosuch"}))
    tenant_refused(client.post("/_mock/uploads", params={"tenant": "nosuch"}, content=b"\x89PNG"))
    assert client.get("/_mock/faults").json()["rules"] == []
    assert client.get("/_mock/timing").json()["progress"] == "time"


def test_a_tenant_exists_once_its_credentials_are_registered(client: TestClient) -> None:
    """The contract-test suite's order: credentials first, then timing and faults."""
    creds = {"dashscope": [{"api_key": "sk-suite", "tenant": "suite-1"}]}
    client.post("/_mock/credentials", json=creds).raise_for_status()
    client.post("/_mock/timing", json={"tenant": "suite-1", "progress": "polls:1"}).raise_for_status()
    rule = {"vendor": "dashscope", "tenant": "suite-1", "error": "Throttling", "times": 1}
    assert client.post("/_mock/faults", json=rule).status_code == 201
    assert client.get("/_mock/timing", params={"tenant": "suite-1"}).json()["progress"] == "polls:1"


def test_a_tenant_with_tasks_exists_after_its_credentials_are_forgotten(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-gone"}]}).raise_for_status()
    gone = DashScopeCaller(ds.client, "sk-gone")
    gone.task_id()
    ds.client.delete("/_mock/credentials", params={"tenant": "sk-gone"}).raise_for_status()
    assert ds.client.post("/_mock/reset", json={"tenant": "sk-gone"}).json() == {"reset": "sk-gone"}
    tenant_refused_again = ds.client.post("/_mock/reset", json={"tenant": "sk-gone"})
    refused(tenant_refused_again, 404, "unknown tenant 'sk-gone'")


def test_reads_filter_by_a_tenant_with_nothing_as_an_empty_list(client: TestClient) -> None:
    """The suite reads the anonymous tenant's journal ("-") before anyone was anonymous."""
    assert client.get("/_mock/journal", params={"tenant": "-"}).json() == {"entries": []}
    assert client.get("/_mock/tasks", params={"tenant": "nosuch"}).json() == {"tasks": []}


def test_the_readmes_credentials_example_registers_them(client: TestClient) -> None:
    """``{"credentials": {...}}``, the config file's shape, answered "unknown vendor 'credentials'"."""
    doc = {"credentials": {"dashscope": [{"api_key": "sk-my-ci-key"}]}}
    answer = client.post("/_mock/credentials", json=doc)
    assert answer.status_code == 201 and answer.json() == {"tenants": ["sk-my-ci-key"]}, answer.text
    assert DashScopeCaller(client, "sk-my-ci-key").submit().status_code == 200
    bare = {"dashscope": [{"api_key": "sk-bare"}]}
    assert client.post("/_mock/credentials", json=bare).status_code == 201, "the bare shape still works"
    assert DashScopeCaller(client, "sk-bare").submit().status_code == 200


def test_a_credential_of_the_wrong_shape_names_the_vendors_shapes(client: TestClient) -> None:
    doc = {"damo": [{"appcode": 5}]}
    refused(
        client.post("/_mock/credentials", json=doc),
        400,
        "a damo credential is {appcode} or {app_key, app_secret}",
    )
