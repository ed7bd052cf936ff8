"""``verify_client`` given no server: it starts ``tryon-mock serve`` as a subprocess, talks to it over
HTTP, and stops it at the end (reaped, its pipe closed); a command that fails to start is a clear
error, never a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from contracts.verify import verify_client
from contracts.verify.spawn import MockStartError, spawned_mock
from tests.clients.run import CORRECT


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[str]]:
    """Every process the suite starts, kept for the test to look at afterwards."""
    processes: list[subprocess.Popen[str]] = []

    class Recorded(subprocess.Popen[str]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            processes.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    return processes


def gone(process: subprocess.Popen[str]) -> bool:
    """Ended and reaped: no process (not even a zombie) has its id any more."""
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_without_a_server_the_suite_starts_and_stops_its_own_mock(
    started: list[subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mock's settings variables of the caller's environment do not reach the suite's mock.
    monkeypatch.setenv("TRYON_MOCK_CONFIG", "/nonexistent/tryon-mock.json")
    jobs: list[dict[str, Any]] = []
    client = CORRECT["dashscope"]()

    def spy(job: dict[str, Any]) -> Any:
        jobs.append(job)
        return client(job)

    report = verify_client(spy, vendor="dashscope", max_examples=3, seed=5, explicit="off")
    assert report.ok, report.text()

    [process] = started
    assert isinstance(process.args, list)
    assert process.args[:4] == [sys.executable, "-m", "mock_server", "serve"]
    assert jobs and all(job["base_url"].startswith("http://127.0.0.1:") for job in jobs)
    assert process.returncode is not None and gone(process)
    assert process.stdout is not None and process.stdout.closed
    assert not [t for t in threading.enumerate() if t.name == "tryon-mock-stdout"]


def test_a_command_that_exits_before_its_banner_is_a_clear_error(
    started: list[subprocess.Popen[str]],
) -> None:
    code = "import sys; print('starting'); sys.stderr.write('no such port'); sys.exit(3)"
    refused = pytest.raises(MockStartError, match="exited 3 before it printed its banner")
    with refused as failed, spawned_mock([sys.executable, "-c", code]):
        pass
    assert "stdout: starting" in str(failed.value) and "stderr: no such port" in str(failed.value)
    assert gone(started[0])


def test_a_command_that_prints_no_banner_is_stopped_after_the_timeout(
    started: list[subprocess.Popen[str]],
) -> None:
    code = "import time; print('tryon-mock is thinking', flush=True); time.sleep(60)"
    refused = pytest.raises(
        MockStartError, match=r"no 'tryon-mock \.\.\. serving on URL' banner within 0.5 s"
    )
    with refused, spawned_mock([sys.executable, "-c", code], start_timeout=0.5):
        pass
    assert started[0].returncode is not None and gone(started[0])


def test_the_banner_url_is_read_past_other_lines(started: list[subprocess.Popen[str]]) -> None:
    banner = "tryon-mock 9.9 serving on http://127.0.0.1:5555  (clock realtime, x1; progress time)"
    code = f"import time; print('a warning'); print({banner!r}, flush=True); time.sleep(60)"
    with spawned_mock([sys.executable, "-c", code]) as url:
        assert url == "http://127.0.0.1:5555"
        assert started[0].poll() is None
    assert gone(started[0])
