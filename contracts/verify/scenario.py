"""One example of the suite: what the client is asked to do, how the tasks progress, and which
requests fail with what. Drawn by Hypothesis (so a failure shrinks), and plain JSON (so a failure
can be replayed exactly)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hypothesis import strategies as st

from contracts.model import Contract, ErrorCode
from contracts.verify.requests import Asset, RequestDrawer

TIME_SCALES = (0.0005, 0.001, 0.002)  # contract durations x this: tens of milliseconds a task
PROGRESSIONS = ("any", "polls", "time")
MAX_POLLS = 4
MAX_FAULTS = 2
MAX_DELAY_MS = 30
# How long an ended task stays readable (mock seconds): the contract's, or so short that a client
# polling at the job's pace finds the task forgotten (DashScope UNKNOWN, the others' error).
FORGET_SECONDS = 0.0001
RETENTIONS: tuple[float | None, ...] = (None, FORGET_SECONDS)
# The explicit examples' task: queued, then running, for several polls at the default poll interval
# (20 ms), then forgotten as it ends (mock seconds).
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
) -> st.SearchStrategy[Scenario]:
    """Every async operation of the vendor (or those named), with drawn timing and faults.
    ``progress``: tasks progress by poll counts, by (scaled) time, or either."""
    if progress not in PROGRESSIONS:
        raise ValueError(f"progress is one of {PROGRESSIONS}")
    names = async_operations(contract, operations)
    return st.sampled_from(names).flatmap(lambda name: _scenario(contract, name, assets, progress))


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
    return _scenario(contract, name, assets, "time", st.just([]), timing=st.just(dict(PATIENT)))


def _scenario(
    contract: Contract,
    name: str,
    assets: Sequence[Asset],
    progress: str,
    faults: st.SearchStrategy[list[FaultPlan]] | None = None,
    *,
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
        faults = st.lists(fault_plans(contract), max_size=MAX_FAULTS)
    return st.builds(build, drawer.strategy(), timings(progress) if timing is None else timing, faults)


def timings(progress: str = "any") -> st.SearchStrategy[dict[str, Any]]:
    by_polls = st.integers(1, MAX_POLLS).map(lambda n: {"progress": f"polls:{n}"})
    by_time = st.builds(
        lambda q, r, at, kept: {
            "progress": "time",
            "queue_scale": q,
            "run_scale": r,
            "fail_at": at,
            **({"retention_seconds": kept} if kept else {}),
        },
        st.sampled_from(TIME_SCALES),
        st.sampled_from(TIME_SCALES),
        st.sampled_from((1.0, 0.5)),
        st.sampled_from(RETENTIONS),
    )
    return {"polls": by_polls, "time": by_time}.get(progress, st.one_of(by_polls, by_time))


def fault_plans(contract: Contract) -> st.SearchStrategy[FaultPlan]:
    """A vendor error where the table says it occurs (submit, query, a failed task), a network
    fault, or a delay. Retryable errors may come twice in a row."""

    def rows(kind: str) -> list[ErrorCode]:
        return [e for e in contract.errors if e.can_occur(kind)]

    def times(error: ErrorCode) -> st.SearchStrategy[int]:
        return st.integers(1, 2) if error.retryable else st.just(1)

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


def with_faults(
    contract: Contract, name: str, assets: Sequence[Asset], progress: str, faults: Sequence[FaultPlan]
) -> st.SearchStrategy[Scenario]:
    """The scenarios of operation ``name`` with this fault schedule, the rest drawn (the explicit
    phase: its simplest draw is the simplest request and lifecycle with these faults)."""
    return _scenario(contract, name, assets, progress, st.just(list(faults)))
