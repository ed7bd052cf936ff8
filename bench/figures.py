"""The figures of a bench run: each measured run, the RSS soak's checkpoints, the table they make,
and the targets they are held to (see bench/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.loadgen import Result
from bench.workloads import MILLION

MB = 1024.0
BUSY = 0.15  # CPUs used by other processes during a run above which the run is flagged
SOAK_CONNECTIONS = 16
NO_ERRORS = "no errors from our mock in any measured run"
THROUGHPUT_TARGET = 2.5  # (a) c16: ours at this many times Prism's requests per second, or better
P99_TARGET_MS = 5.0  # (a) c16: our p99 under this


@dataclass
class Measured:
    workload: str
    title: str
    connections: int
    server: str  # "ours" | "prism"
    result: Result
    peak_rss_kb: int
    warmup: Result
    journal: tuple[int, int] | None = None  # (entries read, entries in error), ours only
    other_cpu: float = 0.0  # CPUs used by processes outside the benchmark during the run
    log_bytes: int = 0  # what the server wrote to its log during the run
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "title": self.title,
            "connections": self.connections,
            "server": self.server,
            **self.result.as_dict(),
            "peak_rss_mb": round(self.peak_rss_kb / MB, 1),
            "warmup": self.warmup.as_dict(),
            "journal": None
            if self.journal is None
            else {"entries_read": self.journal[0], "in_error": self.journal[1]},
            "other_cpu": round(self.other_cpu, 3),
            "log_bytes": self.log_bytes,
            "notes": self.notes,
        }


def line(m: Measured) -> str:
    r = m.result
    text = (
        f"  ({m.workload}) c{m.connections:<3} {m.server:<5} {r.rps:>9,.0f} req/s  p50 {r.p50_ms:7.2f} ms  "
        f"p99 {r.p99_ms:7.2f} ms  errors {r.errors:>5}  peak RSS {m.peak_rss_kb / MB:7.1f} MB"
    )
    if m.journal is not None:
        text += f"  journal {m.journal[1]}/{m.journal[0]} in error"
    return text + "".join(f"  [{n}]" for n in m.notes)


# -- the soak ------------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    requests: int  # in all, so far
    rss_kb: int
    tasks: int
    journal: int
    rps: float  # over the stretch since the previous checkpoint
    errors: int
    other_cpu: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rss_mb": round(self.rss_kb / MB, 1),
            "tasks": self.tasks,
            "journal": self.journal,
            "rps": round(self.rps, 1),
            "errors": self.errors,
            "other_cpu": round(self.other_cpu, 3),
        }


@dataclass
class Soak:
    checkpoints: list[Checkpoint]
    peak_rss_kb: int

    @property
    def first(self) -> Checkpoint:
        return self.checkpoints[0]

    @property
    def last(self) -> Checkpoint:
        return self.checkpoints[-1]

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.checkpoints)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": MILLION.title,
            "connections": SOAK_CONNECTIONS,
            "checkpoints": [c.as_dict() for c in self.checkpoints],
            "peak_rss_mb": round(self.peak_rss_kb / MB, 1),
            "errors": self.errors,
        }


def find(runs: list[Measured], workload: str, connections: int, server: str) -> Measured | None:
    return next(
        (m for m in runs if (m.workload, m.connections, m.server) == (workload, connections, server)), None
    )


def table(runs: list[Measured]) -> str:
    """One row per workload and concurrency: ours, Prism (when measured), and ours/Prism req/s."""
    cols = f"{'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'err':>4} {'RSS MB':>7}"
    prism = any(m.server == "prism" for m in runs)
    head = f"{'workload':<42} {'c':>3} | ours {cols}"
    if prism:
        head += f" | Prism {cols} | {'ours/Prism':>10}"
    rows = [head, "-" * len(head)]

    def cells(m: Measured) -> str:
        r = m.result
        return f"{r.rps:>9,.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.errors:>4} {m.peak_rss_kb / MB:>7.1f}"

    for key, conns in sorted({(m.workload, m.connections) for m in runs}):
        ours = find(runs, key, conns, "ours")
        if ours is None:
            continue
        row = f"{f'({key}) {ours.title}':<42} {conns:>3} |      {cells(ours)}"
        other = find(runs, key, conns, "prism")
        if other is not None:
            ratio = f"{ours.result.rps / other.result.rps:.2f}x" if other.result.rps else "n/a"
            row += f" |       {cells(other)} | {ratio:>10}"
        rows.append(row)
    return "\n".join(rows)


def targets(runs: list[Measured], start: dict[str, Any], soaked: Soak | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: str) -> None:
        out.append({"target": name, "pass": ok, "value": value})

    ours, prism = find(runs, "a", 16, "ours"), find(runs, "a", 16, "prism")
    name = f"(a) c16: ours >= {THROUGHPUT_TARGET:g}x Prism's throughput (Prism -v error)"
    if ours is not None and prism is not None and prism.result.rps:
        ratio = ours.result.rps / prism.result.rps
        add(name, ratio >= THROUGHPUT_TARGET, f"{ratio:.2f}x")
    else:
        add(name, None, "not measured")
    p99 = ours.result.p99_ms if ours else None
    add(
        f"(a) c16: our p99 < {P99_TARGET_MS:g} ms",
        None if p99 is None else p99 < P99_TARGET_MS,
        "not measured" if p99 is None else f"{p99:.2f} ms",
    )
    if soaked is not None and len(soaked.checkpoints) > 1 and soaked.first.rss_kb:
        first, last = soaked.first, soaked.last
        ratio = last.rss_kb / first.rss_kb
        add(
            f"RSS after {last.requests:,} requests <= 1.5x RSS after {first.requests:,}",
            ratio <= 1.5,
            f"{last.rss_kb / MB:.1f} / {first.rss_kb / MB:.1f} MB = {ratio:.2f}x",
        )
    ready = start["serve_ready"]["median"]
    add("tryon-mock serve: first 200 on /_mock/health < 1 s", ready < 1.0, f"{ready:.3f} s (median of 3)")
    fixture = start["in_process"]["median"]
    add(
        "in-process fixture (create_app + first TestClient request) < 0.2 s",
        fixture < 0.2,
        f"{fixture:.3f} s",
    )
    errors = sum(m.result.errors for m in runs if m.server == "ours") + (soaked.errors if soaked else 0)
    add(NO_ERRORS, errors == 0, f"{errors} errors")
    return out


def report(
    heading: str,
    runs: list[Measured],
    start: dict[str, Any],
    soaked: Soak | None,
    checks: list[dict[str, Any]],
) -> str:
    """The run's figures as text: the table, start-up times, the soak's RSS, and each target."""
    lines = ["\n" + "=" * 100, heading + "\n"]
    if runs:
        lines.append(table(runs) + "\n")
    lines.append(
        f"serve ready (tryon-mock serve -> 200 on /_mock/health): {start['serve_ready']['median']:.3f} s "
        f"({start['serve_ready_bytecode']['median']:.3f} s with a warm bytecode cache)"
    )
    lines.append(
        f"serve_in_thread() enter -> yield:                      {start['serve_in_thread']['median']:.3f} s"
    )
    lines.append(
        f"in-process fixture (create_app + TestClient request):  {start['in_process']['median']:.3f} s"
    )
    if soaked:
        lines.append(
            "RSS of our mock: "
            + ", ".join(f"{c.rss_kb / MB:.1f} MB after {c.requests:,}" for c in soaked.checkpoints)
            + f" requests (tasks {soaked.last.tasks}, journal {soaked.last.journal} at the end)"
        )
    lines.append("\ntargets")
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[check["pass"]]
        lines.append(f"  {verdict}  {check['target']}: {check['value']}")
    return "\n".join(lines)


def run_notes(runs: list[Measured], other_cpu: float) -> list[str]:
    """What to keep in mind reading the table: errors on Prism's side, server logging, other load."""
    notes = []
    for m in runs:
        name = f"({m.workload}) c{m.connections} {'Prism' if m.server == 'prism' else 'ours'}"
        r = m.result
        if m.server == "prism" and r.errors:
            kinds = {"HTTP status >= 400": r.status_errors, "socket errors/timeouts": r.socket_errors}
            kinds["error bodies"] = r.body_errors
            shown = ", ".join(f"{n} {k}" for k, n in kinds.items() if n)
            notes.append(f"{name}: {shown}")
        if m.log_bytes:
            notes.append(f"{name}: the server wrote {m.log_bytes / 1e6:.1f} MB of log during the run")
        if m.other_cpu > BUSY:
            notes.append(f"{name}: other processes used {m.other_cpu:.2f} CPU during the run")
    if any(m.server == "prism" and m.log_bytes for m in runs):
        notes.append(
            "Prism's log holds response-validation violations: at -v error it still logs, per answer, "
            "where its own static examples break the exported schemas (see bench/.cache/run/logs/)"
        )
    if other_cpu > BUSY / 3:
        notes.append(f"processes outside the benchmark used {other_cpu:.2f} CPU on average during it")
    return notes
