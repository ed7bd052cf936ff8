"""How the suite runs a client: a Python callable, or a command of any language that reads the job
as one JSON document on stdin and writes the outcome as one JSON document on stdout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.verify import replay
from contracts.verify.process import run_timed, split_command

# A command's time budget counts from its first request, or from this long after it was started
# if it sends none sooner: an interpreter and its imports (a Python client importing httpx takes
# 0.2-0.6 s on a quiet 2-core runner, over 2 s on one running many suites at once) are not the
# client's time to spend.
START_ALLOWANCE = 3.0
# It is killed this long past its budget and start allowance: past the within_time_budget check's
# allowance, so the check (which names the budget) decides, not the kill.
GRACE_SECONDS = 0.5


@dataclass
class Ran:
    """What a client run produced: its outcome document, or why there is none."""

    outcome: Any = None
    problem: str | None = None
    reported: float | None = None  # wall-clock time the outcome was complete, when not the return


def time_limit(job: Mapping[str, Any], grace: float) -> float:
    """Seconds a command may run on ``job`` before it is killed."""
    return float(job["time_budget_seconds"]) + grace


class Adapter(Protocol):
    label: str

    def run(self, job: dict[str, Any]) -> Ran: ...

    def replay_command(self, vendor: str, scenario: str, shaping: Mapping[str, Any]) -> str: ...


class PythonAdapter:
    """A callable that takes the job (a dict) and returns the outcome (a dict)."""

    def __init__(self, client: Callable[[dict[str, Any]], Any], label: str | None = None) -> None:
        self.client = client
        self.label = label or getattr(client, "__qualname__", None) or type(client).__name__

    def run(self, job: dict[str, Any]) -> Ran:
        try:
            return Ran(outcome=self.client(job))
        except Exception as exc:  # the client's own crash is a finding, not the suite's
            return Ran(problem=f"the client raised {type(exc).__name__}: {exc}")

    def replay_command(self, vendor: str, scenario: str, shaping: Mapping[str, Any]) -> str:
        return replay.python_call(self.label, vendor, scenario, shaping)


class CommandAdapter:
    """A command started once per job: the job on stdin, the outcome on stdout. The outcome's time
    is when its last bytes arrived on stdout, not when the process ended."""

    start_allowance = START_ALLOWANCE

    def __init__(self, command: str, cwd: str | None = None, grace: float = GRACE_SECONDS) -> None:
        self.command = command
        self.grace = grace
        self.args = split_command(command, cwd)  # CannotStart (a ValueError) at once, not per example
        self.cwd = cwd
        self.label = command

    def run(self, job: dict[str, Any]) -> Ran:
        try:
            done = run_timed(
                self.args, json.dumps(job), time_limit(job, self.start_allowance + self.grace), self.cwd
            )
        except subprocess.TimeoutExpired:
            budget = job["time_budget_seconds"]
            return Ran(problem=f"the command ran past the job's {budget:g} s time budget and was killed")
        except OSError as exc:
            return Ran(problem=f"the command could not start: {exc}")
        if done.returncode != 0:
            tail = done.stderr.strip()[-500:]
            return Ran(problem=f"the command exited {done.returncode}: {tail}")
        try:
            return Ran(outcome=json.loads(done.stdout), reported=done.written)
        except ValueError:
            return Ran(problem=f"stdout is not one JSON document: {done.stdout[:200]!r}")

    def replay_command(self, vendor: str, scenario: str, shaping: Mapping[str, Any]) -> str:
        return replay.command_line(vendor, self.command, scenario, shaping)


def adapter_for(client: Any) -> Adapter:
    """An adapter as given, a command line (str), or a Python callable."""
    if isinstance(client, str):
        return CommandAdapter(client)
    if hasattr(client, "run") and hasattr(client, "replay_command"):
        given: Adapter = client
        return given
    if callable(client):
        return PythonAdapter(client)
    raise TypeError("a client is a callable, a command line, or an adapter")
