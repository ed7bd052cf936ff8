"""The suite's command adapter: a client in another language (a Node.js DashScope client) verified
through stdin and stdout, and commands that break the protocol (garbage on stdout, a nonzero exit,
a hang past the time budget) reported as outcome_conformance failures."""

from __future__ import annotations

import shlex
import shutil
import sys
import time
from pathlib import Path

import pytest

from contracts.verify.adapters import CommandAdapter
from contracts.verify.report import Report
from contracts.verify.runner import verify_client
from mock_server.testing import MockServer

NODE_CLIENT = Path(__file__).resolve().parent / "clients" / "node" / "dashscope_client.js"
SEED = 20_240_611


def node_command(*args: str) -> str:
    """The command line that runs the Node client (the test is skipped where there is no node)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return shlex.join([node, str(NODE_CLIENT), *args])


def python_command(code: str) -> str:
    """A command that runs this Python snippet as the 'client'."""
    return shlex.join([sys.executable, "-c", code])


def first_failure(client: str | CommandAdapter, server: MockServer, time_budget: float = 10.0) -> Report:
    """One or two examples, unshrunk: enough to show a client that fails on every job."""
    report = verify_client(
        client,
        vendor="dashscope",
        server=server,
        max_examples=2,
        seed=SEED,
        shrink=False,
        time_budget=time_budget,
    )
    assert not report.ok
    assert report.failure is not None
    return report


def test_node_client_passes(tryon_mock_server: MockServer) -> None:
    report = verify_client(  # the command adapter, on the random phase (a process per example)
        node_command(),
        vendor="dashscope",
        server=tryon_mock_server,
        max_examples=25,
        seed=SEED,
        explicit="off",
    )
    assert report.ok, report.text()
    assert report.examples >= 25
    assert all(counts["passed"] == report.examples for counts in report.checks.values()), report.text()


def test_node_client_bug_surfaces_as_a_check_failure(tryon_mock_server: MockServer) -> None:
    command = node_command("--bug=no-bearer")
    report = first_failure(command, tryon_mock_server)
    failure = report.failure
    assert failure is not None
    assert "auth_conformance" in failure.names, report.text()
    assert any("No API-key provided" in message for _, message in failure.checks), report.text()
    # The client itself behaved: it reported the vendor's refusal and exited 0 ...
    assert failure.outcome["status"] == "failed", report.text()
    assert failure.outcome["error"]["code"] == "InvalidApiKey"
    assert any("-> 401 InvalidApiKey" in line for line in failure.requests), report.text()
    # ... and the replay line names the exact command, bug flag included.
    replay = shlex.split(failure.replay)
    assert replay[replay.index("--client-cmd") + 1] == command


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("print('the try-on went fine')", "stdout is not one JSON document"),
        ('print(\'{"status": "done"}\')', "outcome/status: 'done' is not one of"),
        ('print(\'{"status": "failed", "images": "none"}\')', "outcome/images: 'none' is not of type"),
        (
            "import sys; sys.stderr.write('client crashed'); sys.exit(3)",
            "the command exited 3: client crashed",
        ),
    ],
    ids=["not-json", "unknown-status", "images-not-a-list", "nonzero-exit"],
)
def test_broken_command_fails_outcome_conformance(
    tryon_mock_server: MockServer, code: str, expected: str
) -> None:
    report = first_failure(python_command(code), tryon_mock_server)
    assert report.failure is not None
    assert report.failure.names == ["outcome_conformance"], report.text()
    assert any(expected in message for _, message in report.failure.checks), report.text()


def test_command_past_its_budget_is_killed(tryon_mock_server: MockServer) -> None:
    # The adapter allows time_budget + the start allowance (3 s) + grace (0.5 s), then kills; the
    # within_time_budget check names the budget the command overran.
    started = time.perf_counter()
    sleeper = CommandAdapter(python_command("import time; time.sleep(60)"))
    report = first_failure(sleeper, tryon_mock_server, time_budget=0.5)
    assert time.perf_counter() - started < 20  # killed at 4 s each, not left to sleep a minute
    assert report.failure is not None
    assert report.failure.names == ["outcome_conformance", "within_time_budget"], report.text()
    message = "the command ran past the job's 0.5 s time budget and was killed"
    assert any(message in text for _, text in report.failure.checks), report.text()
    assert any("past its 0.5 s budget" in text for _, text in report.failure.checks), report.text()
