"""``make bench``: our mock against Stoplight Prism, side by side in one run, on loopback, under wrk.

Prints, per workload and concurrency, requests/s, p50/p99 latency, errors and peak RSS for both
servers and the ratio ours/Prism; the start-up times; our RSS after 10,000 requests, at a few
checkpoints and after 1,000,000; then each target with PASS/FAIL. Writes the same as JSON to
bench/results/latest.json. See bench/README.md.

    python -m bench.run [--duration S] [--warmup S] [--million N] [--concurrency 16,64]
                        [--workloads a,b,c] [--no-prism] [--prism-log error|fatal|silent] [--strict]

wrk missing: installed first (Debian's package) when root with apt-get, else the run stops and
says how to install it. Environment: BENCH_DURATION, BENCH_WARMUP, BENCH_MILLION,
BENCH_CONCURRENCY, BENCH_PRISM_LOG. Exit status: 1 if our mock answered a measured run with errors
(its figures are not valid), or with --strict if a target failed; else 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen, servers, startup, workloads
from bench.loadgen import Result
from bench.servers import CACHE, HOST, ROOT, Server
from bench.workloads import MILLION, VENDORS, WORKLOADS, Workload

RESULTS = ROOT / "bench" / "results" / "latest.json"
WORK = CACHE / "run"
SOAK_CONNECTIONS = 16
SOAK_CHECKPOINTS = (10_000, 100_000, 250_000, 500_000)  # RSS read here too, on the way to --million
MB = 1024.0
BUSY = 0.15  # CPUs used by other processes during a run above which the run is flagged


@dataclass
class Settings:
    duration: float
    warmup: float
    million: int
    concurrency: tuple[int, ...]
    workloads: tuple[str, ...]
    prism: bool
    prism_log: str
    strict: bool


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


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def parse(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=_env_float("BENCH_DURATION", 10.0))
    parser.add_argument("--warmup", type=float, default=_env_float("BENCH_WARMUP", 3.0))
    parser.add_argument("--million", type=int, default=int(_env_float("BENCH_MILLION", 1_000_000)))
    parser.add_argument("--concurrency", default=os.environ.get("BENCH_CONCURRENCY", "16,64"))
    parser.add_argument("--workloads", default="a,b,c", help="which of a, b, c to run")
    parser.add_argument("--no-prism", action="store_true", help="measure our mock only")
    parser.add_argument(
        "--prism-log",
        choices=("error", "fatal", "silent"),
        default=os.environ.get("BENCH_PRISM_LOG", "error"),
        help="Prism's -v (default error, as the peer baseline)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    return Settings(
        duration=args.duration,
        warmup=args.warmup,
        million=args.million,
        concurrency=tuple(int(c) for c in args.concurrency.split(",") if c),
        workloads=tuple(w for w in args.workloads.split(",") if w),
        prism=not args.no_prism,
        prism_log=args.prism_log,
        strict=args.strict,
    )


def say(text: str) -> None:
    print(text, flush=True)


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not found"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "?"


# -- the servers ---------------------------------------------------------------------------------


@dataclass
class Fleet:
    """One Prism per vendor (started once), and our mock (a fresh one per workload, prepared)."""

    prism: dict[str, Server]
    logs: Path
    ours: Server | None = None
    task_ids: dict[str, list[str]] = field(default_factory=dict)
    submit_tenants: dict[str, str] = field(default_factory=dict)

    def fresh_mock(self, name: str) -> Server:
        if self.ours is not None:
            self.ours.stop()
            self.ours = None
        ours, ready = servers.start_mock(servers.free_port(), self.logs, name=name)
        self.ours = ours
        self.task_ids, self.submit_tenants = prepare(ours.port, VENDORS)
        say(f"  our mock: {ours.url} (pid {ours.process.pid}, ready in {ready:.2f} s)")
        return ours

    def stop(self) -> None:
        for server in [*self.prism.values(), *([self.ours] if self.ours else [])]:
            server.stop()


def prepare(port: int, vendors: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The poll tenant and its tasks, and the Aidge quota, on our mock at ``port``."""
    workloads.register_poll_tenant(port)
    workloads.lift_aidge_quota(port)
    ids = {v: workloads.make_tasks(port, v) for v in vendors}
    return ids, workloads.submit_tenants(port)


