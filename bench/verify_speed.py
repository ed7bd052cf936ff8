"""How many examples per second the contract-test suite runs: the in-process Python adapter (the
correct DashScope client of tests/clients) against a real uvicorn in a thread, tasks finishing by
poll counts. Run: ``make bench-verify`` (or ``python -m bench.verify_speed [examples]``)."""

from __future__ import annotations

import sys

from contracts.verify import verify_client
from mock_server.testing import serve_in_thread
from tests.clients.run import CORRECT

PACES = {  # what the job suggests between polls and before retries, and the settle after an outcome
    "default pace (20 ms polls and backoff, 20 ms settle)": (0.02, 0.02),
    "fast pace (2 ms polls and backoff, 2 ms settle)": (0.002, 0.002),
}


def main(examples: int = 200) -> None:
    with serve_in_thread() as server:
        for vendor in ("dashscope", "damo", "aidge", "ailabtools"):
            for label, (pace, settle) in PACES.items():
                report = verify_client(
                    CORRECT[vendor](),
                    vendor=vendor,
                    server=server,
                    max_examples=examples,
                    seed=1,
                    progress="polls",
                    poll_interval=pace,
                    retry_backoff=pace,
                    settle=settle,
                )
                assert report.ok, report.text()
                print(
                    f"{vendor:<11} {label:<52} {report.examples:>4} examples "
                    f"{report.seconds:6.2f} s  {report.examples_per_second:6.1f}/s"
                )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
