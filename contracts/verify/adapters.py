"""How the suite runs a client: a Python callable, or a command of any language that reads the job
as one JSON document on stdin and writes the outcome as one JSON document on stdout."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

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


class Adapter(Protocol):
    label: str

    def run(self, job: dict[str, Any]) -> Ran: ...

    def replay_command(self, vendor: str, scenario: str) -> str: ...


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

    def replay_command(self, vendor: str, scenario: str) -> str:
        return f"verify_client({self.label}, vendor={vendor!r}, replay={scenario!r})"


class CommandAdapter:
    """A command started once per job: the job on stdin, the outcome on stdout."""

    start_allowance = START_ALLOWANCE

    def __init__(self, command: str, cwd: str | None = None, grace: float = GRACE_SECONDS) -> None:
        self.command = command
        self.grace = grace
        self.args = shlex.split(command)
        self.cwd = cwd
        self.label = command

    def run(self, job: dict[str, Any]) -> Ran:
        timeout = float(job["time_budget_seconds"]) + self.start_allowance + self.grace
        try:
            done = subprocess.run(
                self.args,
                input=json.dumps(job),
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.cwd,
                check=False,
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
            return Ran(outcome=json.loads(done.stdout))
        except ValueError:
            return Ran(problem=f"stdout is not one JSON document: {done.stdout[:200]!r}")

    def replay_command(self, vendor: str, scenario: str) -> str:
        return shlex.join(
            ["tryon-mock", "verify", "--vendor", vendor, "--client-cmd", self.command, "--replay", scenario]
        )


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
