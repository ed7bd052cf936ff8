"""Run a test client as a command, the way the suite's command adapter drives any language:
``python -m tests.clients.run <vendor | buggy variant id>`` reads a job on stdin and prints the
outcome on stdout. With ``--jsonl`` (the persistent mode, ``tryon-mock verify --persistent``) it
reads one job per line until stdin ends and prints one outcome line for each, in order."""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.base import Client
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient

CORRECT: dict[str, type[Client]] = {
    "dashscope": DashScopeClient,
    "damo": DamoClient,
    "aidge": AidgeClient,
    "ailabtools": AILabToolsClient,
}


def client(name: str) -> Any:
    if name in CORRECT:
        return CORRECT[name]()
    from tests.clients.buggy import CATALOG

    return next(cls for variant, _, cls, _ in CATALOG if variant == name)()


def main(argv: list[str]) -> int:
    if argv[0] == "--jsonl":
        serve = client(argv[1])  # one client for every job, as a long-lived integration keeps one
        for line in sys.stdin:
            print(json.dumps(serve(json.loads(line))), flush=True)
        return 0
    job = json.load(sys.stdin)
    print(json.dumps(client(argv[0])(job)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
