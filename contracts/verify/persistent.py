"""The persistent-client mode: one client process for the whole run, jobs and outcomes as JSON lines.

The command adapter starts a process per example, and a Python client pays its interpreter and
imports each time (hundreds of milliseconds). Here the command is started once: the suite writes
each job as one line on its stdin and reads the outcome as one line from its stdout, in order, one
outcome per job. Its stderr is its own (a log; kept in a file, its end quoted if the process dies).

The outcome's time is when its line arrived. A process that exits, or answers past the job's time
budget and the grace, is a finding for that example (``outcome_conformance``); it is started again
for the next one.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from queue import Empty, Queue
from typing import IO, Any

from contracts.verify import replay
from contracts.verify.adapters import GRACE_SECONDS, Ran, time_limit
from contracts.verify.process import split_command

STOP_SECONDS = 5.0  # for the process to end once its stdin is closed, before it is killed
SHOWN = 500  # characters of stderr quoted when the process dies


class _Client:
    """One started process, and a thread that reads its stdout lines (each with its arrival)."""

    def __init__(self, args: list[str], cwd: str | None) -> None:
        self.errors = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed by stop(), at the run's end
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            cwd=cwd,
        )
        self.lines: Queue[tuple[bytes, float] | None] = Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[bytes]) -> None:
        with suppress(ValueError, OSError):
            for line in stdout:
                self.lines.put((line, time.time()))
        self.lines.put(None)

    def send(self, line: bytes) -> bool:
        """Write one job line; False when the process no longer reads."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def death(self) -> str:
        """How the process ended, with the end of what it wrote on stderr."""
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(STOP_SECONDS)
        code = self.process.returncode
        self.errors.seek(0)
        tail = self.errors.read().decode("utf-8", "replace").strip()[-SHOWN:]
        ended = "closed its stdout" if code is None else f"exited {code}"
        return f"the persistent client {ended}" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        if self.process.poll() is None:
            with suppress(OSError, ValueError):
                self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]
        self.errors.close()


class PersistentAdapter:
    """A command started once per run, reading jobs and writing outcomes as JSON lines."""

    def __init__(self, command: str, cwd: str | None = None, grace: float = GRACE_SECONDS) -> None:
        self.command = command
        self.grace = grace
        self.args = split_command(command, cwd)
        self.cwd = cwd
        self.label = command
        self.client: _Client | None = None

    def run(self, job: dict[str, Any]) -> Ran:
        if self.client is None:
            try:
                self.client = _Client(self.args, self.cwd)
            except OSError as exc:
                return Ran(problem=f"the persistent client could not start: {exc}")
        client = self.client
        if not client.send(json.dumps(job).encode() + b"\n"):
            return self._lost(f"{client.death()} (before it took the job)")
        try:
            got = client.lines.get(timeout=time_limit(job, self.grace))
        except Empty:
            self._lost("")
            return Ran(
                problem=f"the persistent client ran past the job's time budget and {self.grace:g} s of grace"
            )
        if got is None:
            return self._lost(client.death())
        line, arrived = got
        try:
            return Ran(outcome=json.loads(line), reported=arrived)
        except ValueError:
            return Ran(problem=f"the outcome line is not one JSON document: {line[:200]!r}", reported=arrived)

    def _lost(self, problem: str) -> Ran:
        """Stop the process (it is started again for the next job)."""
        if self.client is not None:
            self.client.process.kill()
            self.client.stop()
            self.client = None
        return Ran(problem=problem)

    def close(self) -> None:
        if self.client is not None:
            self.client.stop()
            self.client = None

    def replay_command(self, vendor: str, scenario: str, shaping: Mapping[str, Any]) -> str:
        return replay.command_line(vendor, self.command, scenario, shaping, "--persistent")
