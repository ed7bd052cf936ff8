"""Start-up times: ``tryon-mock serve`` until its first 200 on ``/_mock/health``, and the two
in-process fixtures a test suite uses, each measured in a fresh interpreter with the modules
already imported (as they are by the time pytest runs a fixture):

- ``serve_in_thread``: from entering ``mock_server.testing.serve_in_thread()`` until it yields
  (app built, a real uvicorn listening in a thread);
- the in-process fixture: ``mock_server.create_app(Settings())`` plus the first request through
  Starlette's ``TestClient`` (``GET /_mock/health``).

``python -m bench.startup serve_in_thread|in_process`` prints one measurement as JSON.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.servers import CACHE, ROOT, free_port, start_mock

# Bytecode kept apart from the sources (this harness writes nothing under mock_server/).
BYTECODE = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(CACHE / "pycache")}


def serve_ready(logs: Path, trials: int = 3, bytecode: bool = False) -> list[float]:
    """Seconds from spawning ``tryon-mock serve`` to its first 200 on /_mock/health, per trial.
    ``bytecode``: with a warm bytecode cache (one unmeasured start fills it), where the plain
    run takes the environment as it is (PYTHONDONTWRITEBYTECODE=1 here: every start compiles)."""
    env = BYTECODE if bytecode else None
    if bytecode:
        start_mock(free_port(), logs, name="tryon-mock-ready-prime", env=env)[0].stop()
    times = []
    for i in range(trials):
        server, seconds = start_mock(free_port(), logs, name=f"tryon-mock-ready-{i}", env=env)
        server.stop()
        times.append(seconds)
    return times


def fixture(kind: str, trials: int = 3) -> dict[str, Any]:
    """One fixture's start time, each trial in a fresh interpreter: {"seconds": [...], "median"}."""
    runs = []
    for _ in range(trials):
        done = subprocess.run(
            [sys.executable, "-m", "bench.startup", kind],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=True,
        )
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    seconds = [r["seconds"] for r in runs]
    return {"seconds": seconds, "median": statistics.median(seconds), "import_seconds": runs[0]["import"]}


def _measure(kind: str) -> dict[str, float]:
    started = time.perf_counter()
    from starlette.testclient import TestClient

    from mock_server import create_app
    from mock_server.settings import Settings
    from mock_server.testing import serve_in_thread

    imported = time.perf_counter() - started
    if kind == "serve_in_thread":
        started = time.perf_counter()
        with serve_in_thread():
            seconds = time.perf_counter() - started
    elif kind == "in_process":
        started = time.perf_counter()
        client = TestClient(create_app(Settings()))
        status = client.get("/_mock/health").status_code
        seconds = time.perf_counter() - started
        client.close()
        if status != 200:
            raise RuntimeError(f"/_mock/health answered {status}")
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    return {"seconds": seconds, "import": imported}


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1])))
