"""Tasks: what a submit decided (``Task``, never changed after), how far reads have moved it
(``Progress``, changed only by the task store), and where it stands at a moment (``TaskView``).

Nothing runs in the background: reading a task at mock time ``now`` tells where on its planned
timeline (``Plan``) it is. Progress can also be counted in polls instead of seconds. ``Planner``
makes the tasks of a submit: their timelines (shared between tasks with the same inputs), inputs,
result counts and sizes, and the places of a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from contracts.model import Contract, ErrorCode, Lifecycle, Operation, resolve_pointer
from contracts.vocabulary import Place, as_place
from mock_server.bounded import Bounded
from mock_server.timing import Timing

Stage = Literal["queued", "running", "succeeded", "failed", "canceled"]
QUEUED: Final = "queued"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
UNKNOWN: Final = "unknown"  # shown only: an answer that the vendor does not know the task
PLANS_KEPT = 512  # distinct timelines kept for sharing
NOTHING: Mapping[Any, Any] = MappingProxyType({})


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
        *,
        delay: float = 0.0,
        position: int = 0,
        chosen: Mapping[str, str] = NOTHING,
    ) -> Plan:
        """The timeline of one task; ``delay`` lengthens its queue and ``position`` (in a batch)
        its polls by the profile's ``stagger_polls`` (a later item of a batch); ``chosen``: the
        vendor options the server runs with (one may pick other durations)."""
        durations = operation.durations(chosen)
        queue, run = timing.durations(durations.queue_seconds, durations.run_seconds)
        queue += delay * timing.queue_scale
        first, *rest = lifecycle.phases
        weight = sum(p.weight for p in rest) or 1.0
        phases = ((first.status, queue), *((p.status, run * p.weight / weight) for p in rest))
        polls = timing.polls + position * timing.stagger_polls if timing.polls is not None else None
        return cls(phases=phases, error=error, fail_at=timing.fail_at, polls=polls)

    def waiting(self, seconds: float) -> Plan:
        """The same timeline with ``seconds`` more in the queue (a task waiting for a slot)."""
        (status, queue), *rest = self.phases
        return Plan(((status, queue + seconds), *rest), self.error, self.fail_at, self.polls)

    def to_doc(self) -> dict[str, Any]:
        return {
            "phases": [list(p) for p in self.phases],
            "error": self.error.id if self.error else None,
            "fail_at": self.fail_at,
            "polls": self.polls,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], contract: Contract) -> Plan:
        return cls(
            phases=tuple((str(status), float(seconds)) for status, seconds in doc["phases"]),
            error=contract.error(doc["error"]) if doc["error"] else None,
            fail_at=float(doc["fail_at"]),
            polls=doc["polls"],
        )


class TaskView(NamedTuple):
    """What a task looks like at one moment (a tuple: made on every read, cheaply)."""

    status: str
    stage: Stage
    submitted: float
    scheduled: float | None
    ended: float | None
    error: ErrorCode | None
    polls: int = 0


@dataclass(slots=True)
class Progress:
    """What reads change: the polls counted, when polling saw the task run and end (progress by
    polls), a cancel, and the faults a submit left for later reads. Only a task store changes it."""

    polls: int = 0
    scheduled: float | None = None
    ended: float | None = None
    canceled_at: float | None = None
    faults: dict[Place, ErrorCode] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        observed = {"scheduled": self.scheduled, "ended": self.ended}
        return {
            "polls": self.polls,
            "canceled_at": self.canceled_at,
            "observed": {k: v for k, v in observed.items() if v is not None},
            "pending_faults": {place: error.id for place, error in self.faults.items()},
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], contract: Contract) -> Progress:
        observed = doc["observed"]
        return cls(
            polls=int(doc["polls"]),
            scheduled=observed.get("scheduled"),
            ended=observed.get("ended"),
            canceled_at=doc["canceled_at"],
            faults={as_place(p): contract.error(i) for p, i in doc["pending_faults"].items()},
        )


UNREAD = Progress()  # the progress of every task no read has changed yet (read, never changed)


class Task(NamedTuple):
    """One task as its submit made it: never changed after (a tuple, made once per task, fast)."""

    id: str
    tenant: str
    vendor: str
    operation: str
    created: float
    plan: Plan
    lifecycle: Lifecycle
    inputs: Mapping[str, tuple[str, ...]] = NOTHING  # image URLs by role
    results: int = 1
    result_size: tuple[int, int] | None = None
    group: str | None = None  # the batch it belongs to
    extra: Mapping[str, Any] = NOTHING  # what the vendor's answers echo
    faults: Mapping[Place, ErrorCode] = NOTHING  # left for later reads
    host: str = ""  # the Host its request named: where its inputs and results are read from

    def start(self) -> Progress:
        """The progress of the task as submitted."""
        return Progress(faults=dict(self.faults))

    def as_submitted(self, now: float) -> TaskView:
        """Where the task stands at ``now`` before any read has moved it: what the answer to its
        own submit shows (no store is asked: nothing but that submit has seen the task yet)."""
        return self.view(UNREAD, now)

    def view(self, progress: Progress, now: float) -> TaskView:
        if progress.canceled_at is not None and self.lifecycle.canceled is not None:
            canceled = self.lifecycle.canceled
            return TaskView(
                canceled, CANCELED, self.created, None, progress.canceled_at, None, progress.polls
            )
        if self.plan.polls is not None:
            return self._by_polls(progress)
        return self._by_time(now, progress.polls)

    def observe(self, progress: Progress, now: float) -> None:
        """Note when polling saw the task start running and end (progress by polls); called by
        the store after counting a poll."""
        if self.plan.polls is None:
            return
        stage = self._by_polls(progress).stage
        if stage != QUEUED and progress.scheduled is None:
            progress.scheduled = now
        if stage in (SUCCEEDED, FAILED) and progress.ended is None:
            progress.ended = now

    def _outcome(self, ended: float, scheduled: float | None, polls: int) -> TaskView:
        err = self.plan.error
        if err is None:
            return TaskView(self.lifecycle.succeeded, SUCCEEDED, self.created, scheduled, ended, None, polls)
        return TaskView(self.lifecycle.failed, FAILED, self.created, scheduled, ended, err, polls)

    def _by_time(self, now: float, polls: int) -> TaskView:
        queue = self.plan.phases[0][1]
        scheduled = self.created + queue
        end = self.created + self.plan.total
        if now >= end:
            return self._outcome(end, min(scheduled, end), polls)
        t = self.created
        for status, duration in self.plan.phases:
            if duration > 0 and now < t + duration:
                if t == self.created:
                    return TaskView(status, QUEUED, self.created, None, None, None, polls)
                return TaskView(status, RUNNING, self.created, scheduled, None, None, polls)
            t += duration
        return self._outcome(end, scheduled, polls)  # pragma: no cover - total covers every phase

    def _by_polls(self, progress: Progress) -> TaskView:
        need = self.plan.polls or 1
        phases = [p for i, p in enumerate(self.plan.phases) if i == 0 or p[1] > 0]
        polls = progress.polls
        if polls >= need:
            ended = progress.ended if progress.ended is not None else self.created
            scheduled = progress.scheduled if progress.scheduled is not None else ended
            return self._outcome(ended, scheduled, polls)
        index = min(len(phases) - 1, polls * len(phases) // need)
        if index == 0:
            return TaskView(phases[0][0], QUEUED, self.created, None, None, None, polls)
        scheduled = progress.scheduled if progress.scheduled is not None else self.created
        return TaskView(phases[index][0], RUNNING, self.created, scheduled, None, None, polls)

    def to_doc(self) -> dict[str, Any]:
        """The task as a document; with its ``Progress.to_doc`` beside it, ``from_doc`` reads it
        back (the faults left are the progress's: a restored task starts from them)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "vendor": self.vendor,
            "operation": self.operation,
            "created": self.created,
            "plan": self.plan.to_doc(),
            "inputs": {role: list(urls) for role, urls in self.inputs.items()},
            "results": self.results,
            "result_size": list(self.result_size) if self.result_size else None,
            "group": self.group,
            "extra": dict(self.extra),
            "host": self.host,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], contract: Contract) -> Task:
        size = doc["result_size"]
        return cls(
            id=doc["id"],
            tenant=doc["tenant"],
            vendor=doc["vendor"],
            operation=doc["operation"],
            created=float(doc["created"]),
            plan=Plan.from_doc(doc["plan"], contract),
            lifecycle=contract.lifecycle,
            inputs={role: tuple(urls) for role, urls in doc["inputs"].items()},
            results=int(doc["results"]),
            result_size=(int(size[0]), int(size[1])) if size else None,
            group=doc["group"],
            extra=doc["extra"],
            faults={as_place(p): contract.error(i) for p, i in doc["pending_faults"].items()},
            host=doc.get("host", ""),
        )


