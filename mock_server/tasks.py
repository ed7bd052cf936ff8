"""The task store: per tenant, bounded, with status computed from the clock when read.

A task keeps when it was created and its planned timeline (a list of statuses with durations and
an outcome). Nothing runs in the background: reading a task at mock time ``now`` tells where on
its timeline it is. Progress can also be counted in polls instead of seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from contracts.model import ErrorCode, Lifecycle, Operation
from mock_server.timing import Timing

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"


@dataclass(frozen=True, slots=True)
class Plan:
    """A task's timeline: non-terminal statuses with their durations, then its outcome."""

    phases: tuple[tuple[str, float], ...]
    error: ErrorCode | None = None
    fail_at: float = 1.0
    polls: int | None = None
    total: float = field(init=False)  # seconds from submit to outcome (read on every view)

    def __post_init__(self) -> None:
        run = sum(d for _, d in self.phases)
        queue = self.phases[0][1]
        total = run if self.error is None else queue + (run - queue) * self.fail_at
        object.__setattr__(self, "total", total)

    @classmethod
    def make(
        cls,
        lifecycle: Lifecycle,
        operation: Operation,
        timing: Timing,
        error: ErrorCode | None = None,
        delay: float = 0.0,
    ) -> Plan:
        """The timeline of one task; ``delay`` lengthens its queue (a later item of a batch)."""
        queue, run = timing.durations(operation.queue_seconds, operation.run_seconds)
        queue += delay * timing.queue_scale
        first, *rest = lifecycle.phases
        weight = sum(p.weight for p in rest) or 1.0
        phases = ((first.status, queue), *((p.status, run * p.weight / weight) for p in rest))
        return cls(phases=phases, error=error, fail_at=timing.fail_at, polls=timing.polls)


class TaskView(NamedTuple):
    """What a task looks like at one moment (a tuple: made on every read, cheaply)."""

    status: str
    stage: str  # queued | running | succeeded | failed | canceled
    submitted: float
    scheduled: float | None
    ended: float | None
    error: ErrorCode | None

    @property
    def terminal(self) -> bool:
        return self.ended is not None


