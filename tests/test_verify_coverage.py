"""The suite's reach (issue 16, gaps 6, 13, 15): the explicit phase walks every error row in every
place and its failures shrink and replay like the random phase's; production-like image URLs drawn
with Faker reach the client, the mock answers them, and a failure's scenario replays them exactly;
every report says what was and was not tried, from what the server recorded."""

from __future__ import annotations

import json
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

import contracts
from contracts.verify import verify_client
from contracts.verify.explicit import PLACES, targets
from contracts.verify.realistic import TLDS, image_url
from contracts.verify.scenario import Scenario, async_operations
from contracts.verify.server import Session
from mock_server.testing import MockServer
from tests.clients.aidge import AidgeClient
from tests.clients.buggy_rows import AidgeContentCodesFinal
from tests.clients.buggy_urls import DamoDropsUrlQuery
from tests.clients.damo import DamoClient

VENDORS = ("dashscope", "damo", "aidge", "ailabtools")
SEED = 9


@pytest.mark.parametrize("vendor", VENDORS)
def test_explicit_phase_walks_every_row_in_every_place(vendor: str) -> None:
    contract = contracts.load(vendor)
    pairs = {(place, row.id) for place in PLACES for row in contract.errors if row.can_occur(place)}
    operations = async_operations(contract)

    walked = targets(contract)  # the default: each pair once, the operations taking turns
    assert len(walked) == len(pairs)
    assert {(t.place, t.row) for t in walked} == pairs
    for place in PLACES:
        rows = [t for t in walked if t.place == place]
        if len(rows) >= len(operations):  # every operation meets the rows of this place
            assert {t.operation for t in rows} == set(operations), place

    every = targets(contract, mode="all")
    assert {(t.operation, t.place, t.row) for t in every} == {
        (name, place, row) for name in operations for place, row in pairs
    }
    assert targets(contract, mode="off") == []


def test_explicit_failure_is_the_same_every_run_and_replays(tryon_mock_server: MockServer) -> None:
    client = AidgeContentCodesFinal()
    found = [
        verify_client(client, vendor="aidge", server=tryon_mock_server, max_examples=1, seed=seed)
        for seed in (1, 2)
    ]
    for report in found:
        assert report.failure is not None, report.text()
        assert report.failure.names == ["retryable_retried"]
        assert report.failure.scenario["faults"] == [
            {"after": 0, "endpoint": "submit", "error": "1001", "times": 1}
        ]
        assert report.coverage["explicit_examples"] == report.examples  # found before the random phase
    assert found[0].failure is not None and found[1].failure is not None
    assert found[0].failure.scenario == found[1].failure.scenario

    replayed = verify_client(
        client, vendor="aidge", server=tryon_mock_server, replay=json.dumps(found[0].failure.scenario)
    )
    assert replayed.examples == 1
    assert replayed.failure is not None and replayed.failure.names == ["retryable_retried"]


def test_unknown_explicit_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="explicit is one of"):
        verify_client(AidgeClient(), vendor="aidge", server="http://127.0.0.1:1", explicit="some")


def test_drawn_urls_are_production_like_and_never_name_a_real_host() -> None:
    urls = [image_url(seed, ascii_only=seed % 2 == 0) for seed in range(300)]
    for seed, url in enumerate(urls):
        parts = urlsplit(url)
        assert parts.scheme == "https"
        assert parts.hostname is not None and parts.hostname.endswith(tuple(f".{t}" for t in TLDS)), url
        assert " " not in url
        if seed % 2 == 0:
            assert url.isascii(), url
    assert image_url(7) == image_url(7)  # a seed is a URL
    assert sum("%" in u for u in urls) > 200
    assert sum("Signature=" in u for u in urls) > 50
    assert any(not u.isascii() for u in urls)


