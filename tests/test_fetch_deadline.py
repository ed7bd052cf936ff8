"""An image fetch has one deadline in all, however its server drips the answer, and a server that
stops ends its fetches under way: a loopback image server that sends a byte every quarter second
cannot hold a submit past ``fetch_timeout``, nor hold up SIGTERM (a real ``serve`` process) or the
end of ``serve_in_thread``."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, create_app
from mock_server.testing import serve_in_thread
from tests.helpers import KEY, SYNTHESIS, DashScopeCaller, person_on
from tests.test_cli import SERVING, _pump, _read_banner, clean_env

ROOT = Path(__file__).resolve().parent.parent
DS = contracts.load("dashscope")
DRIP_SECONDS = 20.0  # how long the image server drips, at most (then it closes)


@dataclass
class Drip:
    """A loopback image server that answers 200 with a 100,000-byte body and sends one byte of
    it every quarter second (each read well within any per-read timeout)."""

    url: str
    connected: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def drip() -> Iterator[Drip]:
    listener = socket.create_server(("127.0.0.1", 0))
    served = Drip(f"http://127.0.0.1:{listener.getsockname()[1]}/person.png")

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            served.connected.set()
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n")
                ends = time.monotonic() + DRIP_SECONDS
                while time.monotonic() < ends and not served.stop.wait(0.25):
                    conn.sendall(b"\x89")
            except OSError:  # the mock gave up on it
                pass

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield served
    served.stop.set()
    listener.close()


def test_a_dripping_image_server_gets_fetch_timeout_in_all(drip: Drip) -> None:
    """With fetch_timeout 1 s, the submit is answered within about a second, and the task fails
    as DashScope fails an image whose download timed out."""
    with TestClient(create_app(Settings(speed=0, fetch_timeout=1.0))) as client:
        ds = DashScopeCaller(client)
        started = time.monotonic()
        task_id = ds.task_id(inputs=person_on(drip.url))
        elapsed = time.monotonic() - started
        ds.advance(3600)
        assert ds.output(task_id)["code"] == DS.trigger("image.timeout").code
    assert elapsed < 3.0, f"the submit took {elapsed:.1f} s"


def submit_in_background(url: str, image: str) -> queue.Queue[httpx.Response | Exception]:
    """A DashScope submit of ``image`` as the person, from a thread; its answer (or error) later."""
    answers: queue.Queue[httpx.Response | Exception] = queue.Queue()
    doc = {
        "model": "aitryon",
        "input": {"person_image_url": image, "top_garment_url": f"{url}/_mock/assets/top.png"},
    }
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}

    def run() -> None:
        try:
            with httpx.Client(timeout=60, trust_env=False) as client:
                answers.put(client.post(url + SYNTHESIS, json=doc, headers=headers))
        except Exception as exc:
            answers.put(exc)

    threading.Thread(target=run, daemon=True).start()
    return answers


def test_sigterm_ends_the_fetches_under_way(drip: Drip) -> None:
    """``serve`` (the default 10 s fetch deadline) with a submit waiting on the dripping server:
    SIGTERM stops the process within a few seconds, and the submit is answered first."""
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=clean_env(),
    ) as proc:
        lines: queue.Queue[str | None] = queue.Queue()
        stderr: list[str] = []
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        threading.Thread(target=_pump, args=(proc.stderr, stderr), daemon=True).start()
        try:
            match = SERVING.search(_read_banner(lines, stderr)[0])
            assert match
            answers = submit_in_background(match.group(1), drip.url)
            assert drip.connected.wait(10), "the mock never fetched the image"
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(DRIP_SECONDS + 5)
            stopped = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert stopped < 3.0, f"SIGTERM took {stopped:.1f} s to stop the server: {stderr}"
    answer = answers.get(timeout=5)
    assert isinstance(answer, httpx.Response) and answer.status_code == 200, answer


def test_the_end_of_serve_in_thread_ends_the_fetches_under_way(drip: Drip) -> None:
    started = 0.0
    with serve_in_thread(Settings(port=0)) as server:
        answers = submit_in_background(server.url, drip.url)
        assert drip.connected.wait(10), "the mock never fetched the image"
        started = time.monotonic()
    stopped = time.monotonic() - started
    assert stopped < 3.0, f"the server took {stopped:.1f} s to stop"
    answer = answers.get(timeout=5)
    assert isinstance(answer, httpx.Response) and answer.status_code == 200, answer
