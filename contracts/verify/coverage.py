"""What a run tried, as the server recorded it: the operations submitted, the error rows the client
got and where (a submit's answer, a poll's answer, a failed task it was shown), the network faults
and delays it met, the task lifecycles it saw, and what it reported. Every report carries it, with
what was not tried, so a user sees how far a pass goes.

Everything but the timing mode comes from the journal and the tasks of each example (what the
server did), not from the fault rules the suite meant to set: a rule that never fired, a fault on
a call the client never made, a failed task the client never polled count as not tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from contracts.model import Contract
from contracts.verify import documents
from contracts.verify.evidence import TERMINAL_STAGES, Evidence
from contracts.verify.explicit import PLACES
from contracts.verify.scenario import Scenario, async_operations

NETWORK = ("submit reset", "query reset", "query truncate")  # the network faults the suite draws
POLL_BUCKETS = 4  # polls of a task counted 1, 2, 3, 4 or more
NAMED = 8  # a text report names this many of what was not tried, then counts the rest


class Coverage:
    """Counts over every example of a run (the explicit phase's, the random phase's, shrink steps)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.examples = 0
        self.explicit = 0  # examples of the explicit phase
        self.operations: Counter[str] = Counter()
        self.rows: dict[str, Counter[str]] = {place: Counter() for place in PLACES}
        self.network: Counter[str] = Counter()
        self.delays: Counter[str] = Counter()
        self.progress: Counter[str] = Counter()
        self.polls: Counter[str] = Counter()
        self.batches: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.partial = 0  # answers that showed a batch partly ended
        self.outcomes: Counter[str] = Counter()

    def add(self, scenario: Scenario, ev: Evidence) -> None:
        self.examples += 1
        self.progress[str(scenario.timing.get("progress", "")).partition(":")[0]] += 1
        status = ev.outcome.get("status") if isinstance(ev.outcome, dict) else None
        self.outcomes[str(status) if ev.problem is None and status else "none"] += 1
        if ev.submits:
            self.operations[scenario.operation] += 1
        failed = {t["id"]: t["error"] for t in ev.tasks if t["stage"] == "failed" and t.get("error")}
        shown_failed: set[str] = set()
        for e in ev.entries:
            self._entry(ev, e, failed, shown_failed)
        for task_id in failed.keys() & shown_failed:
            self.rows["task"][failed[task_id]] += 1
        for task_id in dict.fromkeys(ev.created):
            group = ev.group(task_id)
            if not group:
                continue
            polls = max(t["polls"] for t in group)
            self.polls[str(polls) if polls < POLL_BUCKETS else f"{POLL_BUCKETS}+"] += 1
            if self.contract.operations[group[0]["operation"]].batch_pointer is not None:
                self.batches[str(len(group))] += 1

    def _entry(
        self, ev: Evidence, e: Mapping[str, Any], failed: Mapping[str, str], shown_failed: set[str]
    ) -> None:
        kind = ev.kind(e)
        fault = e.get("fault") or {}
        if fault.get("network"):
            self.network[f"{kind} {fault['network']}"] += 1
            return
        if fault.get("delay_ms"):
            self.delays[kind] += 1
        shown = e.get("tasks") or []
        for t in shown:
            self.stages[t["stage"]] += 1
        ended = [t["stage"] in TERMINAL_STAGES for t in shown]
        if any(ended) and not all(ended):
            self.partial += 1
        ends = {failed[t["id"]] for t in shown if t["id"] in failed}
        shown_failed.update(t["id"] for t in shown if t["id"] in failed)
        if e.get("error") and kind in self.rows and e["error"] not in ends:
            self.rows[kind][e["error"]] += 1

    def summary(self, operations: Sequence[str] | None = None) -> dict[str, Any]:
        """The run's coverage as plain data (the JSON report's ``coverage``)."""
        names = async_operations(self.contract, operations)
        places: dict[str, Any] = {}
        for place in PLACES:
            possible = [row.id for row in self.contract.errors if row.can_occur(place)]
            places[place] = {
                "possible": len(possible),
                "tried": dict(sorted(self.rows[place].items())),
                "not_tried": [row for row in possible if row not in self.rows[place]],
            }
        rows = {row.id for row in self.contract.errors if any(row.can_occur(p) for p in PLACES)}
        tried_rows = rows & {row for counts in self.rows.values() for row in counts}
        stages = documents.schema("journal")["$defs"]["stage"]["enum"]
        return {
            "examples": self.examples,
            "explicit_examples": self.explicit,
            "operations": {
                "tried": {name: self.operations[name] for name in names if self.operations[name]},
                "not_tried": [name for name in names if not self.operations[name]],
            },
            "error_rows": {
                "rows": len(rows),
                "elsewhere": len(self.contract.errors) - len(rows),  # rows of other endpoints only
                "tried": len(tried_rows),
                "not_tried": sorted(rows - tried_rows),
                "places": places,
            },
            "network_faults": {
                "tried": dict(sorted(self.network.items())),
                "not_tried": [fault for fault in NETWORK if not self.network[fault]],
                "delays": dict(sorted(self.delays.items())),
            },
            "lifecycles": {
                "progress": dict(sorted(self.progress.items())),
                "polls_per_task": dict(sorted(self.polls.items())),
                "batch_sizes": dict(sorted(self.batches.items(), key=lambda kv: int(kv[0]))),
                "stages_shown": {stage: self.stages[stage] for stage in stages if self.stages[stage]},
                "stages_not_shown": [stage for stage in stages if not self.stages[stage]],
                "partial_batch_answers": self.partial,
            },
            "outcomes": dict(sorted(self.outcomes.items())),
        }