@dataclass(slots=True)
class Task:
    id: str
    tenant: str
    vendor: str
    operation: str
    created: float
    plan: Plan
    lifecycle: Lifecycle
    inputs: dict[str, Any] = field(default_factory=dict)
    results: int = 1
    result_size: tuple[int, int] | None = None
    group: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    pending_faults: dict[str, ErrorCode] = field(default_factory=dict)
    polls: int = 0
    canceled_at: float | None = None
    _observed: dict[str, float] = field(default_factory=dict)
    host: str = ""  # the Host its request named: where its inputs and results are read from

    def poll(self, now: float) -> TaskView:
        """One vendor query of the task: counts toward poll progression, then reads it."""
        self.polls += 1
        return self.view(now)

    def view(self, now: float) -> TaskView:
        if self.canceled_at is not None and self.lifecycle.canceled is not None:
            return TaskView(self.lifecycle.canceled, CANCELED, self.created, None, self.canceled_at, None)
        if self.plan.polls is not None:
            return self._by_polls(now)
        return self._by_time(now)

    def cancel(self, now: float) -> bool:
        """Cancel if the task is in a cancelable status now."""
        if self.view(now).status not in self.lifecycle.cancelable:
            return False
        self.canceled_at = now
        return True

    def take_fault(self, kind: str) -> ErrorCode | None:
        return self.pending_faults.pop(kind, None)

    def _outcome(self, ended: float, scheduled: float | None) -> TaskView:
        err = self.plan.error
        if err is None:
            return TaskView(self.lifecycle.succeeded, SUCCEEDED, self.created, scheduled, ended, None)
        return TaskView(self.lifecycle.failed, FAILED, self.created, scheduled, ended, err)

    def _by_time(self, now: float) -> TaskView:
        queue = self.plan.phases[0][1]
        scheduled = self.created + queue
        end = self.created + self.plan.total
        if now >= end:
            return self._outcome(end, min(scheduled, end))
        t = self.created
        for status, duration in self.plan.phases:
            if duration > 0 and now < t + duration:
                if t == self.created:
                    return TaskView(status, QUEUED, self.created, None, None, None)
                return TaskView(status, RUNNING, self.created, scheduled, None, None)
            t += duration
        return self._outcome(end, scheduled)  # pragma: no cover - total covers every phase

    def _by_polls(self, now: float) -> TaskView:
        need = self.plan.polls or 1
        phases = [p for i, p in enumerate(self.plan.phases) if i == 0 or p[1] > 0]
        if self.polls >= need:
            ended = self._observed.setdefault("ended", now)
            scheduled = self._observed.setdefault("scheduled", ended)
            return self._outcome(ended, scheduled)
        index = min(len(phases) - 1, self.polls * len(phases) // need)
        if index == 0:
            return TaskView(phases[0][0], QUEUED, self.created, None, None, None)
        scheduled = self._observed.setdefault("scheduled", now)
        return TaskView(phases[index][0], RUNNING, self.created, scheduled, None, None)


class TaskStore:
    """Tasks by tenant, each tenant holding at most ``per_tenant`` (oldest evicted first)."""

    def __init__(self, per_tenant: int = 10_000, on_forget: Callable[[Task], None] | None = None) -> None:
        self.per_tenant = per_tenant
        self._on_forget = on_forget  # told of every task that leaves (evicted, expired, cleared)
        self._tenants: dict[str, OrderedDict[str, Task]] = {}
        self._by_id: dict[str, Task] = {}
        self._groups: dict[tuple[str, str], list[Task]] = {}

    def all(self) -> list[Task]:
        """Every task kept, each tenant's in submission order."""
        return [task for tasks in self._tenants.values() for task in tasks.values()]

    def add(self, task: Task) -> Task:
        tasks = self._tenants.setdefault(task.tenant, OrderedDict())
        tasks[task.id] = task
        self._by_id[task.id] = task
        if task.group is not None:
            self._groups.setdefault((task.tenant, task.group), []).append(task)
        while len(tasks) > self.per_tenant:
            _, old = tasks.popitem(last=False)
            self._forget(old)
        return task

    def group(self, tenant: str, group: str, now: float, retention: float) -> list[Task]:
        """The tasks of one batch, in submission order. A batch is kept whole until every one of
        its tasks is past retention, then forgotten whole ([])."""
        members = list(self._groups.get((tenant, group), []))
        if members and all(_past(t, now, retention) for t in members):
            for task in members:
                self._tenants.get(tenant, OrderedDict()).pop(task.id, None)
                self._forget(task)
            return []
        return members

    def get(self, tenant: str, task_id: str, now: float, retention: float) -> Task | None:
        """A tenant's task, unless it ended more than ``retention`` seconds ago."""
        tasks = self._tenants.get(tenant)
        task = tasks.get(task_id) if tasks is not None else None
        if task is None or self._expired(task, now, retention):
            return None
        return task

    def find(self, task_id: str) -> Task | None:
        """A task by id whatever its tenant (for presigned result links)."""
        return self._by_id.get(task_id)

    def of(self, tenant: str, now: float, retention: float) -> Iterator[Task]:
        for task in list(self._tenants.get(tenant, {}).values()):
            if not self._expired(task, now, retention):
                yield task

    def tenants(self) -> list[str]:
        return list(self._tenants)

    def count(self) -> int:
        return len(self._by_id)

    def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._tenants.clear()
            self._by_id.clear()
            self._groups.clear()
            return
        for task in list(self._tenants.get(tenant, {}).values()):
            self._forget(task)
        self._tenants.pop(tenant, None)

    def _expired(self, task: Task, now: float, retention: float) -> bool:
        if not _past(task, now, retention):
            return False
        self._tenants.get(task.tenant, OrderedDict()).pop(task.id, None)
        self._forget(task)
        return True

    def _forget(self, task: Task) -> None:
        self._by_id.pop(task.id, None)
        if self._on_forget is not None:
            self._on_forget(task)
        if task.group is None:
            return
        key = (task.tenant, task.group)
        members = [t for t in self._groups.get(key, []) if t is not task]
        if members:
            self._groups[key] = members
        else:
            self._groups.pop(key, None)


def _past(task: Task, now: float, retention: float) -> bool:
    """Ended more than ``retention`` seconds ago."""
    ended = task.view(now).ended
    return ended is not None and now - ended > retention