class Planner:
    """Makes the tasks of a submit; the same timeline inputs give one shared ``Plan``."""

    def __init__(self, plans: int = PLANS_KEPT) -> None:
        self._plans: Bounded[tuple[Any, ...], Plan] = Bounded(plans)

    def task(
        self,
        contract: Contract,
        operation: Operation,
        timing: Timing,
        *,
        task_id: str,
        tenant: str,
        doc: Any,
        created: float,
        host: str,
        error: ErrorCode | None = None,
        faults: Mapping[Place, ErrorCode] | None = None,
        group: str | None = None,
        position: int = 0,
        results: int | None = None,
        extra: Mapping[str, Any] | None = None,
        urls: tuple[Any, ...] = (),
        chosen: Mapping[str, str] = NOTHING,
    ) -> Task:
        """One task for the request document ``doc``. ``group`` and ``position`` place it in a
        batch: each later item starts the operation's ``stagger_seconds`` later. ``results``
        overrides the operation's number of results. ``urls``: the values at the operation's image
        pointers where the caller read them already (its image check did). ``chosen``: the vendor
        options the server runs with."""
        delay = position * operation.stagger_seconds
        plan = self._plan(contract, operation, timing, error, delay=delay, position=position, chosen=chosen)
        roles: dict[str, list[str]] = {}
        found = urls or tuple(resolve_pointer(doc, item.pointer) for item in operation.images)
        for index, item in enumerate(operation.images):
            url = found[index]
            if isinstance(url, str) and url:
                roles.setdefault(item.role, []).append(url)
        return Task(
            id=task_id,
            tenant=tenant,
            vendor=contract.name,
            operation=operation.name,
            created=created,
            plan=plan,
            lifecycle=contract.lifecycle,
            inputs={role: tuple(found) for role, found in roles.items()},  # tuples of text: not GC-tracked
            results=results or operation.results,
            result_size=_result_size(operation, doc),
            group=group,
            extra=extra or NOTHING,
            faults=faults or NOTHING,
            host=host,
        )

    def batch(
        self,
        contract: Contract,
        operation: Operation,
        timing: Timing,
        items: Sequence[Any],
        *,
        batch_id: str,
        tenant: str,
        created: float,
        host: str,
        counts: Sequence[int],
        extras: Sequence[Mapping[str, Any]],
        failures: Mapping[int, ErrorCode],
        faults: Mapping[Place, ErrorCode],
        urls: Sequence[tuple[Any, ...]] = (),
        chosen: Mapping[str, str] = NOTHING,
    ) -> list[Task]:
        """One task per item of a batch, ids ``<batch_id>-<i>``, each starting the operation's
        ``stagger_seconds`` after the one before. ``failures`` are the items that fail; faults
        left for later reads of the batch ride on its first task."""
        return [
            self.task(
                contract,
                operation,
                timing,
                task_id=f"{batch_id}-{i}",
                tenant=tenant,
                doc=item,
                created=created,
                host=host,
                error=failures.get(i),
                faults=faults if i == 0 else None,
                group=batch_id,
                position=i,
                results=count,
                extra=extra,
                urls=urls[i] if urls else (),
                chosen=chosen,
            )
            for i, (item, count, extra) in enumerate(zip(items, counts, extras, strict=True))
        ]

    def _plan(
        self,
        contract: Contract,
        operation: Operation,
        timing: Timing,
        error: ErrorCode | None,
        *,
        delay: float,
        position: int,
        chosen: Mapping[str, str],
    ) -> Plan:
        durations = operation.durations(chosen) if operation.timings else None  # None: its own
        later = position * timing.stagger_polls  # the polls more a later batch item needs
        key = (contract.name, operation.name, durations, timing, error.id if error else None, delay, later)
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan.make(
                contract.lifecycle, operation, timing, error, delay=delay, position=position, chosen=chosen
            )
            self._plans.put(key, plan)
        return plan


def _result_size(operation: Operation, doc: Any) -> tuple[int, int] | None:
    if operation.result_size_pointer is None:
        return None
    value = resolve_pointer(doc, operation.result_size_pointer)
    return operation.result_sizes.get("-1" if value is None else str(value))
