"""``tryon-mock verify`` as people use it: the seed and progress on stderr, a replay line that
reproduces the failure as printed, arguments refused in one sentence that names the flag, exit
codes that tell a failed check from a broken tool, quiet ends of a closed pipe, nothing left in the
working directory, shrink steps counted apart, JUnit classnames, the gateway's string-to-sign."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import contracts
from contracts.verify import command as verify_command
from contracts.verify import verify_client
from mock_server.cli import main
from mock_server.testing import MockServer
from tests.clients.buggy import DamoUnsortedHeaders

ROOT = Path(__file__).resolve().parents[1]
PERSISTENT = [  # the quickest client: one process, the random phase alone
    "--client-cmd",
    f"{shlex.quote(sys.executable)} -m tests.clients.run --jsonl dashscope",
    "--persistent",
    "--explicit",
    "off",
]


def tool(
    *args: str, cwd: Path = ROOT, stdout: int | None = subprocess.PIPE, cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m mock_server verify ...`` as a subprocess (this checkout first on the path;
    Hypothesis' cache under ``cache`` when given)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "verify", *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_run_prints_its_seed_first_and_leaves_no_hypothesis_folder(
    tryon_mock_server: MockServer, tmp_path: Path
) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    done = tool(
        "--vendor",
        "dashscope",
        *PERSISTENT,
        "--max-examples",
        "2",
        "--seed",
        "5",
        "--server",
        tryon_mock_server.url,
        "--progress",
        "polls",
        cwd=work,
        cache=cache,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "tryon-mock verify: dashscope, seed 5, 2 examples"
    assert "PASSED" in done.stdout
    assert list(work.iterdir()) == [], "nothing left in the working directory (no .hypothesis/)"
    assert (cache / "tryon-mock" / "hypothesis").is_dir(), "Hypothesis' cache is the user's"


def test_progress_lines_go_to_stderr(
    tryon_mock_server: MockServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(verify_command, "PROGRESS_EVERY", 0.0)
    args = ["--vendor", "dashscope", *PERSISTENT, "--max-examples", "3", "--seed", "5", "--progress", "polls"]
    assert main(["verify", "--server", tryon_mock_server.url, *args]) == 0
    err = capsys.readouterr().err.splitlines()
    ticks = [line for line in err if " examples in " in line]
    assert [t.split()[2] for t in ticks] == ["1", "2", "3"], err
    assert all(t.endswith("0 failed so far") for t in ticks), err


def test_the_replay_line_carries_every_setting_and_reproduces_the_failure_as_printed(
    tryon_mock_server: MockServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    settings = [
        "--poll-interval",
        "0.05",
        "--retry-backoff",
        "0.03",
        "--time-budget",
        "8",
        "--progress",
        "polls",
        "--operation",
        "aitryon",
        "--check-option",
        "poll_pace.min_interval=5",
        "--exclude-checks",
        "nonce_uniqueness",
    ]
    args = ["--vendor", "dashscope", *PERSISTENT, "--max-examples", "20", "--seed", "7", *settings]
    assert main(["verify", "--server", tryon_mock_server.url, *args]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    replay = lines[lines.index("  replay exactly this case:") + 1].strip()
    argv = shlex.split(replay)
    assert argv[:2] == ["tryon-mock", "verify"]
    for flag, value in zip(settings[::2], settings[1::2], strict=True):
        assert value in {argv[i + 1] for i, a in enumerate(argv) if a == flag}, (flag, replay)
    assert argv[argv.index("--server") + 1] == tryon_mock_server.url
    assert "--persistent" in argv
    assert main(argv[1:]) == 1, "the line as printed, nothing added"
    again = capsys.readouterr().out
    assert "[poll_pace]" in again and "off  nonce_uniqueness" in again


def test_list_checks_works_alone() -> None:
    done = tool("--list-checks")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "outcome_conformance"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--vendor", "nope", "--client-cmd", "true"],
            "--vendor nope is not a vendor; choose one of " + ", ".join(contracts.vendor_names()),
        ),
        (["--client-cmd", "true"], "--vendor is required; choose one of"),
        (["--vendor", "damo"], "--client-cmd is required"),
        (
            ["--vendor", "damo", "--client-cmd", "no-such-client-xyz --fast"],
            "'no-such-client-xyz' is not found",
        ),
        (["--vendor", "damo", "--client-cmd", "./README.md"], "'./README.md' is not executable"),
        (["--vendor", "damo", "--client-cmd", "node 'unclosed"], "cannot read the client command"),
        (["--vendor", "damo", "--client-cmd", "true", "--replay", "{oops"], "--replay is not JSON"),
        (["--vendor", "damo", "--client-cmd", "true", "--replay", "[1]"], "--replay is a JSON list"),
        (["--vendor", "damo", "--client-cmd", "true", "--replay", "{}"], "--replay lacks the scenario field"),
        (
            ["--vendor", "damo", "--client-cmd", "true", "--replay", '{"operation": "x", "request": {}}'],
            "--replay names operation 'x'; this vendor's are tryon",
        ),
        (
            [
                "--vendor",
                "damo",
                "--client-cmd",
                "true",
                "--replay",
                '{"operation": "tryon", "request": {}, "faults": [{"bogus": 1}]}',
            ],
            "--replay has a field of the wrong shape",
        ),
        (
            ["--vendor", "damo", "--client-cmd", "true", "--server", "http://127.0.0.1:1"],
            "--server http://127.0.0.1:1: no tryon-mock answers there",
        ),
    ],
    ids=[
        "unknown-vendor",
        "no-vendor",
        "no-client",
        "no-program",
        "not-executable",
        "bad-quoting",
        "replay-not-json",
        "replay-not-object",
        "replay-no-fields",
        "replay-operation",
        "replay-fault",
        "server-down",
    ],
)
def test_bad_arguments_are_one_sentence_naming_the_flag(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["verify", *args]) == 2
    captured = capsys.readouterr()
    *before, line = captured.err.strip().splitlines()
    assert said in line, captured.err
    assert all(" seed " in b for b in before), "at most the run's first line (its seed) before it"
    assert "Traceback" not in captured.err and "contracts/" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_max_examples_below_one_is_refused(count: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--vendor", "damo", "--client-cmd", "true", "--max-examples", count])
    assert exited.value.code == 2
    assert "--max-examples" in capsys.readouterr().err


def test_a_report_that_cannot_be_written_names_the_flag(
    tryon_mock_server: MockServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["--vendor", "dashscope", *PERSISTENT, "--max-examples", "1", "--progress", "polls"]
    nowhere = "/nonexistent-dir/r.json"
    assert main(["verify", "--server", tryon_mock_server.url, *args, "--report", nowhere]) == 2
    captured = capsys.readouterr()
    assert "PASSED" in captured.out, "the report is still printed"
    assert (
        captured.err.strip()
        .splitlines()[-1]
        .startswith(f"tryon-mock verify: --report {nowhere}: cannot write")
    )


def test_a_crash_of_the_tool_exits_3_not_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug of the tool")

    monkeypatch.setattr("contracts.verify.runner.verify_client", broken)
    assert main(["verify", "--vendor", "damo", "--client-cmd", "true"]) == 3
    err = capsys.readouterr().err
    assert "RuntimeError: a bug of the tool" in err and "the tool itself failed (exit 3)" in err


def test_a_mock_of_its_own_that_does_not_start_exits_3_in_one_sentence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("contracts.verify.spawn.serve_command", lambda: [sys.executable, "-c", "exit(4)"])
    assert main(["verify", "--vendor", "damo", "--client-cmd", "true", "--seed", "1"]) == 3
    *_, said = capsys.readouterr().err.strip().splitlines()
    assert said.startswith("tryon-mock verify: the suite's own mock did not start: ") and "exited 4" in said


def test_a_closed_pipe_ends_quietly() -> None:
    """``tryon-mock verify --list-checks | head -0``: the reader is gone before the first line."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = tool("--list-checks", stdout=writer)
    finally:
        os.close(writer)
    assert done.returncode == 0
    assert done.stderr == ""


