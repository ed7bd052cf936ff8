"""The explicit phase: before the random exploration, a retryable fault that lasts (alone, and
after a reset) at each call, then every row of the vendor's error table in every place the table
says it can show (the submit's answer, a poll's answer, a failed task), one example each, the
run's async operations taking turns (or, asked for, every pair for every operation).

Like Schemathesis' explicit examples, it makes every run try the whole error table, whatever the
seed, where random drawing reaches a rare row only now and then. Each target is its own Hypothesis
search with the fault fixed and one example: Hypothesis tries the simplest draw first (the
simplest request, a task that ends at its first poll), so the phase is the same on every run, and
a failure found there shrinks and replays exactly like one of the random phase.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from contracts.model import Contract
from contracts.verify.requests import Asset
from contracts.verify.scenario import (
    POLL_INTERVAL,
    FaultPlan,
    Scenario,
    async_operations,
    forgotten,
    lasting_schedules,
    with_faults,
)

PLACES = ("submit", "query", "task")  # where an error row can show to a client of an async operation
MODES = ("rows", "all", "off")


@dataclass(frozen=True)
class Target:
    """One example of the explicit phase: ``row`` of the error table at ``place`` in ``operation``."""

    operation: str
    place: str
    row: str

    def plan(self) -> FaultPlan:
        if self.place == "task":
            return FaultPlan("submit", error=self.row, at="task")
        return FaultPlan(self.place, error=self.row)


def targets(contract: Contract, operations: Sequence[str] | None = None, mode: str = "rows") -> list[Target]:
    """The phase's examples, the submit's rows first (the quickest examples), then the polls', then
    failed tasks. ``rows``: every (row, place) of the error table once, the async operations (those
    named, if any) taking turns, so each meets rows in every place; ``all``: every (row, place) for
    every operation; ``off``: none."""
    if mode not in MODES:
        raise ValueError(f"explicit is one of {MODES}")
    names = async_operations(contract, operations)
    pairs = [(place, row.id) for place in PLACES for row in contract.errors if row.can_occur(place)]
    if mode == "off":
        return []
    if mode == "rows":
        return [Target(names[i % len(names)], place, row) for i, (place, row) in enumerate(pairs)]
    return [Target(name, place, row) for place, row in pairs for name in names]


def strategies(
    contract: Contract,
    assets: Sequence[Asset],
    operations: Sequence[str] | None,
    progress: str,
    mode: str,
    *,
    poll_interval: float = POLL_INTERVAL,
) -> Iterator[st.SearchStrategy[Scenario]]:
    """Unless the phase is off: the lasting schedules (scenario.lasting_schedules) on the first
    operation, so a client that never gives up, or counts attempts wrong, fails every run; then a
    task forgotten as it ends (``scenario.forgotten``; not where lifecycles are limited to poll
    counts). Then one strategy per target, its fault fixed (time drawn in units of
    ``poll_interval``)."""
    if mode != "off":
        first = async_operations(contract, operations)[0]
        for schedule in lasting_schedules(contract):
            yield with_faults(contract, first, assets, progress, schedule, poll_interval=poll_interval)
        if progress != "polls":
            yield forgotten(contract, assets, operations)
    for target in targets(contract, operations, mode):
        yield with_faults(
            contract, target.operation, assets, progress, [target.plan()], poll_interval=poll_interval
        )