def test_a_mangled_url_fails_and_its_scenario_replays_exactly(tryon_mock_server: MockServer) -> None:
    report = verify_client(
        DamoDropsUrlQuery(),
        vendor="damo",
        server=tryon_mock_server,
        max_examples=30,
        seed=SEED,
        explicit="off",
        shrink=False,
    )
    failure = report.failure
    assert failure is not None, report.text()
    assert failure.names == ["request_matches_job"]
    scenario = json.dumps(failure.scenario)
    remote = [u for u in _strings(failure.scenario["request"]) if u.startswith("https://")]
    assert remote and any("?" in u for u in remote), scenario  # a link with a query string
    assert any(m for _, m in failure.checks if "the job says" in m)

    again = verify_client(DamoDropsUrlQuery(), vendor="damo", server=tryon_mock_server, replay=scenario)
    assert again.failure is not None and again.failure.checks == failure.checks
    assert again.failure.job["request"] == failure.job["request"]  # the very URLs
    correct = verify_client(DamoClient(), vendor="damo", server=tryon_mock_server, replay=scenario)
    assert correct.ok, correct.text()  # the mock answers the remote URLs (its stand-in images)


def test_every_report_says_what_was_tried(tryon_mock_server: MockServer) -> None:
    report = verify_client(AidgeClient(), vendor="aidge", server=tryon_mock_server, max_examples=5, seed=SEED)
    assert report.ok, report.text()
    cov = report.coverage
    rows = cov["error_rows"]
    assert rows["tried"] == rows["rows"] == 15 and rows["not_tried"] == []  # the explicit phase
    assert {place: len(p["tried"]) for place, p in rows["places"].items()} == {
        "submit": 14,
        "query": 6,
        "task": 2,
    }
    assert cov["explicit_examples"] == 4 + 1 + 22  # 4 lasting schedules, a forgotten task, 22 rows
    assert set(cov["operations"]["tried"]) == {"tryon", "tryon-pro"}
    assert "succeeded" in cov["lifecycles"]["stages_shown"]

    text = report.text()
    assert "error rows: 15/15 (submit 14/14, query 6/6, task 2/2)" in text
    assert json.loads(json.dumps(report.as_dict()))["coverage"] == cov
    suite = ET.fromstring(report.junit())
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["coverage.error_rows"] == "15/15"
    assert props["coverage.explicit_examples"] == "27"
    out = suite.find("system-out")
    assert out is not None and out.text is not None and "error rows: 15/15" in out.text


def test_coverage_counts_what_the_server_did_not_what_was_meant(tryon_mock_server: MockServer) -> None:
    """A fault rule that never fires (a poll fault after the task already ended) is not counted as
    tried; a connection reset the server did is counted where it happened."""
    scenario = {
        "operation": "tryon",
        "request": [{"clothesList": [{"imageUrl": "asset://top.png"}]}],
        "timing": {"progress": "polls:1"},
        "faults": [
            {"endpoint": "query", "error": "500", "after": 5, "times": 1},
            {"endpoint": "submit", "network": "reset", "after": 0, "times": 1},
        ],
    }
    report = verify_client(
        AidgeClient(), vendor="aidge", server=tryon_mock_server, replay=json.dumps(scenario)
    )
    assert report.ok, report.text()
    cov = report.coverage
    assert cov["error_rows"]["tried"] == 0
    assert "500" in cov["error_rows"]["places"]["query"]["not_tried"]
    assert cov["network_faults"]["tried"] == {"submit reset": 1}
    assert cov["operations"] == {"tried": {"tryon": 1}, "not_tried": ["tryon-pro"]}
    assert cov["lifecycles"]["polls_per_task"] == {"1": 1}
    assert (
        "network faults: submit reset 1; delays: none; not tried: query reset, query truncate"
        in report.text()
    )


def test_tenants_get_customer_like_names_that_follow_the_scenario(tryon_mock_server: MockServer) -> None:
    session = Session(tryon_mock_server.url, contracts.load("aidge"))
    one = Scenario("tryon", [{"clothesList": [{"imageUrl": "asset://top.png"}]}])
    other = Scenario("tryon-pro", [{"clothesList": [{"imageUrl": "asset://top.png"}]}])
    try:
        tenants = [session.open(s) for s in (one, one, other)]
        for t in tenants:
            session.close(t)
    finally:
        session.shutdown()
    names = [t.id.rpartition("-")[0] for t in tenants]
    assert all(n.startswith("verify-") and len(n) > len("verify-") for n in names)
    assert names[0] == names[1] and tenants[0].id != tenants[1].id  # same scenario, two tenants
    assert names[0] != names[2]


def _strings(doc: object) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    return []
