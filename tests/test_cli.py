"""The ``tryon-mock`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import contracts

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0
EXIT_TIMEOUT = 15.0
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:(\d+))\s")
DASHSCOPE = contracts.load("dashscope")
DEFAULT_KEY = DASHSCOPE.default_credentials[0]["api_key"]


def command() -> list[str]:
    """The installed ``tryon-mock`` script next to this interpreter, else ``python -m``."""
    script = shutil.which("tryon-mock", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "mock_server.cli"]


def clean_env() -> dict[str, str]:
    """No TRYON_MOCK_* settings and no proxies leak in from the caller's environment; the package
    is this checkout's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TRYON_MOCK_") and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env["PYTHONUNBUFFERED"] = "1"
    # The checkout under test, not whichever one the environment's editable install points at
    # (the commands run in a temporary directory).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    banner: list[str]
    stderr: list[str]
    output: queue.Queue[str | None]  # stdout's lines after the banner (None: it ended)


def _pump(stream: Any, into: queue.Queue[str | None] | list[str]) -> None:
    for line in stream:
        if isinstance(into, list):
            into.append(line)
        else:
            into.put(line)
    if not isinstance(into, list):
        into.put(None)


def _read_banner(lines: queue.Queue[str | None], stderr: list[str]) -> list[str]:
    """Lines up to and including the banner's admin row, within START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    got: list[str] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no banner within {START_TIMEOUT}s: {got!r} {stderr!r}")
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"tryon-mock exited before its banner: {got!r} {stderr!r}")
        got.append(line.rstrip("\n"))
        if line.split()[:1] == ["admin"]:
            return got


@contextmanager
def serve(*args: str, cwd: Path) -> Iterator[Served]:
    """``tryon-mock serve --port 0 ARGS``; always terminated and reaped on exit."""
    with subprocess.Popen(
        [*command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=clean_env(),
    ) as proc:
        lines: queue.Queue[str | None] = queue.Queue()
        stderr: list[str] = []
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, stderr), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        try:
            banner = _read_banner(lines, stderr)
            match = SERVING.search(banner[0])
            assert match, banner
            assert int(match.group(2)) > 0
            yield Served(proc, match.group(1), banner, stderr, lines)
        finally:
            proc.terminate()
            try:
                proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(EXIT_TIMEOUT)
            for pump in pumps:
                pump.join(EXIT_TIMEOUT)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal.
    assert proc.returncode in (0, -signal.SIGTERM), (proc.returncode, stderr)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A command that must end by itself (the timeout kills it if it starts serving instead);
    ``env`` adds variables to the clean environment."""
    return subprocess.run(
        [*command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean_env(), **(env or {})},
        timeout=EXIT_TIMEOUT,
        check=False,
    )


def tryon_body(url: str) -> dict[str, Any]:
    return {
        "model": "aitryon",
        "input": {
            "person_image_url": f"{url}/_mock/assets/person.png",
            "top_garment_url": f"{url}/_mock/assets/top.png",
        },
        "parameters": {"resolution": -1, "restore_face": True},
    }


def submit(http: httpx.Client, url: str, key: str) -> httpx.Response:
    return http.post(
        f"{url}{DASHSCOPE.base_path}/services/aigc/image2image/image-synthesis",
        json=tryon_body(url),
        headers={"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"},
    )


def test_serve_prints_banner_and_serves(tmp_path: Path, http: httpx.Client) -> None:
    with serve("--speed", "60", cwd=tmp_path) as server:
        header, *rows = server.banner
        assert "x60" in header
        by_name = {row.split()[0]: row for row in rows}
        assert by_name["admin"].split()[1] == f"{server.url}/_mock/"
        for name in contracts.vendor_names():
            contract = contracts.load(name)
            row = by_name[name]
            assert row.split()[1] == server.url + contract.client_base_path
            for credential in contract.default_credentials:
                shown = ", ".join(f"{k}={v}" for k, v in credential.items() if k != "tenant")
                assert shown in row, (shown, row)

        health = http.get(f"{server.url}/_mock/health")
        assert health.status_code == 200
        doc = health.json()
        assert doc["status"] == "ok"
        assert doc["clock"]["speed"] == 60
        assert doc["clock"]["mode"] == "scaled"
        assert doc["vendors"] == sorted(contracts.vendor_names())

        # The vendor base URL from the banner is live and answers in the vendor's envelope.
        unknown = http.get(
            f"{server.url}{DASHSCOPE.base_path}/tasks/nope",
            headers={"Authorization": f"Bearer {DEFAULT_KEY}"},
        )
        assert unknown.status_code == 200
        assert unknown.json()["output"] == {"task_id": "nope", "task_status": "UNKNOWN"}
    assert server.process.poll() is not None


def test_scenario_flag_throttles_the_first_submits(tmp_path: Path, http: httpx.Client) -> None:
    throttled = DASHSCOPE.error("Throttling.RateQuota")
    with serve("--scenario", "throttled-burst", cwd=tmp_path) as server:
        first = submit(http, server.url, DEFAULT_KEY)
        assert first.status_code == throttled.http_status == 429
        body = first.json()
        assert body["code"] == "Throttling.RateQuota"
        assert body["message"] == throttled.message
        assert body["request_id"] == first.headers["x-request-id"]
        # The scenario throttles three submits per tenant, then lets calls through.
        assert [submit(http, server.url, DEFAULT_KEY).status_code for _ in range(3)] == [429, 429, 200]


