"""``tryon-mock verify``: the suite for a client of any language, from the command line.

``mock_server.cli`` wires the command: it adds these arguments to its ``verify`` subcommand and
calls ``main``. Defining the arguments costs nothing more than argparse: the runner (and with it
Hypothesis) is imported only when the command runs, so that serving never loads Hypothesis.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``tryon-mock verify``."""
    parser.add_argument("--vendor", required=True, help="dashscope, damo, aidge or ailabtools")
    parser.add_argument(
        "--client-cmd", required=True, help="the client: reads a job on stdin, writes an outcome"
    )
    parser.add_argument("--max-examples", type=int, default=50)
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
    """Run the command on arguments ``add_arguments`` defined: exit status 0 passed, 1 a check
    failed, 2 bad arguments."""
    from contracts.verify.checks import CHECKS
    from contracts.verify.runner import verify_client

    if args.list_checks:
        for spec in CHECKS.values():
            options = ", ".join(f"{k}={v}" for k, v in spec.options.items())
            print(f"{spec.name:<28} {spec.summary}" + (f" [{options}]" if options else ""))
        return 0
    try:
        report = verify_client(
            args.client_cmd,
            vendor=args.vendor,
            server=args.server,
            operations=args.operation,
            max_examples=args.max_examples,
            seed=args.seed,
            checks=checks_from(args.exclude_checks, args.check_option),
            time_budget=args.time_budget,
            poll_interval=args.poll_interval,
            retry_backoff=args.retry_backoff,
            replay=args.replay,
            shrink=not args.no_shrink,
            progress=args.progress,
            explicit=args.explicit,
        )
    except (ValueError, KeyError) as exc:
        print(f"tryon-mock verify: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    for path in args.report:
        report.write(path)
    return 0 if report.ok else 1