def start_prism(logs: Path, verbosity: str) -> dict[str, Server]:
    """``prism mock -v error`` for each vendor's exported document, each on its own port."""
    prism: dict[str, Server] = {}
    try:
        for vendor in VENDORS:
            port = servers.free_port()
            doc = servers.export_openapi(vendor, WORK / "openapi" / f"{vendor}.json", f"http://{HOST}:{port}")
            prism[vendor] = servers.start_prism(vendor, doc, port, logs, verbosity)
        for vendor, server in prism.items():
            took = servers.wait_ready(server)
            say(f"  Prism for {vendor}: {server.url} (pid {server.process.pid}, ready in {took:.2f} s)")
    except BaseException:
        for server in prism.values():
            server.stop()
        raise
    return prism


# -- one measurement -----------------------------------------------------------------------------


def measure(
    settings: Settings, fleet: Fleet, workload: Workload, *, connections: int, server: str, rate_hint: float
) -> Measured:
    ours = server == "ours"
    mock = fleet.ours
    assert mock is not None
    images = mock.url
    ports = {v: mock.port if ours else fleet.prism[v].port for v in workload.vendors}
    involved = [mock] if ours else [fleet.prism[v] for v in workload.vendors]
    task_ids = fleet.task_ids if ours else None
    folder = WORK / f"{workload.key}-c{connections}-{server}"
    shutil.rmtree(folder, ignore_errors=True)

    def build(seconds: float) -> list[workloads.Group]:
        # Our mock refuses a replayed DAMO nonce: signed requests go once each, made for this run.
        unique = workloads.unique_count(rate_hint, seconds) if (workload.signed and ours) else 0
        return workloads.groups(workload, ports, images, task_ids, unique=unique)

    warm = loadgen.run(build(settings.warmup), connections, settings.warmup, folder / "warmup")
    groups = build(settings.duration)
    for s in involved:
        s.reset_peak()
    logged = sum(s.log.stat().st_size for s in involved)
    other = servers.ForeignLoad()
    result = loadgen.run(groups, connections, settings.duration, folder / "measured")
    other_cpu = other.stop()
    peak = sum(s.peak_kb() for s in involved)
    logged = sum(s.log.stat().st_size for s in involved) - logged
    notes = []
    if other_cpu > BUSY:
        notes.append(f"other processes used {other_cpu:.2f} CPU meanwhile")
    if logged:
        notes.append(f"the server logged {logged / 1e6:.1f} MB meanwhile")
    if result.exhausted:
        notes.append(f"ran out of signed requests after {result.seconds:.1f} s (measured until then)")
    if not all(s.alive() for s in involved):
        notes.append("a server process died")
    journal = None
    if ours:
        tenants = {v: [fleet.submit_tenants[v], workloads.POLL_TENANT] for v in workload.vendors}
        journal = workloads.journal_errors(mock.port, tenants)
    return Measured(
        workload.key,
        workload.title,
        connections,
        server,
        result,
        peak,
        warm,
        journal,
        other_cpu,
        logged,
        notes,
    )


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


