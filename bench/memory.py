"""Memory a client can make the mock hold: three probes against a real ``tryon-mock serve``, each
on a fresh server, with the server's RSS (VmRSS) and peak (VmHWM) from /proc before and after.

1. ``params``: 30 DashScope submits, each with an 8 MB string among its parameters (the journal
   keeps each submit's parameters);
2. ``urls``: 30 submits whose person image URL is 8 MB long (the image caches key on URLs), then
   ``POST /_mock/reset``;
3. ``bomb``: a 76 KB PNG declaring 9000 x 9000 pixels, served on loopback, submitted four times
   at once under four URLs (each image is read and checked).

``.venv/bin/python -m bench.memory`` prints one line per probe (MB). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from bench.servers import HOST, free_port, http_get, http_json

ROOT = Path(__file__).resolve().parent.parent
SYNTHESIS = "/api/v1/services/aigc/image2image/image-synthesis"
HEADERS = {
    "Authorization": "Bearer sk-tryon-mock",
    "X-DashScope-Async": "enable",
    "Content-Type": "application/json",
}
MB = 1024 * 1024
BIG = 8 * MB


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextmanager
def mock_server() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``python -m mock_server serve`` from this checkout, loopback images really read."""
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), "--speed", "0"]
    command += ["--remote-images", "fetch", "--option", "dashscope.limits=off"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http_get(port, "/_mock/health")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the mock did not start") from None
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(30)


def submit(port: int, doc: dict[str, object]) -> int:
    """One DashScope submit; its HTTP status."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("POST", SYNTHESIS, json.dumps(doc).encode(), HEADERS)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def person(url: str, **parameters: object) -> dict[str, object]:
    top = "http://127.0.0.1/_mock/assets/top.png"
    return {
        "model": "aitryon",
        "input": {"person_image_url": url, "top_garment_url": top},
        "parameters": parameters,
    }


def probe_params(port: int) -> list[int]:
    asset = "http://127.0.0.1/_mock/assets/person.png"
    return [submit(port, person(asset, note=f"{i}" + "x" * BIG)) for i in range(30)]


def probe_urls(port: int) -> list[int]:
    return [submit(port, person(f"https://example.com/p.png?{i}&" + "x" * BIG)) for i in range(30)]


def bomb_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


@contextmanager
def image_server(data: bytes) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def probe_bomb(port: int, image_port: int) -> list[int]:
    urls = [f"http://{HOST}:{image_port}/bomb-{i}.png" for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda url: submit(port, person(url)), urls))


def run(name: str, work: Callable[[int], list[int]]) -> None:
    with mock_server() as (port, proc):
        submit(port, person("http://127.0.0.1/_mock/assets/person.png"))  # warm: modules, caches
        rss0, peak0 = memory(proc.pid)
        started = time.monotonic()
        statuses = work(port)
        seconds = time.monotonic() - started
        rss1, peak1 = memory(proc.pid)
        line = (
            f"{name:<7} statuses {sorted(set(statuses))}  RSS {rss0:.0f} -> {rss1:.0f} MB "
            f"(+{rss1 - rss0:.0f})  peak {peak0:.0f} -> {peak1:.0f} MB (+{peak1 - peak0:.0f})  "
            f"{seconds:.1f} s"
        )
        if name == "urls":
            http_json(port, "POST", "/_mock/reset", b"{}")
            time.sleep(0.5)
            line += f"  after reset RSS {memory(proc.pid)[0]:.0f} MB"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probes", nargs="*", default=["params", "urls", "bomb"])
    args = parser.parse_args(argv)
    data = bomb_png()
    print(f"bomb PNG: {len(data) / 1024:.0f} KB, 9000 x 9000", flush=True)
    with image_server(data) as image_port:
        probes: dict[str, Callable[[int], list[int]]] = {
            "params": probe_params,
            "urls": probe_urls,
            "bomb": lambda port: probe_bomb(port, image_port),
        }
        for name in args.probes:
            run(name, probes[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