@pytest.mark.parametrize(
    "flags",
    [
        ["--progress", "polls:0"],
        ["--scenario", "nope"],
        ["--speed", "-1"],
        ["--option", "dashscope-refiner_result"],
        ["--allowed-host", "http://mock.test/"],
        ["--allowed-host", "mock.test:8000"],
    ],
)
def test_bad_flag_value_exits_2_without_serving(tmp_path: Path, flags: list[str]) -> None:
    done = run("serve", "--port", "0", *flags, cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.startswith("tryon-mock: "), done.stderr
    assert "Traceback" not in done.stderr
    assert "serving on" not in done.stdout


@pytest.mark.parametrize(
    "flags",
    [
        ["--option", "dashscope.refiner_result=bogus"],
        ["--option", "nope.refiner_result=results"],
    ],
)
def test_bad_option_value_exits_2_without_serving(tmp_path: Path, flags: list[str]) -> None:
    """Option values are only checked when the app is built: the CLI must still answer 2."""
    done = run("serve", "--port", "0", *flags, cwd=tmp_path)
    assert "serving on" not in done.stdout
    assert "Traceback" not in done.stderr, (
        "BUG mock_server/cli.py main(): serve(settings) -> create_app -> MockState._check_options "
        "raises SettingsError outside the try/except, so a bad --option value gives a traceback "
        f"and exit status {done.returncode} instead of 'tryon-mock: ...' and status 2"
    )
    assert done.returncode == 2, done
    assert done.stderr.startswith("tryon-mock: ")


def test_bad_config_credentials_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credentials": {"dashscope": [{"key": "no-api_key-field"}]}}))
    done = run("serve", "--port", "0", "--config", str(config), cwd=tmp_path)
    assert "serving on" not in done.stdout
    assert "Traceback" not in done.stderr, (
        "BUG mock_server/cli.py main(): credentials from --config are checked in "
        "MockState.load_credentials (inside serve(), outside the try/except), so a bad credential "
        f"gives a CredentialError traceback and exit status {done.returncode} instead of status 2"
    )
    assert done.returncode == 2, done


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    done = run("serve", "--port", "0", "--config", str(tmp_path / "absent.json"), cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.startswith("tryon-mock: cannot read config")
    assert "serving on" not in done.stdout


@pytest.mark.parametrize("source", ["flag", "variable", "config"])
@pytest.mark.parametrize("token", ["", " \t"])
def test_an_empty_admin_token_is_refused_at_start(tmp_path: Path, source: str, token: str) -> None:
    """``--admin-token "$TOKEN"`` with TOKEN unset: an empty token would match a request without
    the header, opening the admin API (credentials, reset) to every client on the network."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"admin_token": token}))
    flags = {"flag": ["--admin-token", token], "variable": [], "config": ["--config", str(config)]}[source]
    env = {"TRYON_MOCK_ADMIN_TOKEN": token} if source == "variable" else {}
    done = run("serve", "--port", "0", *flags, cwd=tmp_path, env=env)
    assert "serving on" not in done.stdout
    assert done.returncode == 2, done
    assert done.stderr.startswith("tryon-mock: admin_token is empty"), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_the_admin_api_answers_the_names_the_flags_give(tmp_path: Path, http: httpx.Client) -> None:
    """Loopback names, --public-url's host and each --allowed-host; not a rebound name."""
    public = "http://pub.test:9000"
    args = ["--allowed-host", "mock.test", "--allowed-host", ".ci.test", "--public-url", public]
    with serve(*args, cwd=tmp_path) as server:
        for host in ("mock.test:8000", "runner.ci.test", "pub.test:9000", "localhost"):
            answer = http.get(f"{server.url}/_mock/credentials", headers={"Host": host})
            assert answer.status_code == 200, (host, answer.text)
        rebound = http.get(f"{server.url}/_mock/credentials", headers={"Host": "rebind.evil.example"})
        assert rebound.status_code == 403 and DEFAULT_KEY not in rebound.text
        page = {"Origin": public, "Host": "127.0.0.1"}
        assert http.post(f"{server.url}/_mock/clock", json={}, headers=page).status_code == 200
        assert (
            http.post(f"{server.url}/_mock/clock", json={}, headers={"Origin": "http://x.test"}).status_code
            == 403
        )


def test_scenarios_lists_every_scenario_file(tmp_path: Path) -> None:
    done = run("scenarios", cwd=tmp_path)
    assert done.returncode == 0, done
    assert done.stderr == ""
    files = sorted(p for p in (ROOT / "scenarios").glob("*.json") if not p.name.endswith(".schema.json"))
    assert files  # the checkout ships scenarios
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [p.stem for p in files]
    for line, path in zip(lines, files, strict=True):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["name"] == path.stem
        assert line.split(None, 1)[1] == doc["description"]


def test_config_file_registers_credentials(tmp_path: Path, http: httpx.Client) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credentials": {"dashscope": [{"api_key": "sk-from-config"}]}}))
    with serve("--config", str(config), cwd=tmp_path) as server:
        accepted = submit(http, server.url, "sk-from-config")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["output"]["task_status"] == "PENDING"

        task_id = accepted.json()["output"]["task_id"]
        query = http.get(
            f"{server.url}{DASHSCOPE.base_path}/tasks/{task_id}",
            headers={"Authorization": "Bearer sk-from-config"},
        )
        assert query.status_code == 200
        assert query.json()["output"]["task_id"] == task_id

        invalid = DASHSCOPE.error("InvalidApiKey")
        rejected = submit(http, server.url, "sk-not-in-config")
        assert rejected.status_code == invalid.http_status == 401
        assert rejected.json()["code"] == str(invalid.code)
        assert rejected.json()["message"] == invalid.message

        # The defaults stay registered next to the configured key.
        assert submit(http, server.url, DEFAULT_KEY).status_code == 200
        listing = http.get(f"{server.url}/_mock/credentials").json()
        assert {"api_key": "sk-from-config", "tenant": "sk-from-config"} in listing["dashscope"]
