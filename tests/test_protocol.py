"""The mock's HTTP protocol sends a known answer in one write, through a real uvicorn on loopback.

A vendor answer whose bytes are all known leaves in one transport write
(``MockProtocol.answer_whole``); what that path does not cover (a pipelined request behind
another) goes uvicorn's way. Both must put the same answer on the wire; keep-alive and
``Connection: close`` must behave; and no request may leave a reference cycle behind (the
collector's pauses were the p99 of a submit).
"""

from __future__ import annotations

import gc
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import contracts
from mock_server import Settings
from mock_server.protocol import MockProtocol
from mock_server.testing import MockServer, serve_in_thread

KEY = contracts.load("dashscope").default_credentials[0]["api_key"]
PATH = "/api/v1/services/aigc/image2image/image-synthesis"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    # hundreds of submits a second on one key: the protocol's business, not DashScope's rate limit
    with serve_in_thread(Settings(port=0, options={"dashscope": {"limits": "off"}})) as running:
        yield running


def submit(server: MockServer, **extra: str) -> bytes:
    host = server.url.removeprefix("http://")
    body = json.dumps(
        {
            "model": "aitryon",
            "input": {
                "person_image_url": f"{server.url}/_mock/assets/person.png",
                "top_garment_url": f"{server.url}/_mock/assets/top.png",
            },
        }
    ).encode()
    headers = {
        "Host": host,
        "Authorization": f"Bearer {KEY}",
        "X-DashScope-Async": "enable",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        **extra,
    }
    head = f"POST {PATH} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


def connect(server: MockServer) -> socket.socket:
    host, _, port = server.url.removeprefix("http://").rpartition(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_answer(sock: socket.socket, pending: bytearray) -> tuple[str, list[tuple[str, str]], bytes]:
    """One answer off the socket: status line, headers in order, body (by Content-Length)."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before an answer"
        pending += chunk
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = [(name.lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    length = int(dict(headers)["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a body"
        rest += chunk
    pending[:] = rest[length:]
    return status, headers, rest[:length]


def test_one_write_and_uvicorns_way_put_the_same_answer_on_the_wire(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pipelined submits: the first is answered while the second waits, so it declines the
    one-write path; the second takes it. Same status line, same headers in the same order."""
    taken: list[bool] = []
    original = MockProtocol.answer_whole

    def spy(self: MockProtocol, *args: Any) -> bool:
        taken.append(original(self, *args))
        return taken[-1]

    monkeypatch.setattr(MockProtocol, "answer_whole", spy)
    with connect(server) as sock:
        sock.sendall(submit(server) + submit(server))
        pending = bytearray()
        first, second = read_answer(sock, pending), read_answer(sock, pending)
    assert taken == [False, True]
    assert first[0] == second[0] == "HTTP/1.1 200 OK"
    names = [name for name, _ in second[1]]
    assert [name for name, _ in first[1]] == names
    assert names == ["date", "server", "x-request-id", "content-length", "content-type"]
    ids = {json.loads(answer[2])["output"]["task_id"] for answer in (first, second)}
    assert len(ids) == 2


def test_keep_alive_answers_follow_one_another_and_connection_close_closes(server: MockServer) -> None:
    with connect(server) as sock:
        pending = bytearray()
        for _ in range(20):
            sock.sendall(submit(server))
            status, _, body = read_answer(sock, pending)
            assert status == "HTTP/1.1 200 OK" and json.loads(body)["output"]["task_status"] == "PENDING"
        sock.sendall(submit(server, Connection="close"))
        status, headers, _ = read_answer(sock, pending)
        assert status == "HTTP/1.1 200 OK" and ("connection", "close") in headers
        assert sock.recv(1) == b""  # and the server closed it


def test_requests_leave_no_reference_cycles(server: MockServer) -> None:
    """Garbage the collector must find is work it does in the middle of somebody's request:
    200 submits may leave less than one unreachable object per request."""
    with connect(server) as sock:
        pending = bytearray()
        sock.sendall(submit(server))
        read_answer(sock, pending)  # first request: lazy imports and caches
        gc.collect()
        gc.disable()
        try:
            for _ in range(200):
                sock.sendall(submit(server))
                assert read_answer(sock, pending)[0] == "HTTP/1.1 200 OK"
            unreachable = gc.collect()
        finally:
            gc.enable()
    assert unreachable < 200


def test_the_app_loads_none_of_uvicorns_internals() -> None:
    """Only ``mock_server.protocol`` touches uvicorn's private names: building the app and
    answering a request in-process imports neither it nor uvicorn's httptools protocol."""
    code = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from mock_server import Settings, create_app\n"
        "TestClient(create_app(Settings(speed=0))).get('/_mock/health').raise_for_status()\n"
        "internals = ('mock_server.protocol', 'uvicorn.protocols.http.httptools_impl')\n"
        "loaded = [m for m in internals if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
