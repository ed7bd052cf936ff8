"""``tryon-mock verify``: the suite for a client of any language, from the command line.

``mock_server.cli`` wires the command: it adds these arguments to its ``verify`` subcommand and
calls ``main``. Defining the arguments costs nothing more than argparse: the runner (and with it
Hypothesis) is imported only when the command runs, so that serving never loads Hypothesis.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import contracts

EXIT_CODES = (
    "exit status: 0 passed, 1 a check failed, 2 bad arguments (a client command that cannot start or "
    "a --server that does not answer included), 3 the tool itself failed, 130 interrupted"
)
PROGRESS_EVERY = 5.0  # seconds between progress lines on stderr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``tryon-mock verify``."""
    parser.epilog = EXIT_CODES
    parser.add_argument("--vendor", help="one of " + ", ".join(contracts.vendor_names()))
    parser.add_argument("--client-cmd", help="the client: reads a job on stdin, writes an outcome on stdout")
    parser.add_argument(
        "--persistent",
        action="store_true",
        help="start the client once: one job per line on stdin, one outcome per line on stdout",
    )
    parser.add_argument("--max-examples", type=_positive, default=50)
    parser.add_argument("--seed", type=int, help="Hypothesis seed (printed with every run)")
    parser.add_argument(
        "--report", action="append", default=[], metavar="FILE", help="out.json, out.xml or text"
    )
    parser.add_argument("--server", help="a running tryon-mock (URL); default: start one on a free port")
    parser.add_argument("--operation", action="append", help="only these operations (repeatable)")
    parser.add_argument("--exclude-checks", default="", metavar="A,B", help="turn these checks off")
    parser.add_argument(
        "--check-option",
        action="append",
        default=[],
        metavar="CHECK.OPTION=VALUE",
        help="e.g. poll_pace.min_interval=0.5",
    )
    parser.add_argument("--progress", choices=("any", "polls", "time"), default="any")
    parser.add_argument("--time-budget", type=float, default=10.0, help="seconds a job may take")
    parser.add_argument(
        "--poll-interval", type=float, default=0.05, help="the pause the job suggests between polls"
    )
    parser.add_argument("--retry-backoff", type=float, default=0.05, help="the backoff the job suggests")
    parser.add_argument("--no-shrink", action="store_true", help="report the first failure as found")
    parser.add_argument(
        "--explicit",
        choices=("rows", "all", "off"),
        default="rows",
        help="the phase before the random one: every error row in every place (rows), that for "
        "every operation (all), or none (off)",
    )
    parser.add_argument("--replay", help="run exactly this scenario (JSON, as a failure prints it)")
    parser.add_argument(
        "--list-checks", action="store_true", help="print the checks and their options, then exit"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} examples would test nothing; give 1 or more")
    return value