def test_shrink_steps_are_counted_apart_and_junit_names_the_check(
    tryon_mock_server: MockServer, tmp_path: Path
) -> None:
    report = verify_client(
        lambda job: {"status": "done"},
        vendor="dashscope",
        server=tryon_mock_server,
        max_examples=20,
        seed=3,
        poll_interval=0.05,
        checks={"nonce_uniqueness": False},
    )
    assert report.failure is not None
    replay = report.failure.replay
    assert "poll_interval=0.05" in replay and "checks={'nonce_uniqueness': False}" in replay, replay
    assert report.examples == 1, "the first example failed: every run after it shrank or replayed it"
    assert report.shrink_steps >= 1
    assert report.checks["outcome_conformance"] == {"passed": 0, "failed": 1}
    assert f"1 examples and {report.shrink_steps} shrink steps" in report.text()
    report.write(tmp_path / "r.xml")
    cases = {
        c.get("name"): c.get("classname") for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")
    }
    assert cases["outcome_conformance"] == "tryon-mock.dashscope.outcome_conformance"


def test_a_signature_failure_shows_the_gateways_string_to_sign(tryon_mock_server: MockServer) -> None:
    report = verify_client(
        DamoUnsortedHeaders(), vendor="damo", server=tryon_mock_server, max_examples=3, seed=3, shrink=False
    )
    assert report.failure is not None
    told = [m for name, m in report.failure.checks if name == "auth_conformance"]
    assert told, report.text()
    assert "Invalid Signature, Server StringToSign:POST\\napplication/json\\n" in told[0], told[0]
    assert "/api/v1/tryon/submit" in told[0], "the whole string-to-sign, its path included"
