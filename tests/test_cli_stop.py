"""How ``tryon-mock serve`` starts and stops, run as a real subprocess: a clean stop on SIGINT
(Ctrl-C) and SIGTERM, what a state file gave back, a port in use, all interfaces."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.test_cli import EXIT_TIMEOUT, SERVING, _pump, _read_banner, clean_env, command, run, submit

DEFAULT_KEY = "sk-tryon-mock"


@dataclass
class Running:
    """A server started; ``lines``: what it prints, stdout and stderr together, past the banner."""

    process: subprocess.Popen[str]
    url: str
    banner: list[str]
    lines: queue.Queue[str | None]

    def next_line(self) -> str:
        line = self.lines.get(timeout=EXIT_TIMEOUT)
        assert line is not None, self.banner
        return line.rstrip("\n")

    def stop(self, sig: signal.Signals) -> list[str]:
        """Send ``sig`` and wait for the end: the lines printed after the banner."""
        self.process.send_signal(sig)
        self.process.wait(EXIT_TIMEOUT)
        rest: list[str] = []
        while (line := self.lines.get(timeout=EXIT_TIMEOUT)) is not None:
            rest.append(line.rstrip("\n"))
        return rest


@contextmanager
def started(args: list[str], cwd: Path, argv: list[str] | None = None) -> Iterator[Running]:
    """``argv`` (by default ``tryon-mock serve --port 0``) with ``args``, up to its banner; killed
    on the way out if still running."""
    process = subprocess.Popen(
        argv or [*command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # a traceback shows among the lines, where it was printed
        text=True,
        cwd=cwd,
        env=clean_env(),
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        printed = _read_banner(lines, [])
        # the banner's first line (make prints its recipe line before)
        first = next((i for i, line in enumerate(printed) if SERVING.search(line)), None)
        assert first is not None, printed
        url = SERVING.search(printed[first])
        assert url
        yield Running(process, url.group(1), printed[first:], lines)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(EXIT_TIMEOUT)
        reader.join(EXIT_TIMEOUT)
        assert process.stdout
        process.stdout.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server_in_one_line_with_status_0(
    tmp_path: Path, http: httpx.Client, sig: signal.Signals
) -> None:
    """Ctrl-C used to end in an asyncio CancelledError and KeyboardInterrupt traceback (uvicorn
    raises the signal again after its stop), SIGTERM in status 143."""
    with started([], tmp_path) as server:
        assert http.get(f"{server.url}/_mock/health").status_code == 200
        after = server.stop(sig)
        assert server.process.returncode == 0, after
        assert after == ["stopped"], after  # and nothing else: no traceback


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_saves_the_state_file_and_a_restart_says_what_it_restored(
    tmp_path: Path, http: httpx.Client, sig: signal.Signals
) -> None:
    state = tmp_path / "mock.sqlite"
    with started(["--state-file", str(state)], tmp_path) as server:
        assert server.next_line() == f"state file {state}: new"
        accepted = submit(http, server.url, DEFAULT_KEY)
        assert accepted.status_code == 200, accepted.text
        rule = {"vendor": "dashscope", "endpoint": "submit", "error": "Throttling.RateQuota", "times": 1}
        assert http.post(f"{server.url}/_mock/faults", json=rule).status_code == 201
        after = server.stop(sig)
        assert server.process.returncode == 0, after
        assert after == [f"stopped (state saved to {state})"], after
    # The stop folded the WAL into the file: it is whole on its own.
    assert not Path(f"{state}-wal").exists() or Path(f"{state}-wal").stat().st_size == 0
    with started(["--state-file", str(state)], tmp_path) as again:
        assert (
            again.next_line() == f"state file {state}: restored 1 task of 1 tenant, 1 fault rule, 0 uploads"
        )
        task_id = accepted.json()["output"]["task_id"]
        query = http.get(
            f"{again.url}/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {DEFAULT_KEY}"}
        )
        assert query.json()["output"]["task_id"] == task_id
        assert again.stop(signal.SIGTERM)[-1] == f"stopped (state saved to {state})"


def test_a_port_in_use_is_one_sentence_naming_port_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.startswith(f"tryon-mock: port {port} on 127.0.0.1 is in use"), done.stderr
    assert "--port" in done.stderr and "PORT=" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_all_interfaces_print_urls_that_open_and_say_so(tmp_path: Path, http: httpx.Client) -> None:
    with started(["--host", "0.0.0.0"], tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert "0.0.0.0" not in "\n".join(server.banner)
        port = server.url.rsplit(":", 1)[1]
        assert server.banner[1] == (
            f"  listening on all interfaces: other machines use http://{socket.gethostname()}:{port}"
        )
        rows = {row.split()[0]: row.split()[1] for row in server.banner[2:]}
        assert http.get(rows["admin"] + "health").status_code == 200
        assert server.stop(signal.SIGINT) == ["stopped"]
