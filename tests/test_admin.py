"""The /_mock control surface: health, reset, journal, tasks, timing, scenarios, credentials, assets."""

from __future__ import annotations

import io
import os
import time
from urllib.parse import urlsplit

import pytest
from PIL import Image
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, assets, create_app, scenario
from mock_server.settings import from_env
from mock_server.state import MockState
from tests.helpers import DashScopeCaller, asset

DS = contracts.load("dashscope")
LIFE = DS.lifecycle


def test_health_names_the_vendors(client: TestClient) -> None:
    body = client.get("/_mock/health").json()
    assert body["status"] == "ok" and body["vendors"] == sorted(contracts.vendor_names())


def test_journal_records_requests_and_filters(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.query(task_id)
    ds.client.get("/api/v1/tasks/x", headers={"Authorization": "Bearer nope"})
    entries = ds.client.get("/_mock/journal", params={"tenant": ds.key}).json()["entries"]
    assert [e["endpoint"] for e in entries] == ["image-synthesis", "task-query"]
    submit = entries[0]
    assert submit["headers"]["x-dashscope-async"] == "enable" and submit["task_id"] == task_id
    assert '"aitryon"' in submit["body"] and submit["status"] == 200
    only = ds.client.get("/_mock/journal", params={"endpoint": "task-query"}).json()["entries"]
    assert {e["tenant"] for e in only} == {ds.key, "-"}, "an unknown key journals as anonymous"
    since = ds.client.get("/_mock/journal", params={"since": submit["seq"]}).json()["entries"]
    assert submit["seq"] not in [e["seq"] for e in since]


def test_journal_is_bounded_per_tenant() -> None:
    app = create_app(Settings(speed=0, journal_per_tenant=5))
    ds = DashScopeCaller(TestClient(app))
    for _ in range(12):
        ds.query("none")
    entries = ds.client.get("/_mock/journal", params={"tenant": ds.key}).json()["entries"]
    assert len(entries) == 5 and entries[-1]["seq"] == 12


def test_reset_one_tenant_leaves_the_others(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-b"}]})
    other = DashScopeCaller(ds.client, "sk-b")
    mine, theirs = ds.task_id(), other.task_id()
    ds.client.post("/_mock/reset", json={"tenant": "sk-b"}).raise_for_status()
    assert other.output(theirs)["task_status"] == LIFE.unknown
    assert ds.output(mine)["task_status"] != LIFE.unknown
    ds.client.post("/_mock/reset").raise_for_status()
    assert ds.output(mine)["task_status"] == LIFE.unknown


def test_tasks_listing_shows_stage_and_error(ds: DashScopeCaller) -> None:
    ok = ds.task_id()
    bad = ds.task_id(headers={"X-Mock-Fault": "error=InternalError.Algo; at=task"})
    ds.advance(3600)
    rows = {r["id"]: r for r in ds.client.get("/_mock/tasks", params={"tenant": ds.key}).json()["tasks"]}
    assert rows[ok]["stage"] == "succeeded" and rows[bad]["error"] == "InternalError.Algo"
    link = ds.output(ok)["image_url"]
    assert rows[ok]["results"] == [urlsplit(link).path], "the result paths the answer links to"
    assert rows[bad]["results"] == [] and rows[ok]["group"] is None


def test_journal_keeps_what_the_vendor_read_and_showed(ds: DashScopeCaller) -> None:
    before = time.time()
    ds.client.post("/_mock/timing", json={"tenant": ds.key, "progress": "polls:2"}).raise_for_status()
    inputs = {"person_image_url": asset("person.png"), "bottom_garment_url": asset("bottom.png")}
    task_id = ds.task_id(inputs=inputs)
    ds.query(task_id)
    ds.query(task_id)
    submit, first, second = ds.client.get("/_mock/journal", params={"tenant": ds.key}).json()["entries"]
    assert submit["params"] == {"model": "aitryon", "input": inputs}
    (shown,) = first["tasks"]
    assert first["params"] is None and shown["id"] == task_id and shown["stage"] == "running"
    assert shown["status"] in [p.status for p in LIFE.phases]
    assert second["tasks"] == [{"id": task_id, "status": LIFE.succeeded, "stage": "succeeded"}]
    assert before <= submit["received"] <= first["received"] <= second["received"] <= time.time()


def test_credentials_of_a_tenant_can_be_forgotten(client: TestClient) -> None:
    doc = {"dashscope": [{"api_key": "sk-gone", "tenant": "t-gone"}, {"api_key": "sk-kept"}]}
    client.post("/_mock/credentials", json=doc).raise_for_status()
    assert client.delete("/_mock/credentials", params={"tenant": "t-gone"}).json() == {"forgotten": 1}
    keys = [c["api_key"] for c in client.get("/_mock/credentials").json()["dashscope"]]
    assert "sk-gone" not in keys and "sk-kept" in keys
    assert DashScopeCaller(client, "sk-gone").submit().status_code == 401
    assert client.delete("/_mock/credentials").status_code == 400


def test_timing_per_tenant(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/timing", json={"tenant": ds.key, "progress": "polls:1"}).raise_for_status()
    task_id = ds.task_id()
    assert ds.output(task_id)["task_status"] == LIFE.succeeded, "first poll finishes it"
    assert ds.client.post("/_mock/timing", json={"progress": "sometimes"}).status_code == 400


@pytest.mark.parametrize("name", scenario.names())
def test_every_scenario_loads(client: TestClient, name: str) -> None:
    assert client.post(f"/_mock/scenarios/{name}").json()["applied"] == name


def test_slow_queue_keeps_tasks_pending(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/scenarios/slow-queue").raise_for_status()
    task_id = ds.task_id()
    ds.advance(250)
    assert ds.output(task_id)["task_status"] == LIFE.phases[0].status
    ds.advance(3600)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded


def test_throttled_burst_throttles_three_submits_per_tenant(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/scenarios/throttled-burst").raise_for_status()
    codes = [ds.submit().status_code for _ in range(5)]
    assert codes == [429, 429, 429, 200, 200]
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-b"}]})
    assert DashScopeCaller(ds.client, "sk-b").submit().status_code == 429


def test_fails_midway_fails_at_half_the_run(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/scenarios/fails-midway").raise_for_status()
    task_id = ds.task_id()
    op = DS.operations["aitryon"]
    ds.advance(op.queue_seconds + op.run_seconds / 2 + 0.01)
    out = ds.output(task_id)
    assert out["task_status"] == LIFE.failed and out["code"] == DS.trigger("fault.task_failed").code


def test_results_expire_scenario(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/scenarios/results-expire").raise_for_status()
    task_id = ds.task_id()
    ds.advance(30)
    url = ds.output(task_id)["image_url"]
    ds.advance(61)
    assert ds.client.get(url).status_code == 403
    ds.advance(300)
    assert ds.output(task_id)["task_status"] == LIFE.unknown


def test_a_scenario_for_one_tenant_and_a_new_one_replaces_it(ds: DashScopeCaller) -> None:
    ds.client.post("/_mock/scenarios/throttled-burst", json={"tenant": ds.key}).raise_for_status()
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-b"}]})
    assert DashScopeCaller(ds.client, "sk-b").submit().status_code == 200
    ds.client.post("/_mock/scenarios/happy-path", json={"tenant": ds.key}).raise_for_status()
    assert ds.submit().status_code == 200


def test_inline_and_bad_scenarios(client: TestClient) -> None:
    doc = {
        "name": "mine",
        "description": "x",
        "timing": {"progress": "polls:3"},
        "faults": [{"endpoint": "query", "error": "@fault.throttled", "times": 1}],
    }
    assert client.post("/_mock/scenarios", json=doc).status_code == 200
    assert client.post("/_mock/scenarios", json={**doc, "timing": {"speed": 3}}).status_code == 400
    assert client.post("/_mock/scenarios", json={**doc, "faults": [{"error": "Nope"}]}).status_code == 400
    assert client.post("/_mock/scenarios/nope").status_code == 400
    listed = {s["name"] for s in client.get("/_mock/scenarios").json()["scenarios"]}
    assert listed == set(scenario.names())


def test_scenario_setting_applies_at_start() -> None:
    ds = DashScopeCaller(TestClient(create_app(Settings(speed=0, scenario="quick-polls"))))
    task_id = ds.task_id()
    ds.query(task_id)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded


def test_credentials_are_validated(client: TestClient) -> None:
    for bad in ({"dashscope": [{"key": "x"}]}, {"dashscope": "sk"}):
        assert client.post("/_mock/credentials", json=bad).status_code == 400
    assert client.post("/_mock/credentials", json={"nobody": [{"api_key": "x"}]}).status_code == 404
    listed = client.get("/_mock/credentials").json()["dashscope"]
    assert listed == [{**c, "tenant": c["api_key"]} for c in DS.default_credentials]


def test_assets_list_and_serve_real_images(client: TestClient) -> None:
    listed = client.get("/_mock/assets").json()["assets"]
    assert [a["name"] for a in listed] == list(assets.ASSETS)
    person = client.get(next(a["url"] for a in listed if a["name"] == "person.png"))
    assert Image.open(io.BytesIO(person.content)).size == (768, 1024)
    assert client.get("/_mock/assets/nothing.png").status_code == 404
    roles = {a["name"]: a["role"] for a in listed}
    assert (
        roles["person.png"] == "person" and roles["mask.png"] == "mask" and roles["two-persons.png"] is None
    )
    assert all(a["trips"] is None for a in listed if a["role"]), "an asset fit for a role trips no check"


def test_uploads_are_bounded(client: TestClient) -> None:
    assert client.post("/_mock/uploads", content=b"").status_code == 400
    big = client.post("/_mock/uploads", content=b"x" * (33 * 1024 * 1024))
    assert big.status_code == 413
    assert client.get("/_mock/uploads/nothing.png").status_code == 404


def test_admin_rejects_non_json(client: TestClient) -> None:
    declared = {"Content-Type": "application/json"}
    assert client.post("/_mock/faults", content=b"{", headers=declared).status_code == 400
    assert client.post("/_mock/credentials", content=b"[1]", headers=declared).status_code == 400
    assert client.post("/_mock/reset", content=b"nope", headers=declared).status_code == 400


def test_a_marker_on_a_mock_asset_url(ds: DashScopeCaller) -> None:
    response = ds.submit(
        inputs={
            "person_image_url": asset("person.png") + "?mock-error=Arrearage",
            "top_garment_url": asset("top.png"),
        }
    )
    assert response.json()["code"] == "Arrearage"


REMOTE = ("10.0.0.7", 40000)


RULE = {"error": "Throttling", "vendor": "dashscope"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_mock/reset", {}),
        ("GET", "/_mock/journal", None),
        ("POST", "/_mock/faults", RULE),
        ("GET", "/_mock/tasks", None),
    ],
)
def test_the_control_routes_answer_only_loopback_without_a_token(
    method: str, path: str, body: dict[str, str] | None
) -> None:
    app = create_app(Settings(speed=0))
    remote = TestClient(app, client=REMOTE)
    refused = remote.request(method, path, json={})
    assert refused.status_code == 403 and "X-Mock-Admin-Token" in refused.json()["error"]
    local = TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000))
    assert local.request(method, path, json=body).status_code < 300


def test_what_clients_read_stays_public_and_vendors_answer_anyone() -> None:
    remote = TestClient(create_app(Settings(speed=0)), client=REMOTE)
    for path in ("/_mock/health", "/_mock/assets", "/_mock/assets/top.png", "/_mock/openapi/damo.json"):
        assert remote.get(path).status_code == 200, path
    ds = DashScopeCaller(remote)
    output = ds.output(ds.task_id())
    assert "task_status" in output, "the vendor routes do not care where a client is"


def test_a_configured_token_opens_the_control_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYON_MOCK_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("TRYON_MOCK_PUBLIC_URL", "http://mock.ci:8000")  # the name clients use
    app = create_app(Settings().with_changes(from_env(os.environ)))
    remote = TestClient(app, base_url="http://mock.ci:8000", client=REMOTE)
    assert remote.get("/_mock/journal", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
    assert remote.get("/_mock/journal", headers={"X-Mock-Admin-Token": "guess"}).status_code == 403
    assert remote.get("/_mock/journal").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/_mock/assets/..%2F..%2F..%2Fetc%2Fpasswd",
        "/_mock/assets/%2Fetc%2Fpasswd",
        "/_mock/uploads/..%2F..%2Fpyproject.toml",
        "/_mock/uploads/%2e%2e%2fsettings.py",
        "/_mock/results/..%2F..%2Fpyproject.toml.png",
    ],
)
def test_assets_uploads_and_results_cannot_escape(client: TestClient, path: str) -> None:
    """Names are keys of in-memory catalogues, never paths: a traversal finds nothing."""
    answer = client.get(path)
    assert answer.status_code in (403, 404)
    assert b"root:" not in answer.content and b"[project]" not in answer.content


def test_a_credential_batch_that_does_not_fit_registers_nothing(client: TestClient, state: MockState) -> None:
    """The store is bounded per vendor: a batch past the bound is refused whole, none of it kept."""
    listed = len(client.get("/_mock/credentials").json()["dashscope"])
    room = state.store.credentials.limit - listed - 1
    fill = {"dashscope": [{"api_key": f"sk-fill-{i}"} for i in range(room)]}
    assert client.post("/_mock/credentials", json=fill).status_code == 201
    pair = {"dashscope": [{"api_key": "sk-first"}, {"api_key": "sk-second"}]}
    refused = client.post("/_mock/credentials", json=pair)
    assert refused.status_code == 400 and "at most" in refused.json()["error"]
    keys = {c["api_key"] for c in client.get("/_mock/credentials").json()["dashscope"]}
    assert "sk-first" not in keys and len(keys) == state.store.credentials.limit - 1
    assert DashScopeCaller(client, "sk-first").submit().status_code == 401
    again = {"dashscope": [{"api_key": "sk-fill-0", "tenant": "moved"}, {"api_key": "sk-first"}]}
    assert client.post("/_mock/credentials", json=again).status_code == 201, "a known key takes no room"
