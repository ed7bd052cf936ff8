"""How long tasks take and how they progress: by mock time, or by the number of polls."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any

from mock_server import kinds


@dataclass(frozen=True)
class Timing:
    """A timing profile. Durations are mock seconds; the contract gives each operation's own.

    ``progress`` is ``"time"`` (status follows the clock) or ``"polls:N"`` (the N-th query of a
    task finds it finished, earlier ones walk through the running statuses). ``stagger_polls``:
    with progress by polls, each later item of a batch needs this many polls more than the one
    before (so a poll can find the first items ended and the others still running).
    """

    progress: str = "time"
    queue_scale: float = 1.0
    run_scale: float = 1.0
    queue_seconds: float | None = None
    run_seconds: float | None = None
    fail_at: float = 1.0
    retention_seconds: float | None = None
    result_ttl_seconds: float | None = None
    stagger_polls: int = 0

    def __post_init__(self) -> None:
        """Each field checked for its kind (KindError naming it): a profile comes from JSON."""
        parse_progress(self.progress)
        set_ = object.__setattr__
        set_(self, "fail_at", kinds.number("fail_at", self.fail_at, 0, 1))  # a fraction of the run
        set_(self, "stagger_polls", kinds.whole("stagger_polls", self.stagger_polls, 0))
        for name in ("queue_scale", "run_scale"):
            set_(self, name, kinds.number(name, getattr(self, name), 0))
        for name in ("queue_seconds", "run_seconds", "retention_seconds", "result_ttl_seconds"):
            if getattr(self, name) is not None:
                set_(self, name, kinds.number(name, getattr(self, name), 0))

    def __hash__(self) -> int:  # a plan cache key holds the profile: hash its fields once
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(self)))

    @cached_property
    def polls(self) -> int | None:
        return parse_progress(self.progress)

    def durations(self, queue_seconds: float, run_seconds: float) -> tuple[float, float]:
        queue = self.queue_seconds if self.queue_seconds is not None else queue_seconds
        run = self.run_seconds if self.run_seconds is not None else run_seconds
        return queue * self.queue_scale, run * self.run_scale

    def retention(self, default: float) -> float:
        """Seconds a task stays readable after it ends: this profile's, else the vendor's."""
        return self.retention_seconds or default

    def result_ttl(self, default: float) -> float:
        """Seconds result links work: this profile's, else the vendor's."""
        return self.result_ttl_seconds or default

    def merged(self, changes: dict[str, Any]) -> Timing:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(kinds.unknown("timing field", unknown, known))
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_progress(text: Any, name: str = "progress") -> int | None:
    """``"time"`` -> None; ``"polls:N"`` -> N (N >= 1); KindError naming ``name`` otherwise."""
    if text == "time":
        return None
    kind, _, count = text.partition(":") if isinstance(text, str) else ("", "", "")
    if kind == "polls" and count.isdigit() and int(count) >= 1:
        return int(count)
    raise kinds.KindError(name, '"time" or "polls:N" (N a whole number >= 1)', text)
