"""How many examples per second the contract-test suite runs, per vendor and per way of running the
client (the correct clients of tests/clients, against a real uvicorn in a thread, tasks finishing
by poll counts):

- in-process: the Python adapter calls the client (at the default pace, and at a fast one);
- command: the command adapter starts ``python -m tests.clients.run VENDOR`` for every example;
- persistent: ``python -m tests.clients.run --jsonl VENDOR`` started once, a job per line.

Each run is the random phase alone (``explicit="off"``): the explicit phase is a fixed set of
examples, the same every run, and would swamp a short command-adapter run. The three run back to
back for each vendor (paired: a machine that other work loads shows it in
all three), and each vendor ends with persistent / command. Run: ``make bench-verify`` (or
``python -m bench.verify_speed [examples] [command examples]``).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from contracts.verify import PersistentAdapter, verify_client
from contracts.verify.adapters import CommandAdapter
from contracts.verify.runner import RETRY_BACKOFF, SETTLE_SECONDS
from contracts.verify.scenario import POLL_INTERVAL
from mock_server.testing import serve_in_thread
from tests.clients.run import CORRECT

ROOT = Path(__file__).resolve().parents[1]
# (poll interval, retry backoff, settle after an outcome): the suite's defaults, and a fast pace
DEFAULT = (POLL_INTERVAL, RETRY_BACKOFF, SETTLE_SECONDS)
FAST = (0.002, 0.002, 0.002)


def _client(vendor: str, mode: str) -> Any:
    run = [sys.executable, "-m", "tests.clients.run"]
    if mode == "command":
        return CommandAdapter(shlex.join([*run, vendor]), cwd=str(ROOT))
    if mode == "persistent":
        return PersistentAdapter(shlex.join([*run, "--jsonl", vendor]), cwd=str(ROOT))
    return CORRECT[vendor]()


def main(examples: int = 200, command_examples: int = 30) -> None:
    runs = [  # label, mode, pace, examples
        (f"in-process, default pace ({POLL_INTERVAL * 1000:g} ms)", "in-process", DEFAULT, examples),
        ("in-process, fast pace (2 ms)", "in-process", FAST, examples),
        ("command, default pace", "command", DEFAULT, command_examples),
        ("persistent, default pace", "persistent", DEFAULT, examples),
    ]
    with serve_in_thread() as server:
        for vendor in ("dashscope", "damo", "aidge", "ailabtools"):
            rates: dict[str, float] = {}
            for label, mode, pace, count in runs:
                report = verify_client(
                    _client(vendor, mode),
                    vendor=vendor,
                    server=server,
                    max_examples=count,
                    seed=1,
                    progress="polls",
                    poll_interval=pace[0],
                    retry_backoff=pace[1],
                    settle=pace[2],
                    explicit="off",
                )
                assert report.ok, report.text()
                rates.setdefault(mode, report.examples_per_second)
                print(
                    f"{vendor:<11} {label:<34} {report.examples:>4} examples "
                    f"{report.seconds:6.2f} s  {report.examples_per_second:6.1f}/s",
                    flush=True,
                )
            ratio = rates["persistent"] / rates["command"] if rates["command"] else 0.0
            print(f"{vendor:<11} persistent / command: x{ratio:.1f}", flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