def soak(settings: Settings, logs: Path) -> Soak:
    """A fresh mock under the DashScope 1:5 mix: RSS (and the task and journal counts) after
    10,000 requests, at a few checkpoints, and after ``million`` in all."""
    server, _ = servers.start_mock(servers.free_port(), logs, name="tryon-mock-soak")
    try:
        ids, _ = prepare(server.port, ("dashscope",))
        groups = workloads.groups(MILLION, {"dashscope": server.port}, server.url, ids)
        marks = [c for c in SOAK_CHECKPOINTS if c < settings.million] + [settings.million]
        done: list[Checkpoint] = []
        sent = 0
        for i, mark in enumerate(marks):
            other = servers.ForeignLoad()
            result = loadgen.run(groups, SOAK_CONNECTIONS, 3 * 3600.0, WORK / f"soak-{i}", limit=mark - sent)
            sent += result.requests
            health = json.loads(servers.http_get(server.port, "/_mock/health")[1])
            point = Checkpoint(
                sent,
                server.rss_kb(),
                health["tasks"],
                health["journal"],
                result.rps,
                result.errors,
                other.stop(),
            )
            done.append(point)
            say(
                f"  {point.requests:>9,} requests: RSS {point.rss_kb / MB:6.1f} MB, tasks {point.tasks:>6}, "
                f"journal {point.journal:>5}; {point.rps:,.0f} req/s, {point.errors} errors"
                + (f"  [other processes used {point.other_cpu:.2f} CPU]" if point.other_cpu > BUSY else "")
            )
        return Soak(done, server.peak_kb())
    finally:
        server.stop()


# -- report --------------------------------------------------------------------------------------


def _find(runs: list[Measured], workload: str, connections: int, server: str) -> Measured | None:
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
        ours = _find(runs, key, conns, "ours")
        if ours is None:
            continue
        row = f"{f'({key}) {ours.title}':<42} {conns:>3} |      {cells(ours)}"
        other = _find(runs, key, conns, "prism")
        if other is not None:
            ratio = f"{ours.result.rps / other.result.rps:.2f}x" if other.result.rps else "n/a"
            row += f" |       {cells(other)} | {ratio:>10}"
        rows.append(row)
    return "\n".join(rows)


