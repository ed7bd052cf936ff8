"""``tryon-mock verify``: a client as a command, the reports, the replay line, and the jobs the
suite hands out."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

import contracts
from contracts.verify import CHECKS, verify_client
from contracts.verify.documents import job_problems, outcome_problems
from mock_server.cli import main
from mock_server.testing import MockServer
from tests.clients.run import CORRECT

ROOT = Path(__file__).resolve().parents[1]


def command(name: str) -> str:
    return f"{shlex.quote(sys.executable)} -m tests.clients.run {name}"


def verify(server: MockServer, *args: str) -> int:
    return main(["verify", "--server", server.url, *args])


def test_a_command_client_passes_and_writes_json_and_junit(
    tryon_mock_server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    args = ["--vendor", "damo", "--client-cmd", command("damo"), "--max-examples", "6", "--seed", "5"]
    args += ["--explicit", "off"]  # the random phase alone: 6 examples
    assert verify(tryon_mock_server, *args, "--report", str(out_json), "--report", str(out_xml)) == 0
    assert "PASSED" in capsys.readouterr().out
    report = json.loads(out_json.read_text())
    assert report["ok"] is True and report["examples"] == 6 and report["seed"] == 5
    assert report["coverage"]["examples"] == 6 and report["coverage"]["explicit_examples"] == 0
    assert set(report["checks"]) == set(CHECKS) and all(c["failed"] == 0 for c in report["checks"].values())
    suite = ET.parse(out_xml).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert [case.get("name") for case in suite.iter("testcase")] == list(CHECKS)
    assert {p.get("name") for p in suite.iter("property")} >= {"coverage.error_rows", "coverage.operations"}


def test_a_failure_prints_a_line_that_replays_exactly_that_case(
    tryon_mock_server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pace the correct client cannot meet makes poll_pace fail; the printed replay line, run
    as it is (plus the server), fails the same way on the same scenario."""
    monkeypatch.chdir(ROOT)
    strict = ["--check-option", "poll_pace.min_interval=5", "--progress", "polls"]
    args = [
        "--vendor",
        "dashscope",
        "--client-cmd",
        command("dashscope"),
        "--max-examples",
        "20",
        "--seed",
        "7",
        "--explicit",
        "off",  # the pace shows on the random phase's polls
    ]
    out_xml = tmp_path / "r.xml"
    assert verify(tryon_mock_server, *args, *strict, "--report", str(out_xml)) == 1
    text = capsys.readouterr().out
    assert "FAIL poll_pace" in text and "seed: 7" in text
    replay = text.splitlines()[text.splitlines().index("  replay exactly this case:") + 1].strip()
    argv = shlex.split(replay)
    assert argv[:2] == ["tryon-mock", "verify"] and "--replay" in argv
    scenario = json.loads(argv[argv.index("--replay") + 1])
    assert scenario["timing"] == {"progress": "polls:2"}, "shrunk to the fewest polls that show the bug"
    assert scenario["faults"] == [], "shrunk to no faults"
    assert main([*argv[1:], "--server", tryon_mock_server.url, *strict]) == 1
    assert "[poll_pace]" in capsys.readouterr().out
    failures = [c for c in ET.parse(out_xml).getroot().iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == ["poll_pace"]


@pytest.mark.parametrize(
    "args",
    [
        ["--exclude-checks", "no_such_check"],
        ["--check-option", "poll_pace.no_such_option=1"],
        ["--check-option", "poll_pace"],
        ["--operation", "no-such-model"],
    ],
)
def test_bad_arguments_exit_2(tryon_mock_server: MockServer, args: list[str]) -> None:
    assert verify(tryon_mock_server, "--vendor", "dashscope", "--client-cmd", "true", *args) == 2


def test_list_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--vendor", "dashscope", "--client-cmd", "x", "--list-checks"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(CHECKS)


@pytest.mark.parametrize("vendor", contracts.vendor_names())
def test_every_job_and_outcome_is_a_valid_document(tryon_mock_server: MockServer, vendor: str) -> None:
    """The suite hands out jobs that pass job.schema.json, for every operation it draws, and the
    correct clients' outcomes pass outcome.schema.json."""
    seen: list[tuple[dict[str, Any], Any]] = []
    client = CORRECT[vendor]()

    def spy(job: dict[str, Any]) -> Any:
        outcome = client(job)
        seen.append((job, outcome))
        return outcome

    report = verify_client(
        spy, vendor=vendor, server=tryon_mock_server, max_examples=40, seed=11, explicit="off"
    )  # every operation drawn
    assert report.ok, report.text()
    assert all(job_problems(job) == [] and outcome_problems(outcome) == [] for job, outcome in seen)
    operations = {job["operation"] for job, _ in seen}
    async_ops = {n for n, op in contracts.load(vendor).operations.items() if op.endpoint in _submits(vendor)}
    assert operations == async_ops, "every async operation is drawn"


def _submits(vendor: str) -> set[str]:
    return {e.id for e in contracts.load(vendor).endpoints if e.kind == "submit"}
