"""``tryon-mock verify``: the suite for a client of any language, from the command line (the
arguments are defined in ``mock_server.cli``, so that serving never loads Hypothesis)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from contracts.verify.runner import verify_client


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
    from contracts.verify.checks import CHECKS

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
        )
    except (ValueError, KeyError) as exc:
        print(f"tryon-mock verify: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    for path in args.report:
        report.write(path)
    return 0 if report.ok else 1
