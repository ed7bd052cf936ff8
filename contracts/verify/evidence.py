"""What one example left to judge: the journal of the example's tenant and its tasks (as
``contracts/journal.schema.json`` documents them), the job and what the client reported, and the
server's verdict on how the job ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from contracts.model import Contract, ErrorCode

TERMINAL_STAGES = ("succeeded", "failed", "canceled")


@dataclass
class Evidence:
    contract: Contract
    job: dict[str, Any]
    outcome: Any
    problem: str | None  # why the client produced no outcome
    entries: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    returned: float  # wall-clock time the client's run ended
    started: float = 0.0  # wall-clock time the client was given the job
    start_allowance: float = 0.0  # seconds the adapter may take to start the client (a command's start)

    @cached_property
    def kinds(self) -> dict[str, str]:
        return {e.id: e.kind for e in self.contract.endpoints}

    def kind(self, entry: Mapping[str, Any]) -> str:
        return self.kinds.get(entry["endpoint"], "unknown")

    def row(self, entry: Mapping[str, Any]) -> ErrorCode | None:
        """The vendor error the client got (none when a network fault kept the answer from it)."""
        if not entry.get("error") or self.network(entry):
            return None
        return self.contract.error(entry["error"])

    @staticmethod
    def network(entry: Mapping[str, Any]) -> str | None:
        fault = entry.get("fault") or {}
        return fault.get("network")

    @staticmethod
    def injected(entry: Mapping[str, Any]) -> bool:
        """Whether the suite's fault rules decided this answer (an error or a network fault)."""
        fault = entry.get("fault") or {}
        return bool(fault.get("error") or fault.get("network"))

    def shows_terminal(self, entry: Mapping[str, Any]) -> bool:
        """Whether the answer the client got showed every task of it ended (a truncated or reset
        answer showed the client nothing)."""
        shown = entry.get("tasks") or []
        return bool(shown) and all(t["stage"] in TERMINAL_STAGES for t in shown) and not self.network(entry)

    @cached_property
    def submits(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if self.kind(e) == "submit"]

    @cached_property
    def created(self) -> list[str]:
        """The task (or batch) ids the server gave this client, oldest first."""
        return [
            e["task_id"]
            for e in self.submits
            if e.get("task_id") and not e.get("error") and not self.network(e)
        ]

    def task_of(self, entry: Mapping[str, Any]) -> str | None:
        """The task a request names: as the server read it, or (for a request answered before the
        vendor read it, by an injected fault) the created id its path, query or body carries."""
        if entry.get("task_id"):
            return str(entry["task_id"])
        text = f"{entry['path']}?{entry.get('query', '')}\n{entry.get('body') or ''}"
        return next((t for t in self.created if t in text), None)

    def last_shown(self, task_id: str) -> dict[str, Any] | None:
        """The last answer about ``task_id`` that reached the client and showed its tasks."""
        showing = [
            e for e in self.entries if self.task_of(e) == task_id and e.get("tasks") and not self.network(e)
        ]
        return showing[-1] if showing else None

    def group(self, task_id: str) -> list[dict[str, Any]]:
        members = [t for t in self.tasks if t["id"] == task_id or t.get("group") == task_id]
        return sorted(members, key=lambda t: task_order(t["id"]))

    @cached_property
    def verdict(self) -> Verdict:
        """What the server decided, as the client's last exchange left it."""
        if not self.entries:
            return Verdict("none")
        last = self.entries[-1]
        if self.network(last) in ("reset", "truncate"):
            return Verdict("transport")
        row = self.row(last)
        if row is not None:
            return Verdict("failed", row=row, http_status=last["status"], answered=True)
        if not self.created:
            return Verdict("none")
        tasks = self.group(self.created[-1])
        stages = {t["stage"] for t in tasks}
        if not tasks or not stages <= set(TERMINAL_STAGES):
            return Verdict("pending", tasks=tasks)
        if stages == {"succeeded"}:
            return Verdict("succeeded", tasks=tasks)
        failed = next(t for t in tasks if t["stage"] != "succeeded")
        batch = self.contract.operations[tasks[0]["operation"]].batch_pointer is not None
        row = self.contract.error(failed["error"]) if failed.get("error") and not batch else None
        return Verdict("failed", row=row, tasks=tasks)


@dataclass
class Verdict:
    status: str  # none | transport | pending | succeeded | failed
    row: ErrorCode | None = None
    http_status: int | None = None
    answered: bool = False  # the verdict is an error answer, not a task's end
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def images(self) -> list[str]:
        return [path for t in self.tasks for path in t["results"]]


def task_order(task_id: str) -> tuple[str, int]:
    head, _, tail = task_id.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (task_id, -1)
