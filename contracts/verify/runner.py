"""``verify_client``: run a client through Hypothesis-drawn examples against a mock, check each, and
shrink the first failure to the smallest scenario."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import FlakyFailure
from hypothesis.strategies import SearchStrategy

import contracts
from contracts.verify import explicit as explicit_phase
from contracts.verify.adapters import Adapter, Ran, adapter_for
from contracts.verify.checks import BUDGET_ALLOWANCE, CHECKS
from contracts.verify.coverage import Coverage
from contracts.verify.evidence import Evidence
from contracts.verify.replay import scenario_from
from contracts.verify.report import Failure, Report
from contracts.verify.requests import materialize
from contracts.verify.scenario import LASTING_BUDGET, POLL_INTERVAL, Scenario, scenarios
from contracts.verify.server import Session, Tenant
from contracts.verify.spawn import spawned_mock

SETTLE_SECONDS = 0.02  # how long after the outcome a late request still counts as one
# The job's retry backoff (and, scenario.POLL_INTERVAL, poll interval): the pace checks want 0.8 of
# it (40 ms), above the 1-30 ms gaps of a client that does not wait, on a loaded 2-core runner.
RETRY_BACKOFF = 0.05
STOP_MARGIN = 0.1  # seconds past a job's deadline before the server refuses the client's requests


@dataclass
class Example:
    scenario: Scenario
    job: dict[str, Any]
    ran: Ran
    evidence: Evidence
    failures: list[tuple[str, str]]


class _Failed(Exception):
    def __init__(self, example: Example) -> None:
        super().__init__(", ".join(name for name, _ in example.failures))
        self.example = example


def check_settings(checks: Mapping[str, Any] | None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``{"poll_pace": {"min_interval": 0.01}, "nonce_uniqueness": False}`` -> enabled checks with
    their options, and the names turned off."""
    given_checks = dict(checks or {})
    unknown = set(given_checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; known: {sorted(CHECKS)}")
    enabled: dict[str, dict[str, Any]] = {}
    disabled = []
    for name, spec in CHECKS.items():
        setting = given_checks.get(name, True)
        if setting is False:
            disabled.append(name)
            continue
        options = dict(spec.options)
        if isinstance(setting, Mapping):
            bad = set(setting) - set(options)
            if bad:
                raise ValueError(f"{name} has no options {sorted(bad)}; it has {sorted(options)}")
            options.update(setting)
        enabled[name] = options
    return enabled, disabled


class Runner:
    def __init__(
        self,
        adapter: Adapter,
        session: Session,
        checks: dict[str, dict[str, Any]],
        *,
        time_budget: float,
        poll_interval: float,
        retry_backoff: float,
        settle: float,
        shaping: Mapping[str, Any] | None = None,
        on_example: Callable[[int, int, bool], None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.session = session
        self.contract = session.contract
        self.checks = checks
        self.pace = {
            "time_budget_seconds": time_budget,
            "poll_interval_seconds": poll_interval,
            "retry_backoff_seconds": retry_backoff,
        }
        self.settle = settle
        self.counts = {name: {"passed": 0, "failed": 0} for name in checks}
        self.examples = 0  # drawn examples, up to and with the first failing one
        self.shrink_steps = 0  # the runs after it: Hypothesis shrinking it, and replaying the result
        self.shaping = dict(shaping or {})  # the settings a replay line must carry
        self.on_example = on_example  # told (examples, shrink steps, failed yet) after each run
        self.coverage = Coverage(self.contract)

    def job(self, scenario: Scenario, credentials: dict[str, str]) -> dict[str, Any]:
        op = self.contract.operations[scenario.operation]
        endpoint = self.contract.endpoint(op.endpoint)
        return {
            "vendor": self.contract.name,
            "operation": scenario.operation,
            "endpoint": {
                "method": endpoint.method,
                "path": endpoint.paths[0].removeprefix(self.contract.client_base_path),
            },
            "base_url": self.session.base_url,
            "credentials": credentials,
            "request": materialize(scenario.request, self.session.asset_url),
            "files": {name: self.session.asset_file(asset) for name, asset in scenario.files.items()},
            **self.pace,
            **self._budget(scenario),
        }

    def _budget(self, scenario: Scenario) -> dict[str, float]:
        """A lasting fault gets a short budget (the client must give up within it)."""
        if not scenario.lasting:
            return {}
        return {"time_budget_seconds": min(self.pace["time_budget_seconds"], LASTING_BUDGET)}

    def run(self, scenario: Scenario) -> Example:
        tenant = self.session.open(scenario)
        try:
            job = self.job(scenario, tenant.credentials)
            started = time.time()
            ran = self._run(tenant, job)
            returned = ran.reported or time.time()
            time.sleep(self.settle)
            seen = self.session.seen(tenant, until=time.time())
        finally:
            self.session.close(tenant)
        evidence = Evidence(
            self.contract,
            job,
            ran.outcome,
            ran.problem,
            seen.entries,
            seen.tasks,
            returned,
            started=started,
            start_allowance=float(getattr(self.adapter, "start_allowance", 0.0)),
        )
        failures = []
        shrinking = self.failed
        for name, options in self.checks.items():
            found = CHECKS[name].run(evidence, options)
            if not shrinking:
                self.counts[name]["failed" if found else "passed"] += 1
            failures += [(name, message) for message in found]
        if shrinking:
            self.shrink_steps += 1
        else:
            self.examples += 1
        self.coverage.add(scenario, evidence)
        if self.on_example is not None:
            self.on_example(self.examples, self.shrink_steps, bool(failures) or shrinking)
        return Example(scenario, job, ran, evidence, failures)

    @property
    def failed(self) -> bool:
        """Whether an example has failed (every run after it is a shrink step or a replay)."""
        return any(counts["failed"] for counts in self.counts.values())

    def _run(self, tenant: Tenant, job: dict[str, Any]) -> Ran:
        """Run the client; once its budget (and the allowances of within_time_budget) is spent, the
        server refuses its requests (Session.stop), so a client that never gives up, on a lasting
        fault or a task's retryable end, still ends, late (a Python callable cannot be killed)."""
        spent = job["time_budget_seconds"] + getattr(self.adapter, "start_allowance", 0.0)
        stop = threading.Timer(spent + BUDGET_ALLOWANCE + STOP_MARGIN, self.session.stop, (tenant,))
        stop.start()
        try:
            return self.adapter.run(job)
        finally:
            stop.cancel()
            stop.join()

    def failure(self, example: Example, flaky: bool = False) -> Failure:
        scenario = json.dumps(example.scenario.as_dict(), separators=(",", ":"), sort_keys=True)
        return Failure(
            checks=example.failures,
            scenario=example.scenario.as_dict(),
            job=example.job,
            outcome=example.ran.outcome if example.ran.problem is None else {"problem": example.ran.problem},
            requests=[_line(e) for e in example.evidence.entries],
            replay=self.adapter.replay_command(self.contract.name, scenario, self.shaping),
            flaky=flaky,
        )


def _line(entry: Mapping[str, Any]) -> str:
    extra = f" {entry['error']}" if entry.get("error") else ""
    fault = entry.get("fault") or {}
    injected = (
        fault.get("error") or fault.get("network") or (f"delay {fault['delay_ms']} ms" if fault else None)
    )
    shown = ", ".join(t["status"] for t in entry.get("tasks") or [])
    return (
        f"#{entry['seq']} {entry['method']} {entry['path']}"
        + (f"?{entry['query']}" if entry.get("query") else "")
        + f" -> {entry['status']}{extra}"
        + (f" [{shown}]" if shown else "")
        + (f" (injected: {injected})" if injected else "")
    )


@contextmanager
def _server(server: Any) -> Iterator[str]:
    """The URL of the mock to use: the one given (a URL or anything with ``.url``), or a fresh
    ``tryon-mock serve`` on a free loopback port for the length of the run (a subprocess: the
    suite talks to a mock over HTTP only, and never imports ``mock_server``)."""
    if server is not None:
        yield server if isinstance(server, str) else server.url
        return
    with spawned_mock() as url:
        yield url


def verify_client(
    client: Any,
    vendor: str,
    server: Any = None,
    *,
    operations: Sequence[str] | None = None,
    max_examples: int = 50,
    seed: int | None = None,
    checks: Mapping[str, Any] | None = None,
    time_budget: float = 10.0,
    poll_interval: float = POLL_INTERVAL,
    retry_backoff: float = RETRY_BACKOFF,
    settle: float = SETTLE_SECONDS,
    replay: str | Mapping[str, Any] | None = None,
    shrink: bool = True,
    progress: str = "any",
    explicit: str = "rows",
    on_example: Callable[[int, int, bool], None] | None = None,
) -> Report:
    """Verify a client of ``vendor`` against the mock.

    ``client`` is a callable (job dict -> outcome dict), a command line (job on stdin, outcome on
    stdout) or an adapter. ``server`` is a running mock (its URL, or anything with a ``url``, such
    as a ``MockServer``); without one, ``tryon-mock serve`` runs as a subprocess for the run. A
    server whose journal answers break ``contracts/journal.schema.json`` raises ServerFormatError.
    ``checks`` turns checks off (``{"poll_pace": False}``) or sets their options
    (``{"poll_pace": {"min_interval": 0.5}}``). ``replay`` runs exactly one
    scenario (as a failure report prints it) instead of drawing examples. ``shrink=False`` reports
    the first failing example as found (faster, larger). ``progress`` limits the drawn lifecycles to
    poll counts (``"polls"``) or scaled time (``"time"``). ``explicit`` is the explicit phase run first, in
    addition to the ``max_examples`` of the random phase (contracts/verify/explicit.py): ``"rows"``
    every error row in every place, the operations taking turns; ``"all"`` that for every
    operation; ``"off"`` none. ``on_example(examples, shrink_steps, failed)`` is called after each
    run (for progress lines).
    """
    if vendor not in contracts.vendor_names():
        raise ValueError(f"unknown vendor {vendor!r}; the vendors are {', '.join(contracts.vendor_names())}")
    if max_examples < 1:
        raise ValueError(f"max_examples is {max_examples}; it must be 1 or more")
    contract = contracts.load(vendor)
    scenario = scenario_from(replay, list(contract.operations), "replay") if replay is not None else None
    adapter = adapter_for(client)
    enabled, disabled = check_settings(checks)
    if explicit not in explicit_phase.MODES:
        raise ValueError(f"explicit is one of {explicit_phase.MODES}, not {explicit!r}")
    seed = seed if seed is not None else random.randrange(2**32)
    report = Report(
        vendor=vendor, client=adapter.label, seed=seed if replay is None else None, disabled=disabled
    )
    started = time.perf_counter()
    with _server(server) as url:
        session = Session(url, contract)
        runner = Runner(
            adapter,
            session,
            enabled,
            time_budget=time_budget,
            poll_interval=poll_interval,
            retry_backoff=retry_backoff,
            settle=settle,
            shaping={
                "time_budget": time_budget,
                "poll_interval": poll_interval,
                "retry_backoff": retry_backoff,
                "progress": progress,
                "operations": list(operations) if operations else None,
                "checks": dict(checks) if checks else None,
                "server": url if server is not None else None,
            },
            on_example=on_example,
        )
        try:
            if scenario is not None:
                example = runner.run(scenario)
                if example.failures:
                    report.failure = runner.failure(example)
            else:
                drawn = explicit_phase.strategies(
                    contract, session.assets, operations, progress, explicit, poll_interval=poll_interval
                )
                for one in drawn:
                    report.failure = _explore(runner, one, 1, seed, shrink)
                    if report.failure is not None:
                        break
                runner.coverage.explicit = runner.examples
                if report.failure is None:
                    strategy = scenarios(contract, session.assets, operations, progress, poll_interval)
                    report.failure = _explore(runner, strategy, max_examples, seed, shrink)
        finally:
            session.shutdown()
            _close(adapter)
    report.examples = runner.examples
    report.shrink_steps = runner.shrink_steps
    report.checks = runner.counts
    report.coverage = runner.coverage.summary(operations)
    report.seconds = time.perf_counter() - started
    return report


def _close(adapter: Adapter) -> None:
    """Stop what the adapter keeps running between examples (a persistent client's process)."""
    close = getattr(adapter, "close", None)
    if close is not None:
        close()


def _explore(
    runner: Runner,
    strategy: SearchStrategy[Scenario],
    max_examples: int,
    seed: int,
    shrink: bool,
) -> Failure | None:

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink) if shrink else (Phase.explicit, Phase.generate),
    )
    @given(strategy)
    def example(scenario: Scenario) -> None:
        found = runner.run(scenario)
        if found.failures:
            raise _Failed(found)

    try:
        example()
    except _Failed as failed:
        return runner.failure(failed.example)
    except FlakyFailure as flaky:
        inner = next((e for e in flaky.exceptions if isinstance(e, _Failed)), None)
        if inner is None:
            raise
        return runner.failure(inner.example, flaky=True)
    return None
