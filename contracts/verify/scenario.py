"""One example of the suite: what the client is asked to do, how the tasks progress, and which
requests fail with what. Drawn by Hypothesis (so a failure shrinks), and plain JSON (so a failure
can be replayed exactly)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hypothesis import strategies as st

from contracts.model import Contract, ErrorCode, Operation
from contracts.verify.requests import Asset, RequestDrawer

# Progress by time: a task ends this many poll intervals after its submit, halfway between two
# polls of a client that keeps the job's pace, so which answer shows the end does not hang on
# the machine's speed (the contract's durations, scaled to that end).
TIME_ENDS = (0.5, 1.5)
POLL_INTERVAL = 0.05  # the job's poll interval the time draws are made for, unless told
PROGRESSIONS = ("any", "polls", "time")
MAX_POLLS = 3  # with polls 50 ms apart: more would slow every example (polls:2 shows a running task)
STAGGER_POLLS = (
    1  # progress by polls: each later item of a batch ends a poll later (each partial state shows once)
)
MAX_FAULTS = 2
MAX_DELAY_MS = 10  # a delayed answer moves the next polls: kept well inside half a poll interval
LASTING = 1000  # ``times`` of a lasting fault: every attempt within the budget gets it
LASTING_BUDGET = 2.0  # seconds: the job's time budget (at most) in an example with a lasting fault
# How long an ended task stays readable (mock seconds): the contract's, or so short that a client
# polling at the job's pace finds the task forgotten (DashScope UNKNOWN, the others' error).
FORGET_SECONDS = 0.0001
RETENTIONS: tuple[float | None, ...] = (None, FORGET_SECONDS)
# The explicit examples' task: queued, then running, for several polls at the default poll interval
# (50 ms), then forgotten as it ends (mock seconds).
PATIENT: dict[str, Any] = {
    "progress": "time",
    "queue_seconds": 0.02,
    "run_seconds": 0.18,
    "retention_seconds": FORGET_SECONDS,
}


@dataclass(frozen=True)
class FaultPlan:
    """A fault rule for the example's tenant: requests of ``endpoint`` (a kind), after letting
    ``after`` through, get ``error`` (``at`` "task": a failed task) or a ``network`` fault or a
    ``delay_ms``, ``times`` times."""

    endpoint: str
    error: str | None = None
    at: str | None = None
    network: str | None = None
    delay_ms: int = 0
    after: int = 0
    times: int = 1

    @property
    def lasting(self) -> bool:
        """Whether the fault outlasts any retrying within the budget (the suite lifts its rules
        when the budget is spent, so a client that never gives up ends too, late)."""
        return self.times >= LASTING

    def rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"endpoint": self.endpoint, "after": self.after, "times": self.times}
        for key in ("error", "at", "network"):
            if getattr(self, key) is not None:
                rule[key] = getattr(self, key)
        if self.delay_ms:
            rule["delay_ms"] = self.delay_ms
        return rule


@dataclass(frozen=True)
class Scenario:
    operation: str
    request: Any  # image fields as asset://<name>
    files: dict[str, str] = field(default_factory=dict)  # multipart field -> asset name
    timing: dict[str, Any] = field(default_factory=lambda: {"progress": "polls:1"})
    faults: tuple[FaultPlan, ...] = ()

    @property
    def lasting(self) -> bool:
        return any(f.lasting for f in self.faults)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["faults"] = [
            {k: v for k, v in asdict(f).items() if v not in (None, 0) or k == "after"} for f in self.faults
        ]
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Scenario:
        return cls(
            operation=doc["operation"],
            request=doc["request"],
            files=dict(doc.get("files", {})),
            timing=dict(doc.get("timing", {"progress": "polls:1"})),
            faults=tuple(FaultPlan(**f) for f in doc.get("faults", ())),
        )


def scenarios(
    contract: Contract,
    assets: Sequence[Asset],
    operations: Sequence[str] | None = None,
    progress: str = "any",
    poll_interval: float = POLL_INTERVAL,
) -> st.SearchStrategy[Scenario]:
    """Every async operation of the vendor (or those named), with drawn timing and faults.
    ``progress``: tasks progress by poll counts, by (scaled) time, or either; time is drawn in
    units of the job's ``poll_interval``."""
    if progress not in PROGRESSIONS:
        raise ValueError(f"progress is one of {PROGRESSIONS}")
    names = async_operations(contract, operations)
    return st.sampled_from(names).flatmap(
        lambda name: _scenario(contract, name, assets, progress, poll_interval=poll_interval)
    )