def checks_from(exclude: str, options: list[str]) -> dict[str, Any]:
    checks: dict[str, Any] = {name: False for name in filter(None, (n.strip() for n in exclude.split(",")))}
    for text in options:
        key, sep, raw = text.partition("=")
        name, dot, option = key.partition(".")
        if not sep or not dot:
            raise ValueError(f"--check-option wants CHECK.OPTION=VALUE, not {text!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        entry = checks.setdefault(name, {})
        if entry is False:
            raise ValueError(f"{name} is both excluded and configured")
        entry[option] = value
    return checks


def main(args: argparse.Namespace) -> int:
    """Run the command on arguments ``add_arguments`` defined; the exit status is ``EXIT_CODES``."""
    try:
        return _run(args)
    except UsageError as exc:
        print(f"tryon-mock verify: {exc}", file=sys.stderr)
        return 2
    except ToolFailure as exc:
        print(f"tryon-mock verify: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("tryon-mock verify: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug of the tool, not of the client: never the status of a failed check
        traceback.print_exc()
        print(
            "tryon-mock verify: the tool itself failed (exit 3); please report the traceback above",
            file=sys.stderr,
        )
        return 3


class UsageError(Exception):
    """The arguments name something that does not exist or cannot be used (exit 2)."""


class ToolFailure(Exception):
    """The tool cannot do its part, through no fault of the arguments or the client (exit 3)."""


def _run(args: argparse.Namespace) -> int:

    if args.list_checks:
        from contracts.verify.checks import CHECKS

        lines = []
        for spec in CHECKS.values():
            options = ", ".join(f"{k}={v}" for k, v in spec.options.items())
            lines.append(f"{spec.name:<28} {spec.summary}" + (f" [{options}]" if options else ""))
        return _say("\n".join(lines), 0)
    vendors = contracts.vendor_names()
    if args.vendor not in vendors:
        given = f"--vendor {args.vendor} is not a vendor" if args.vendor else "--vendor is required"
        raise UsageError(f"{given}; choose one of {', '.join(vendors)}")
    if not args.client_cmd:
        raise UsageError("--client-cmd is required: the command that runs your client")
    try:
        checks = checks_from(args.exclude_checks, args.check_option)
        if args.replay is not None:
            from contracts.verify.replay import scenario_from

            scenario_from(args.replay, list(contracts.load(args.vendor).operations), "--replay")
        client = _adapter(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    if args.replay is None:
        print(f"tryon-mock verify: {args.vendor}, seed {seed}, {args.max_examples} examples", file=sys.stderr)
    with _hypothesis_home():
        report = _verify(args, client, checks, seed)
    status = _say(report.text(), 0 if report.ok else 1)
    for path in args.report:
        try:
            report.write(path)
        except OSError as exc:
            raise UsageError(f"--report {path}: cannot write it ({exc.strerror or exc})") from None
    return status


def _adapter(args: argparse.Namespace) -> Any:
    if args.persistent:
        from contracts.verify.persistent import PersistentAdapter

        return PersistentAdapter(args.client_cmd)
    from contracts.verify.adapters import CommandAdapter

    return CommandAdapter(args.client_cmd)


def _verify(args: argparse.Namespace, client: Any, checks: dict[str, Any], seed: int) -> Any:
    import httpx

    from contracts.verify.runner import verify_client
    from contracts.verify.spawn import MockStartError

    try:
        return verify_client(
            client,
            vendor=args.vendor,
            server=args.server,
            operations=args.operation,
            max_examples=args.max_examples,
            seed=seed,
            checks=checks,
            time_budget=args.time_budget,
            poll_interval=args.poll_interval,
            retry_backoff=args.retry_backoff,
            replay=args.replay,
            shrink=not args.no_shrink,
            progress=args.progress,
            explicit=args.explicit,
            on_example=Ticker(PROGRESS_EVERY),
        )
    except MockStartError as exc:
        raise ToolFailure(f"the suite's own mock did not start: {exc}") from None
    except httpx.HTTPError as exc:
        if args.server is None:
            raise
        reason = str(exc) or type(exc).__name__
        raise UsageError(f"--server {args.server}: no tryon-mock answers there ({reason})") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


class Ticker:
    """A progress line on stderr at most every ``every`` seconds: examples so far, failures."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.started = time.monotonic()
        self.due = self.started + every

    def __call__(self, examples: int, shrink_steps: int, failed: bool) -> None:
        now = time.monotonic()
        if now < self.due:
            return
        self.due = now + self.every
        state = f"1 failed, {shrink_steps} shrink steps so far" if failed else "0 failed so far"
        print(
            f"tryon-mock verify: {examples} examples in {now - self.started:.0f} s, {state}",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def _hypothesis_home() -> Iterator[None]:
    """Hypothesis keeps a cache (the constants of the modules loaded: seconds to rebuild) under
    ``.hypothesis/`` in the working directory. For this command it is the user's cache directory
    instead (``$XDG_CACHE_HOME/tryon-mock/hypothesis``; a temporary one where that cannot be made;
    HYPOTHESIS_STORAGE_DIRECTORY, when set, wins), so that a run leaves nothing where it ran. The
    previous setting comes back afterwards (for a caller in pytest)."""
    from hypothesis import configuration

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    previous = vars(configuration).get("__hypothesis_home_directory")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tryon-mock" / "hypothesis"
    with ExitStack() as stack:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError:
            cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tryon-verify-")))
        configuration.set_hypothesis_home_dir(cache)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous)


def _say(text: str, status: int) -> int:
    """Print ``text``; a reader that went away (``| head``) ends the output quietly."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit finds somewhere to write
        os.close(devnull)
    return status