def targets(runs: list[Measured], start: dict[str, Any], soaked: Soak | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: str) -> None:
        out.append({"target": name, "pass": ok, "value": value})

    ours, prism = _find(runs, "a", 16, "ours"), _find(runs, "a", 16, "prism")
    name = "(a) c16: ours >= 1.5x Prism's throughput (Prism -v error)"
    if ours is not None and prism is not None and prism.result.rps:
        ratio = ours.result.rps / prism.result.rps
        add(name, ratio >= 1.5, f"{ratio:.2f}x")
    else:
        add(name, None, "not measured")
    p99 = ours.result.p99_ms if ours else None
    add(
        "(a) c16: our p99 < 5 ms",
        None if p99 is None else p99 < 5,
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


NO_ERRORS = "no errors from our mock in any measured run"


def report(
    settings: Settings,
    runs: list[Measured],
    start: dict[str, Any],
    soaked: Soak | None,
    checks: list[dict[str, Any]],
) -> None:
    say("\n" + "=" * 100)
    measured = any(m.server == "prism" for m in runs)
    prism = f", Prism {servers.PRISM_VERSION} -v {settings.prism_log}" if measured else ""
    runs_are = f"{settings.warmup:g} s warm-up + {settings.duration:g} s per run"
    say(f"results (wrk, {runs_are}{prism})\n")
    if runs:
        say(table(runs) + "\n")
    say(
        f"serve ready (tryon-mock serve -> 200 on /_mock/health): {start['serve_ready']['median']:.3f} s "
        f"({start['serve_ready_bytecode']['median']:.3f} s with a warm bytecode cache)"
    )
    say(f"serve_in_thread() enter -> yield:                      {start['serve_in_thread']['median']:.3f} s")
    say(f"in-process fixture (create_app + TestClient request):  {start['in_process']['median']:.3f} s")
    if soaked:
        say(
            "RSS of our mock: "
            + ", ".join(f"{c.rss_kb / MB:.1f} MB after {c.requests:,}" for c in soaked.checkpoints)
            + f" requests (tasks {soaked.last.tasks}, journal {soaked.last.journal} at the end)"
        )
    say("\ntargets")
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[check["pass"]]
        say(f"  {verdict}  {check['target']}: {check['value']}")


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


# -- main ----------------------------------------------------------------------------------------


def measure_startup(logs: Path) -> dict[str, Any]:
    say("\nstart-up")
    ready = startup.serve_ready(logs)
    start: dict[str, Any] = {"serve_ready": {"seconds": ready, "median": statistics.median(ready)}}
    say(f"  tryon-mock serve -> first 200 on /_mock/health: {', '.join(f'{t:.3f}' for t in ready)} s")
    cached = startup.serve_ready(logs, bytecode=True)
    start["serve_ready_bytecode"] = {"seconds": cached, "median": statistics.median(cached)}
    say(f"  the same with a warm bytecode cache: {', '.join(f'{t:.3f}' for t in cached)} s")
    for kind, label in (
        ("serve_in_thread", "serve_in_thread() enter -> yield"),
        ("in_process", "create_app(Settings()) + first TestClient request"),
    ):
        start[kind] = startup.fixture(kind)
        say(f"  {label}: {', '.join(f'{t:.3f}' for t in start[kind]['seconds'])} s")
    return start


def run_workloads(settings: Settings, logs: Path) -> list[Measured]:
    runs: list[Measured] = []
    chosen = [w for w in WORKLOADS if w.key in settings.workloads]
    if not chosen:
        return runs
    say("\nworkloads")
    fleet = Fleet(start_prism(logs, settings.prism_log) if settings.prism else {}, logs)
    try:
        for workload in chosen:
            fleet.fresh_mock(f"tryon-mock-{workload.key}")
            for connections in settings.concurrency:
                for server in ("ours", "prism") if settings.prism else ("ours",):
                    best = max((m.result.rps for m in runs if m.server == "ours"), default=0.0)
                    hint = max(4000.0, 3 * best)
                    m = measure(
                        settings, fleet, workload, connections=connections, server=server, rate_hint=hint
                    )
                    runs.append(m)
                    say(line(m))
    finally:
        fleet.stop()
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse(argv)
    wrk = loadgen.ensure_wrk()
    began = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    logs = WORK / "logs"
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "wrk": _version([wrk, "--version"]),
        "node": _version(["node", "--version"]) if shutil.which("node") else "not installed",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    whole = servers.ForeignLoad()
    say(f"tryon-mock benchmark: {machine}")
    say(
        f"load generator: wrk; {settings.warmup:g} s warm-up + {settings.duration:g} s "
        f"measured per run; concurrency {settings.concurrency}; soak {settings.million:,} requests"
    )
    start = measure_startup(logs)
    notes: list[str] = []
    if settings.prism:
        try:
            servers.install_prism()
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            notes.append(f"Prism not measured: {exc}")
            settings.prism = False
    runs = run_workloads(settings, logs)
    soaked = None
    if settings.million > 0:
        say(f"\nsoak: {MILLION.title}, c{SOAK_CONNECTIONS}, a fresh mock")
        soaked = soak(settings, logs)
    checks = targets(runs, start, soaked)
    report(settings, runs, start, soaked, checks)
    took = time.monotonic() - began
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    machine["other_cpu"] = round(whole.stop(), 3)
    notes += run_notes(runs, machine["other_cpu"])
    for note in notes:
        say(f"note: {note}")
    say(f"\ntook {took:.0f} s; JSON: {RESULTS.relative_to(ROOT)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(took, 1),
        "machine": machine,
        "settings": {
            "duration": settings.duration,
            "warmup": settings.warmup,
            "million": settings.million,
            "concurrency": settings.concurrency,
        },
        "prism": {
            "package": servers.PRISM_PACKAGE,
            "version": servers.PRISM_VERSION,
            "flags": f"-v {settings.prism_log}",
        }
        if settings.prism
        else None,
        "startup": start,
        "runs": [m.as_dict() for m in runs],
        "soak": soaked.as_dict() if soaked else None,
        "targets": checks,
        "notes": notes,
    }
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    invalid = any(c["target"] == NO_ERRORS and c["pass"] is False for c in checks)
    failed = any(c["pass"] is False for c in checks)
    return 1 if invalid or (settings.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
