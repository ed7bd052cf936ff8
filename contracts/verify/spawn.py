"""A mock of the suite's own, for a run given no server: ``tryon-mock serve`` as a subprocess.

The suite never imports ``mock_server``: it starts the command on a free loopback port, learns the
URL from the banner the command prints first, talks to it over HTTP like any other server, and
stops it at the end (terminate, then kill if it does not go; always reaped, its pipe closed).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from queue import Empty, Queue
from typing import IO

# `tryon-mock serve` prints this line first:
#   tryon-mock 0.1.0 serving on http://127.0.0.1:41235  (clock realtime, x1; progress time)
BANNER = re.compile(r"^tryon-mock \S+ serving on (?P<url>https?://\S+)(?:\s|$)")
START_TIMEOUT = 60.0  # seconds for the command to print its banner (a loaded machine imports slowly)
STOP_TIMEOUT = 10.0  # seconds for it to stop after SIGTERM before it is killed
SHOWN = 2000  # characters of the command's output quoted when it fails to start

# The mock's settings variables (README: "Settings also come from TRYON_MOCK_* variables"): the
# suite sets each tenant's timing and faults itself, on a mock with the default settings.
SETTINGS_PREFIX = "TRYON_MOCK_"


def serve_command() -> list[str]:
    """The command line that serves every vendor on a free loopback port, quietly."""
    return [
        sys.executable,
        "-m",
        "mock_server",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "warning",
    ]


class MockStartError(RuntimeError):
    """The command exited, or printed no banner in time."""


@contextmanager
def spawned_mock(command: Sequence[str] | None = None, start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Run ``command`` (by default ``serve_command()``) and yield the URL its banner names; the
    process is stopped and reaped when the block ends, however it ends."""
    argv = list(command or serve_command())
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIX)}
    # stderr goes to a file rather than a pipe nobody reads (a full pipe would block the server);
    # it is read back only to explain a failed start.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert process.stdout is not None
        lines: Queue[str | None] = Queue()
        # Reads stdout to its end, so whatever the server prints later never fills the pipe.
        reader = threading.Thread(
            target=_read_lines, args=(process.stdout, lines), name="tryon-mock-stdout", daemon=True
        )
        reader.start()
        try:
            yield _banner_url(process, lines, errors, start_timeout)
        finally:
            _stop(process)
            reader.join(STOP_TIMEOUT)
            process.stdout.close()


def _read_lines(stream: IO[str], lines: Queue[str | None]) -> None:
    with suppress(ValueError, OSError):  # the pipe closed under the reader
        for line in stream:
            lines.put(line)
    lines.put(None)


def _banner_url(
    process: subprocess.Popen[str], lines: Queue[str | None], errors: IO[str], timeout: float
) -> str:
    """The URL of the banner line; MockStartError if the process ends or takes too long."""
    deadline = time.monotonic() + timeout
    printed: list[str] = []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except Empty:
            raise MockStartError(
                f"{_shown(process.args)} printed no 'tryon-mock ... serving on URL' banner "
                f"within {timeout:g} s" + _output(printed, errors)
            ) from None
        if line is None:
            with suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
            ended = "closed its output" if process.returncode is None else f"exited {process.returncode}"
            raise MockStartError(
                f"{_shown(process.args)} {ended} before it printed its banner" + _output(printed, errors)
            )
        match = BANNER.match(line)
        if match:
            return match["url"]
        printed.append(line)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _output(printed: list[str], errors: IO[str]) -> str:
    errors.flush()
    errors.seek(0)
    stderr = errors.read()[-SHOWN:].strip()
    stdout = "".join(printed)[-SHOWN:].strip()
    return (f"; stdout: {stdout}" if stdout else "") + (f"; stderr: {stderr}" if stderr else "")


def _shown(args: object) -> str:
    return shlex.join(str(a) for a in args) if isinstance(args, list | tuple) else str(args)
