"""How the suite runs a client process: the outcome timed when it is written (a request between
writing it and exiting comes after it), and the persistent mode (one process for the run, a job
per line in, an outcome per line out; a process that dies is a finding and is started again)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from contracts.verify import PersistentAdapter, verify_client
from contracts.verify.adapters import CommandAdapter
from contracts.verify.report import Report
from mock_server.testing import MockServer

ROOT = Path(__file__).resolve().parents[1]
SEED = 4


def client_command(name: str, *flags: str) -> str:
    """``python -m tests.clients.run [flags] name``: a test client as a command."""
    return shlex.join([sys.executable, "-m", "tests.clients.run", *flags, name])


def counted(command: str, starts: Path) -> str:
    """``command``, noting each start of it as a line of ``starts``."""
    return shlex.join(["sh", "-c", f'echo start >> "$0"; exec {command}', str(starts)])


def run(
    adapter: CommandAdapter | PersistentAdapter, server: MockServer, vendor: str, examples: int
) -> Report:
    return verify_client(
        adapter,
        vendor=vendor,
        server=server,
        max_examples=examples,
        seed=SEED,
        shrink=False,
        progress="polls",
        explicit="off",  # the random phase alone: these tests are about running the client
    )


@pytest.mark.parametrize("vendor", ["dashscope", "aidge"])
def test_a_request_after_writing_the_outcome_is_late_though_the_process_still_runs(
    tryon_mock_server: MockServer, vendor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client writes its outcome, makes one read-only call, then exits: the call came after
    the outcome (judged by the process's exit, as before, it did not)."""
    monkeypatch.chdir(ROOT)
    adapter = CommandAdapter(client_command(f"{vendor}-reports-then-logs"))
    report = run(adapter, tryon_mock_server, vendor, 3)
    assert report.failure is not None, report.text()
    assert report.failure.names == ["no_request_after_outcome"], report.text()


def test_persistent_client_passes_and_starts_once(
    tryon_mock_server: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    starts = tmp_path / "starts"
    adapter = PersistentAdapter(counted(client_command("damo", "--jsonl"), starts))
    report = run(adapter, tryon_mock_server, "damo", 8)
    assert report.ok, report.text()
    assert report.examples == 8
    assert starts.read_text().splitlines() == ["start"], "one process for the whole run"
    assert adapter.client is None, "stopped at the end of the run"


def test_a_persistent_client_that_dies_is_a_finding_and_is_started_again(
    tryon_mock_server: MockServer, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    dies = shlex.join(
        [
            sys.executable,
            "-c",
            "import sys; sys.stdin.readline(); sys.stderr.write('out of memory'); sys.exit(3)",
        ]
    )
    adapter = PersistentAdapter(counted(dies, starts))
    report = verify_client(adapter, vendor="dashscope", server=tryon_mock_server, max_examples=5, seed=SEED)
    assert report.failure is not None, report.text()
    assert report.failure.names == ["outcome_conformance"], report.text()
    assert any("the persistent client exited 3: out of memory" in m for _, m in report.failure.checks)
    assert len(starts.read_text().splitlines()) >= 2, "started again for the next run (a shrink step)"


def test_a_persistent_client_past_its_budget_is_killed_and_replaced(
    tryon_mock_server: MockServer, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    hangs = shlex.join([sys.executable, "-c", "import sys, time; sys.stdin.readline(); time.sleep(60)"])
    adapter = PersistentAdapter(counted(hangs, starts), grace=0.2)
    report = verify_client(
        adapter, vendor="dashscope", server=tryon_mock_server, max_examples=2, seed=SEED, time_budget=0.3
    )
    assert report.failure is not None and report.failure.names == ["outcome_conformance"], report.text()
    message = "the persistent client ran past the job's time budget and 0.2 s of grace"
    assert any(message in m for _, m in report.failure.checks), report.text()
    assert len(starts.read_text().splitlines()) >= 2, "the hung process was replaced"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dashscope-keeps-first-key", "auth_conformance"),
        ("aidge-reports-then-logs", "no_request_after_outcome"),
    ],
)
def test_persistent_mode_catches_the_bugs_of_a_long_lived_client(
    tryon_mock_server: MockServer, monkeypatch: pytest.MonkeyPatch, name: str, expected: str
) -> None:
    """A client that keeps the first job's key (it shows only when one process runs several jobs),
    and one that calls after writing its outcome line."""
    monkeypatch.chdir(ROOT)
    vendor = name.split("-", maxsplit=1)[0]
    report = run(PersistentAdapter(client_command(name, "--jsonl")), tryon_mock_server, vendor, 5)
    assert report.failure is not None, report.text()
    assert expected in report.failure.names, report.text()
    assert "--persistent" in shlex.split(report.failure.replay)
