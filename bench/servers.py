"""The servers under load: our mock (``tryon-mock serve`` in a subprocess, the production settings)
and Stoplight Prism (one ``prism mock`` process per vendor's exported OpenAPI document). Start,
readiness, stop, and memory (VmRSS / VmHWM from /proc, summed over the process tree)."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
PRISM_PACKAGE = "@stoplight/prism-cli"
PRISM_VERSION = "5.16.0"  # pinned; the version the peer-tools baseline measured
PRISM_DIR = CACHE / "prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
HOST = "127.0.0.1"
QUIET_NODE = {"SCARF_ANALYTICS": "false", "DO_NOT_TRACK": "1"}  # no install/usage pings from Prism


LIMITS_OFF = ("--option", "dashscope.limits=off")


def tryon_mock_command() -> list[str]:
    """The console script of the venv running this harness (``.venv/bin/tryon-mock``)."""
    script = Path(sys.executable).parent / "tryon-mock"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_server.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """One GET on loopback: (status, body). Raises OSError when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_json(
    port: int, method: str, path: str, body: bytes = b"", timeout: float = 30.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- /proc ---------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def status_kb(pid: int, key: str) -> int:
    """A ``/proc/PID/status`` figure in kB (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``echo 5 > /proc/PID/clear_refs``); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# -- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    """One running server process (and its children)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def rss_kb(self) -> int:
        return sum(status_kb(p, "VmRSS") for p in self.pids())

    def peak_kb(self) -> int:
        """Peak RSS since start or the last ``reset_peak`` (VmHWM, summed over the tree)."""
        return sum(status_kb(p, "VmHWM") for p in self.pids())

    def reset_peak(self) -> bool:
        return all([reset_peak(p) for p in self.pids()])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _spawn(name: str, command: list[str], port: int, logs: Path, env: dict[str, str] | None = None) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    return Server(name, port, process, log)


def start_mock(
    port: int, logs: Path, name: str = "tryon-mock", env: dict[str, str] | None = None
) -> tuple[Server, float]:
    """``tryon-mock serve --host 127.0.0.1 --port P`` and the seconds until the first 200 on
    ``/_mock/health`` (polled every 2 ms)."""
    started = time.perf_counter()
    # the vendors' documented rate limits would throttle the load: a benchmark turns them off
    command = [*tryon_mock_command(), "serve", "--host", HOST, "--port", str(port), *LIMITS_OFF]
    server = _spawn(name, command, port, logs, env)
    deadline = started + 30
    while True:
        try:
            if http_get(port, "/_mock/health", timeout=1)[0] == 200:
                return server, time.perf_counter() - started
        except OSError:
            pass
        if not server.alive() or time.perf_counter() > deadline:
            server.stop()
            raise RuntimeError(f"tryon-mock did not start; see {server.log}")
        time.sleep(0.002)


def prism_installed() -> bool:
    return PRISM_BIN.exists()


def install_prism() -> str:
    """``npm install --prefix bench/.cache/prism @stoplight/prism-cli@<pin>`` unless present; the
    version installed."""
    package = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if not (prism_installed() and f'"version": "{PRISM_VERSION}"' in package.read_text()):
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: Prism cannot be installed")
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(PRISM_DIR),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"{PRISM_PACKAGE}@{PRISM_VERSION}",
            ],
            check=True,
            env={**os.environ, **QUIET_NODE},
        )
    return PRISM_VERSION


def export_openapi(vendor: str, out: Path, server_url: str) -> Path:
    """``tryon-mock openapi --vendor V --out FILE --server-url URL``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*tryon_mock_command(), "openapi", "--vendor", vendor, "--out", str(out), "--server-url", server_url],
        check=True,
        cwd=ROOT,
    )
    return out


def start_prism(vendor: str, document: Path, port: int, logs: Path, verbosity: str = "error") -> Server:
    """``prism mock -h 127.0.0.1 -p P -v error FILE`` (started; see ``wait_ready``)."""
    command = [str(PRISM_BIN), "mock", "-h", HOST, "-p", str(port), "-v", verbosity, str(document)]
    return _spawn(f"prism-{vendor}", command, port, logs, QUIET_NODE)


def wait_ready(server: Server, path: str = "/", timeout: float = 60.0) -> float:
    """Seconds (since spawn) until the server answers any HTTP status on ``path``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            http_get(server.port, path, timeout=1)
            return time.monotonic() - server.started
        except (OSError, http.client.HTTPException):
            pass
        if not server.alive() or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{server.name} did not start; see {server.log}")
        time.sleep(0.02)


# -- other load on the machine -------------------------------------------------------------------


def _process_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime: a process's CPU and that of its children it has reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(f) for f in fields[11:15])


def _machine_ticks() -> int:
    """CPU ticks spent in processes (user, nice, system) since boot, all CPUs."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[1]) + int(fields[2]) + int(fields[3])


def _our_ticks() -> int:
    return sum(_process_ticks(pid) for pid in process_tree(os.getpid()))


class ForeignLoad:
    """CPU used, between ``start`` and ``stop``, by processes that are not this harness or its
    descendants (servers, wrk): the machine's process time (/proc/stat) minus ours (our live
    processes and those we reaped). A test suite running beside the benchmark shows here. In CPUs:
    1.0 = one core busy the whole time."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.machine, self.ours = _machine_ticks(), _our_ticks()

    def stop(self) -> float:
        machine, ours = _machine_ticks() - self.machine, _our_ticks() - self.ours
        seconds = time.monotonic() - self.began
        return max(0, machine - ours) / os.sysconf("SC_CLK_TCK") / seconds if seconds > 0 else 0.0
