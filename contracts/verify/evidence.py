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
UNKNOWN = "unknown"  # the stage the journal shows for a task the vendor does not know


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
        """Whether the answer the client got showed every task of it ended, or that the vendor
        does not know the task (``forgotten``): a truncated or reset answer showed the client
        nothing."""
        if self.network(entry):
            return False
        shown = entry.get("tasks") or []
        return (bool(shown) and all(t["stage"] in TERMINAL_STAGES for t in shown)) or self.forgotten(entry)

    def forgotten(self, entry: Mapping[str, Any]) -> bool:
        """Whether a query's answer said the vendor does not know the task (forgotten after its
        retention, as every task is): the journal shows it at stage ``unknown`` (DashScope's
        UNKNOWN status), or the answer is the contract's ``task.unknown`` error (DAMO, Aidge,
        AILabTools), not injected."""
        if self.network(entry) or self.kind(entry) != "query":
            return False
        if any(t["stage"] == UNKNOWN for t in entry.get("tasks") or []):
            return True
        unknown = self.contract.triggers.get("task.unknown")
        if unknown is None or entry.get("error") != unknown or not entry.get("task_id"):
            return False
        return not self.injected(entry)

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

    def group(self, task_id: str) -> list[dict[str, Any]]:
        """The tasks the server keeps of a task or batch id (``GET /_mock/tasks``), in order."""
        members = [t for t in self.tasks if t["id"] == task_id or t.get("group") == task_id]
        return sorted(members, key=lambda t: task_order(t["id"]))

    def about_job(self, entry: Mapping[str, Any]) -> bool:
        """Whether the request is a submit, or a query of a task this client created: the calls
        whose answers tell how the job ended (a read-only call of another endpoint tells nothing)."""
        kind = self.kind(entry)
        return kind == "submit" or (kind == "query" and self.task_of(entry) in self.created)

    @cached_property
    def answers(self) -> list[dict[str, Any]]:
        """The answers about the job, oldest first (``about_job``)."""
        return [e for e in self.entries if self.about_job(e)]

    @cached_property
    def verdict(self) -> Verdict:
        """What the server decided, as the last answer about the job left it (an answer to a
        request of another endpoint after it changes nothing)."""
        if not self.answers:
            return Verdict("none")
        last = self.answers[-1]
        if self.network(last) in ("reset", "truncate"):
            return Verdict("transport")
        if self.forgotten(last):
            status = last["status"]
            return Verdict("failed", row=self.row(last), http_status=status, answered=True, forgotten=True)
        row = self.row(last)
        if row is not None:
            return Verdict("failed", row=row, http_status=last["status"], answered=True)
        kept = {t["id"]: t for t in self.tasks}  # what the server keeps adds each task's error
        tasks = [{**kept.get(t["id"], {}), **t} for t in last.get("tasks") or []]
        stages = {t["stage"] for t in tasks}
        if not tasks or not stages <= set(TERMINAL_STAGES):
            return Verdict("pending", tasks=tasks)
        if stages == {"succeeded"}:
            return Verdict("succeeded", tasks=tasks)
        failed = next(t for t in tasks if t["stage"] != "succeeded")
        batch = self.contract.operations[self.job["operation"]].batch_pointer is not None
        row = self.contract.error(failed["error"]) if failed.get("error") and not batch else None
        return Verdict("failed", row=row, tasks=tasks)


@dataclass
class Verdict:
    status: str  # none | transport | pending | succeeded | failed
    row: ErrorCode | None = None
    http_status: int | None = None
    answered: bool = False  # the verdict is an error answer, not a task's end
    tasks: list[dict[str, Any]] = field(default_factory=list)  # as the last answer showed them
    forgotten: bool = False  # the vendor answered that it does not know the task

    @property
    def whole(self) -> bool:
        """Whether the answer's result links are known whole (the journal's ``links``), not only
        their paths (``GET /_mock/tasks``)."""
        return all("links" in t for t in self.tasks if t["stage"] == "succeeded")

    def task_images(self, task: Mapping[str, Any]) -> list[str]:
        found = task.get("links") if self.whole else task.get("results")
        return [str(url) for url in found or []]

    @property
    def images(self) -> list[str]:
        return [url for t in self.tasks for url in self.task_images(t)]


def task_order(task_id: str) -> tuple[str, int]:
    head, _, tail = task_id.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (task_id, -1)