def async_operations(contract: Contract, operations: Sequence[str] | None = None) -> list[str]:
    """The vendor's async operations (those named, if any); ValueError when none is left."""
    names = [
        name
        for name, op in contract.operations.items()
        if contract.endpoint(op.endpoint).kind == "submit" and (not operations or name in operations)
    ]
    if not names:
        raise ValueError(f"{contract.name} has no async operation among {list(operations or [])}")
    return names


def forgotten(
    contract: Contract, assets: Sequence[Asset], operations: Sequence[str] | None = None
) -> st.SearchStrategy[Scenario]:
    """The first async operation (of those named), without faults, with a task that runs for
    several polls and is forgotten as soon as it ends: a client must keep polling within its budget
    (not give up early), and its next poll after the end gets the vendor's "no such task" answer.
    The explicit phase runs it first (the random phase draws such tasks too, but not in every run)."""
    name = async_operations(contract, operations)[0]
    return _scenario(contract, name, assets, "time", faults=st.just([]), timing=st.just(dict(PATIENT)))


def _scenario(
    contract: Contract,
    name: str,
    assets: Sequence[Asset],
    progress: str,
    *,
    poll_interval: float = POLL_INTERVAL,
    faults: st.SearchStrategy[list[FaultPlan]] | None = None,
    timing: st.SearchStrategy[dict[str, Any]] | None = None,
) -> st.SearchStrategy[Scenario]:
    """One operation's scenarios; ``faults`` replaces the drawn fault schedule and ``timing`` the
    drawn lifecycle (the explicit phase fixes them)."""
    op = contract.operations[name]
    multipart = contract.endpoint(op.endpoint).request_content_type.startswith("multipart/")
    drawer = RequestDrawer(contract, op, assets)

    def build(drawn: tuple[Any, dict[str, str]], timing: dict[str, Any], faults: list[FaultPlan]) -> Scenario:
        doc, images = drawn
        files: dict[str, str] = {}
        if multipart:  # image fields travel as file parts
            for pointer, asset in images.items():
                files[pointer.strip("/")] = asset
            doc = {k: v for k, v in doc.items() if k not in files}
        return Scenario(operation=name, request=doc, files=files, timing=timing, faults=tuple(faults))

    if faults is None:
        rules = st.lists(fault_plans(contract), max_size=MAX_FAULTS)
        special = [s for s in (lasting_fault(contract), transport_then_error(contract)) if not s.is_empty]
        # one example in five has a lasting fault, one in five a reset before a retryable error
        faults = st.integers(0, 4).flatmap(lambda i: special[i - 3] if 3 <= i < 3 + len(special) else rules)
    drawn = timings(progress, poll_interval, op) if timing is None else timing
    return st.builds(build, drawer.strategy(), drawn, faults)


