"""How the abuse suite sends a call: through httpx, or as bytes on a raw socket (a body declared
but not sent, a chunked body without a length, headers of any size), and how it reads the answer
off the socket, or the clean close that stands for none."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from mock_server.testing import MockServer
from tests.abuse.calls import HUNDRED_MB, MB, Call


@dataclass
class Raw:
    """An HTTP/1.1 answer read off a raw socket."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def as_httpx(self, server: MockServer, call: Call) -> httpx.Response:
        request = httpx.Request(call.method, server.url + call.path)  # what conformance() reads
        return httpx.Response(self.status, headers=self.headers, content=self.body, request=request)


def send(http: httpx.Client, server: MockServer, call: Call) -> httpx.Response:
    return http.request(
        call.method, server.url + call.target, headers=call.headers, content=call.body or None
    )


def address(server: MockServer) -> tuple[str, int]:
    host, _, port = server.url.removeprefix("http://").rpartition(":")
    return host, int(port)


def connect(server: MockServer, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(address(server), timeout=timeout)


def head_bytes(server: MockServer, call: Call, **extra: str) -> bytes:
    """Request line and headers (Host first; ``extra`` after the call's own)."""
    host, port = address(server)
    lines = [f"{call.method} {call.target} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in {**call.headers, **extra}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _recv(sock: socket.socket, deadline: float) -> bytes:
    left = deadline - time.monotonic()
    assert left > 0, "no answer and no close within the bound"
    sock.settimeout(left)
    try:
        return sock.recv(256 * 1024)
    except ConnectionResetError:
        return b""
    except TimeoutError:
        raise AssertionError("no answer and no close within the bound") from None


def read_answer(sock: socket.socket, deadline: float) -> Raw | None:
    """The answer on ``sock``, or None when the server closed the connection without one (a clean
    close). An answer cut short, or nothing before the deadline, fails."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = _recv(sock, deadline)
        if not chunk:
            assert buf == b"", f"the connection closed in the middle of an answer: {buf[:200]!r}"
            return None
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines)]
    named = {k.lower(): v for k, v in headers}
    assert "chunked" not in named.get("transfer-encoding", ""), "the mock answers with a length"
    if "content-length" in named:
        length = int(named["content-length"])
        while len(body) < length:
            chunk = _recv(sock, deadline)
            assert chunk, "the connection closed in the middle of an answer body"
            body += chunk
    else:
        while chunk := _recv(sock, deadline):
            body += chunk
    return Raw(int(status_line.split()[1]), headers, body)


def readable(sock: socket.socket, wait: float = 0.0) -> bool:
    return bool(select.select([sock], [], [], wait)[0])


@dataclass
class Sent:
    """What a raw exchange came to: the answer (None for a clean close), how long it took, and
    how many body bytes the client got out before it."""

    answer: Raw | None
    seconds: float
    body_bytes: int


def send_until_answered(sock: socket.socket, pieces: Iterator[bytes], pause: float = 0.0) -> int:
    """Send pieces (``pause`` s apart, so that each is a read of its own) until the server
    answers or closes; the bytes sent."""
    sent = 0
    for piece in pieces:
        if readable(sock, pause if sent else 0.0):
            break
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(piece)
    return sent


def declared_body(server: MockServer, call: Call, declared: int, send_first: int = MB) -> Sent:
    """Declare ``declared`` body bytes, send at most ``send_first`` of them, read the answer."""
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head_bytes(server, call, **{"Content-Length": str(declared)}))
        sent = send_until_answered(sock, (b"x" * (64 * 1024) for _ in range(send_first // (64 * 1024))))
        answer = read_answer(sock, started + 5.0)
        return Sent(answer, time.monotonic() - started, sent)


def chunked_body(server: MockServer, call: Call, total: int = HUNDRED_MB, chunk: int = MB) -> Sent:
    """Stream ``total`` bytes in ``chunk``-sized chunks of a chunked body, no Content-Length, until
    the server answers or closes."""
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head_bytes(server, call, **{"Transfer-Encoding": "chunked"}))
        piece = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
        sent = send_until_answered(sock, (piece for _ in range(total // chunk)))
        if sent >= total // chunk * len(piece):
            sock.sendall(b"0\r\n\r\n")
        answer = read_answer(sock, started + 10.0)
        return Sent(answer, time.monotonic() - started, sent)


def raw_exchange(server: MockServer, call: Call, **extra: str) -> Raw | None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head_bytes(server, call, **{"Content-Length": str(len(call.body)), **extra}) + call.body)
        return read_answer(sock, started + 5.0)
