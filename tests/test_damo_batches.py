"""DAMO batches through HTTP, in-process (manual clock): a batch's sub-tasks progress on their
own through the documented statuses, inference_num results each, a success code of 0 (or "0");
a query of an unknown result key, of none, or of another tenant's batch; the journal, result
links expiring after the result TTL, and a batch forgotten whole after the retention."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from tests.damo_rig import (
    DAMO,
    HEX32,
    LIFE,
    OP,
    QUERY,
    RUNNING,
    TENANT,
    WAITING,
    DamoCaller,
    assert_backend_error,
    ok,
    sub_task,
)
from tests.helpers import asset, conforms

# -- submit and query ---------------------------------------------------------------------------


def test_batch_submit_and_independent_progress(damo: DamoCaller) -> None:
    first = sub_task(tops_image=asset("top.png"))
    second = sub_task(ops_image=asset("dress.png"), pants_image=asset("bottom.png"))
    response = damo.submit([first, second], fit_type="HALF_BODY", inference_num=3)
    body = ok(response, "submit")
    assert body["code"] == 0 and body["success"] is True
    key = body["data"]["result_key"]
    assert HEX32.fullmatch(key), key
    assert body["data"]["task_list"] == [
        {"model_image": first["model_image"], "tops_image": first["tops_image"], "status": WAITING},
        {
            "model_image": second["model_image"],
            "tops_image": second["ops_image"],
            "pants_image": second["pants_image"],
            "status": WAITING,
        },
    ]

    queried = ok(damo.query(key), "query")
    assert queried["data"]["result_key"] == key
    assert [i["status"] for i in queried["data"]["task_list"]] == [WAITING, WAITING]

    queue, run, stagger = OP.queue_seconds, OP.run_seconds, OP.stagger_seconds
    assert 0 < stagger < run, "the contract's timings make the overlap below possible"
    damo.advance(queue + stagger / 2)  # the first runs, the second still waits its turn
    assert damo.statuses(key) == [RUNNING, WAITING]
    damo.advance(run - stagger / 2)  # t = queue + run: the first is done, the second runs
    items = damo.batch(key)
    assert [i["status"] for i in items] == [LIFE.succeeded, RUNNING]
    assert len(items[0]["results"]) == 3 and "results" not in items[1]
    damo.advance(stagger)  # t = queue + stagger + run: both done
    items = damo.batch(key)
    assert [i["status"] for i in items] == [LIFE.succeeded, LIFE.succeeded]
    assert items[1]["tops_image"] == second["ops_image"] and items[1]["pants_image"] == second["pants_image"]
    seen: set[bytes] = set()
    for item in items:
        assert len(item["results"]) == 3
        pictures = []
        for url in item["results"]:
            got = damo.client.get(url)
            assert got.status_code == 200 and got.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(got.content)).format == "PNG"
            pictures.append(got.content)
        assert len(set(pictures)) == 3, "the results of one sub-task differ from each other"
        seen.update(pictures)
    assert len(seen) == 6


def test_each_sub_task_walks_the_documented_statuses(damo: DamoCaller) -> None:
    key = damo.result_key(task_list=[sub_task(), sub_task()])
    end = OP.queue_seconds + OP.stagger_seconds + OP.run_seconds
    seen: list[list[str]] = []
    for _ in range(int(end) + 2):
        seen.append(damo.statuses(key))
        damo.advance(1)
    for column in range(2):
        walk = [row[column] for row in seen]
        order = [s for i, s in enumerate(walk) if i == 0 or walk[i - 1] != s]
        assert order == [WAITING, RUNNING, LIFE.succeeded], column
    started = [next(i for i, row in enumerate(seen) if row[c] == RUNNING) for c in range(2)]
    assert started[1] - started[0] == OP.stagger_seconds


def test_inference_num_defaults_to_one_result(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(3600)
    (item,) = damo.batch(key)
    assert item["status"] == LIFE.succeeded and len(item["results"]) == OP.results


def test_inference_num_written_as_a_float_gives_that_many_results(damo: DamoCaller) -> None:
    """JSON Schema counts 2.0 as an integer, so the mock must too (Schemathesis found a 500 here)."""
    key = damo.result_key(inference_num=2.0)
    damo.advance(3600)
    (item,) = damo.batch(key)
    assert item["status"] == LIFE.succeeded and len(item["results"]) == 2


def test_success_code_is_the_number_zero_by_default(damo: DamoCaller) -> None:
    submitted = ok(damo.submit())
    queried = ok(damo.query(submitted["data"]["result_key"]), "query")
    for body in (submitted, queried):
        assert type(body["code"]) is int and body["code"] == 0


def test_success_code_can_be_the_string_zero() -> None:
    app = create_app(Settings(speed=0, options={"damo": {"success_code": "string"}}))
    damo = DamoCaller(TestClient(app))
    submitted = ok(damo.submit())
    queried = ok(damo.query(submitted["data"]["result_key"]), "query")
    assert submitted["code"] == "0" and queried["code"] == "0"


# -- query --------------------------------------------------------------------------------------


def test_unknown_result_key(damo: DamoCaller) -> None:
    expected = DAMO.trigger("task.unknown")
    assert_backend_error(damo.query("0" * 32), expected, "query")


@pytest.mark.parametrize(
    "doc", [{"data": {}}, {"data": {"result_key": ""}}, {}], ids=["no-key", "empty", "no-data"]
)
def test_query_without_result_key(damo: DamoCaller, doc: dict[str, Any]) -> None:
    assert_backend_error(damo.post(QUERY, doc), DAMO.error("23500009"), "query")


def test_another_tenant_cannot_read_the_batch(damo: DamoCaller) -> None:
    made = damo.client.post("/_mock/credentials", json={"damo": [{"appcode": "other-code"}]})
    assert made.status_code == 201
    other = DamoCaller(damo.client, "other-code")
    key = damo.result_key()
    assert_backend_error(other.query(key), DAMO.trigger("task.unknown"), "query")
    assert damo.statuses(key) == [WAITING], "the owner still reads it"
    own = other.result_key()
    assert_backend_error(damo.query(own), DAMO.trigger("task.unknown"), "query")


# -- journal and expiry -------------------------------------------------------------------------


def test_journal_shows_the_submit_under_the_default_tenant(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.query(key)
    entries = damo.client.get("/_mock/journal", params={"tenant": TENANT}).json()["entries"]
    submits = [e for e in entries if e["endpoint"] == "submit"]
    assert len(submits) == 1
    (entry,) = submits
    assert (entry["vendor"], entry["task_id"], entry["status"], entry["tenant"]) == ("damo", key, 200, TENANT)
    queries = [e for e in entries if e["endpoint"] == "query"]
    assert [e["task_id"] for e in queries] == [key]


def test_result_link_expires_after_the_result_ttl(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(OP.queue_seconds + OP.run_seconds)
    (item,) = damo.batch(key)
    url = item["results"][0]
    assert damo.client.get(url).status_code == 200
    damo.advance(DAMO.result_ttl_seconds + 1)
    expired = damo.client.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "Request has expired." in expired.text


def test_batch_is_forgotten_after_retention(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(OP.queue_seconds + OP.run_seconds)
    assert damo.statuses(key) == [LIFE.succeeded]
    damo.advance(DAMO.retention_seconds - 1)
    assert damo.statuses(key) == [LIFE.succeeded], "still kept within the retention"
    damo.advance(2)
    assert_backend_error(damo.query(key), DAMO.trigger("task.unknown"), "query")


def test_a_batch_is_kept_or_forgotten_whole(damo: DamoCaller) -> None:
    """The sub-tasks of a batch end stagger_seconds apart; when the first one's retention has run
    out but the second's has not, a query must not answer a batch that lost a sub-task."""
    key = damo.result_key(task_list=[sub_task(), sub_task()])
    damo.advance(OP.queue_seconds + OP.stagger_seconds + OP.run_seconds)
    assert damo.statuses(key) == [LIFE.succeeded, LIFE.succeeded]
    damo.advance(DAMO.retention_seconds - OP.stagger_seconds / 2)  # between the two expiries
    response = damo.query(key)
    if response.status_code == 200:
        items = conforms("query", response, vendor="damo")["data"]["task_list"]
        assert len(items) == 2, f"the batch answers {len(items)} of its 2 sub-tasks"
    else:
        assert_backend_error(response, DAMO.trigger("task.unknown"), "query")