def lines(doc: Mapping[str, Any]) -> list[str]:
    """The coverage section of the text report."""
    ops, rows, net, life = doc["operations"], doc["error_rows"], doc["network_faults"], doc["lifecycles"]
    places = ", ".join(
        f"{place} {len(p['tried'])}/{p['possible']}" for place, p in rows["places"].items() if p["possible"]
    )
    missing = [f"{place} {row}" for place, p in rows["places"].items() for row in p["not_tried"]]
    out = [
        f"  coverage (what the server recorded; explicit phase {doc['explicit_examples']} examples):",
        f"    operations: {len(ops['tried'])}/{len(ops['tried']) + len(ops['not_tried'])} "
        f"({_counts(ops['tried'])})" + _not_tried(ops["not_tried"]),
        f"    error rows: {rows['tried']}/{rows['rows']} ({places})"
        + (f"; {rows['elsewhere']} more show only outside a job's calls" if rows["elsewhere"] else "")
        + _not_tried(missing),
        f"    network faults: {_counts(net['tried']) or 'none'}; delays: {_counts(net['delays']) or 'none'}"
        + _not_tried(net["not_tried"]),
        f"    lifecycles: progress by {_counts(life['progress'])}; "
        f"polls per task {_counts(life['polls_per_task'])}"
        + (f"; batches of {_counts(life['batch_sizes'])}" if life["batch_sizes"] else "")
        + f"; answers showing a batch partly ended {life['partial_batch_answers']}",
        f"    stages shown: {_counts(life['stages_shown'])}"
        + _not_tried(life["stages_not_shown"], "not shown"),
        f"    outcomes reported: {_counts(doc['outcomes'])}",
    ]
    return out


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _not_tried(names: Sequence[str], label: str = "not tried") -> str:
    if not names:
        return ""
    more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
    return f"; {label}: " + ", ".join(names[:NAMED]) + more


def properties(doc: Mapping[str, Any]) -> dict[str, str]:
    """The headline numbers, as JUnit ``<property>`` values."""
    rows = doc["error_rows"]
    ops = doc["operations"]
    return {
        "coverage.operations": f"{len(ops['tried'])}/{len(ops['tried']) + len(ops['not_tried'])}",
        "coverage.error_rows": f"{rows['tried']}/{rows['rows']}",
        **{
            f"coverage.error_rows.{place}": f"{len(p['tried'])}/{p['possible']}"
            for place, p in rows["places"].items()
        },
        "coverage.network_faults": f"{len(doc['network_faults']['tried'])}/{len(NETWORK)}",
        "coverage.explicit_examples": str(doc["explicit_examples"]),
    }
