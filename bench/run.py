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
from bench.figures import (
    BUSY,
    MB,
    NO_ERRORS,
    SOAK_CONNECTIONS,
    Checkpoint,
    Measured,
    Soak,
    line,
    report,
    run_notes,
    targets,
)
from bench.servers import CACHE, HOST, ROOT, Server
from bench.workloads import MILLION, VENDORS, WORKLOADS, Workload

RESULTS = ROOT / "bench" / "results" / "latest.json"
WORK = CACHE / "run"
SOAK_CHECKPOINTS = (10_000, 100_000, 250_000, 500_000)  # RSS read here too, on the way to --million


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
    measured = any(m.server == "prism" for m in runs)
    prism = f", Prism {servers.PRISM_VERSION} -v {settings.prism_log}" if measured else ""
    heading = f"results (wrk, {settings.warmup:g} s warm-up + {settings.duration:g} s per run{prism})"
    say(report(heading, runs, start, soaked, checks))
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