def timings(
    progress: str = "any", poll_interval: float = POLL_INTERVAL, operation: Operation | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Progress by polls (the items of a batch ``operation`` ending ``stagger_polls`` apart, so
    every partial state of a batch shows on one poll), or by time (ending between two polls)."""
    batch = operation is not None and operation.batch_pointer is not None
    apart = {"stagger_polls": STAGGER_POLLS} if batch else {}
    by_polls = st.integers(1, MAX_POLLS).map(lambda n: {"progress": f"polls:{n}", **apart})
    took = operation.own_durations if operation is not None else None
    # A batch whose items start apart (DAMO) runs them all at once, without the queue, so every
    # item ends at the one drawn moment: its partial states are for progress by polls to show.
    staggered = operation is not None and operation.stagger_seconds > 0
    queue = 0.0 if took is None or staggered else took.queue_seconds
    total = queue + took.run_seconds if took is not None else 0.0

    def by_ends(ends: float, kept: float | None) -> dict[str, Any]:
        scale = _scale(ends, poll_interval, total)
        return {
            "progress": "time",
            "queue_scale": 0.0 if staggered else scale,
            "run_scale": scale,
            **({"retention_seconds": kept} if kept else {}),
        }

    by_time = st.builds(by_ends, st.sampled_from(TIME_ENDS), st.sampled_from(RETENTIONS))
    return {"polls": by_polls, "time": by_time}.get(progress, st.one_of(by_polls, by_time))


def _scale(ends: float, poll_interval: float, total: float) -> float:
    """The scale of the contract's durations (``total`` seconds) that ends a task ``ends`` poll
    intervals after its submit (rounded, so the scenario reads well)."""
    return round(ends * poll_interval / total, 6) if total else 0.0


def fault_plans(contract: Contract) -> st.SearchStrategy[FaultPlan]:
    """A vendor error where the table says it occurs (submit, query, a failed task), a network
    fault, or a delay. Retryable errors may come twice in a row, or last (``LASTING``: a client
    must give up, by its attempts or its budget)."""

    def rows(kind: str) -> list[ErrorCode]:
        return [e for e in contract.errors if e.can_occur(kind)]

    def times(error: ErrorCode) -> st.SearchStrategy[int]:
        return st.sampled_from((1, 2, LASTING)) if error.retryable else st.just(1)

    options: list[st.SearchStrategy[FaultPlan]] = []
    if rows("submit"):
        options.append(
            st.sampled_from(rows("submit")).flatmap(
                lambda e: times(e).map(lambda n: FaultPlan("submit", error=e.id, times=n))
            )
        )
    if rows("query"):
        options.append(
            st.tuples(st.sampled_from(rows("query")), st.integers(0, 1)).flatmap(
                lambda p: times(p[0]).map(lambda n: FaultPlan("query", error=p[0].id, after=p[1], times=n))
            )
        )
    if rows("task"):
        options.append(
            st.sampled_from(rows("task")).map(lambda e: FaultPlan("submit", error=e.id, at="task"))
        )
    options += [
        st.builds(
            lambda n, a: FaultPlan("query", network=n, after=a),
            st.sampled_from(("reset", "truncate")),
            st.integers(0, 1),
        ),
        st.just(FaultPlan("submit", network="reset")),
        st.builds(
            lambda kind, ms: FaultPlan(kind, delay_ms=ms),
            st.sampled_from(("submit", "query")),
            st.integers(1, MAX_DELAY_MS),
        ),
    ]
    return st.one_of(options)


def _retryable_calls(contract: Contract) -> list[tuple[str, list[ErrorCode]]]:
    """The calls (submit, query) with the retryable rows that can answer them."""
    calls = []
    for kind in ("submit", "query"):
        found = [e for e in contract.errors if e.retryable and e.can_occur(kind)]
        if found:
            calls.append((kind, found))
    return calls


def lasting_schedules(contract: Contract) -> list[list[FaultPlan]]:
    """For the explicit phase: per call with retryable rows, its first retryable row lasting, and a
    reset before it (so every run meets a fault no retrying outlasts, and mixed attempts)."""
    return [
        schedule
        for kind, found in _retryable_calls(contract)
        for schedule in (
            [FaultPlan(kind, error=found[0].id, times=LASTING)],
            [FaultPlan(kind, network="reset"), FaultPlan(kind, error=found[0].id, times=LASTING)],
        )
    ]


def lasting_fault(contract: Contract) -> st.SearchStrategy[list[FaultPlan]]:
    """A retryable error that answers every attempt of the submit, or of the first poll on."""
    calls = _retryable_calls(contract)
    if not calls:
        return st.nothing()
    return st.sampled_from(calls).flatmap(
        lambda call: st.sampled_from(call[1]).map(lambda e: [FaultPlan(call[0], error=e.id, times=LASTING)])
    )


def transport_then_error(contract: Contract) -> st.SearchStrategy[list[FaultPlan]]:
    """One call that first fails in transport (a reset) and then gets a retryable error, once,
    twice or lasting: attempts of a call count together, whatever failed them."""
    calls = _retryable_calls(contract)
    if not calls:
        return st.nothing()
    return st.sampled_from(calls).flatmap(
        lambda call: st.builds(
            lambda e, n: [FaultPlan(call[0], network="reset"), FaultPlan(call[0], error=e.id, times=n)],
            st.sampled_from(call[1]),
            st.sampled_from((1, 2, LASTING)),
        )
    )


def with_faults(
    contract: Contract,
    name: str,
    assets: Sequence[Asset],
    progress: str,
    faults: Sequence[FaultPlan],
    *,
    poll_interval: float = POLL_INTERVAL,
) -> st.SearchStrategy[Scenario]:
    """The scenarios of operation ``name`` with this fault schedule, the rest drawn (the explicit
    phase: its simplest draw is the simplest request and lifecycle with these faults)."""
    return _scenario(
        contract, name, assets, progress, poll_interval=poll_interval, faults=st.just(list(faults))
    )
