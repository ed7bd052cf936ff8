"""The HTTP protocol the mock serves with: uvicorn's fastest (httptools), plus what a mock that
CI jobs hammer needs from its connections.

This is the one module that imports uvicorn's private names (its httptools protocol and send
path). uvicorn is pinned exactly in pyproject.toml for that reason; ``tests/test_protocol.py``,
which compares the one-write answer byte for byte with uvicorn's own path, is the gate for every
upgrade. What the protocol adds to the scope is read through ``extensions``.

- The transport goes into ``scope["extensions"]`` (``TRANSPORT``), so network faults can reset a
  connection or cut an answer short (see ``network``).
- Headers are bounded: a request head (request line and header lines) over ``MAX_HEADER_BYTES``
  is refused with a plain 400 ("Request headers too large.", then the connection closes) however
  it arrives: between reads while it is still coming, and when the parser reaches its end, in
  the read that completes it (a head that came in one write, or whose last read carries the rest
  of it). Nothing of it reaches the app.
- Headers must arrive within ``HEADER_TIMEOUT`` seconds of a connection opening or a request
  starting; a client that stalls or drips them has its connection closed.
- An answer whose every byte is known (``whole_answer``) leaves in one write, status line,
  headers and body together, instead of uvicorn's header and body writes: a mock's answers are
  small (bench/README.md, "What makes the mock fast", has the figures).
- A body must arrive within ``BODY_TIMEOUT`` seconds of its first byte: past that, the app's
  ``receive`` ends the body early and ``extensions.BODY_TIMED_OUT`` says so (the vendor
  answers its invalid-body error), and the connection closes after the answer. The timer is only
  set for a body that did not come whole with its headers, so the usual small request pays
  nothing for it. (In-process, the body reader keeps the same deadline itself: ``body``.)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.types import ASGIApp, Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from mock_server.extensions import BODY_DEADLINE, BODY_TIMED_OUT, TRANSPORT, WHOLE_ANSWER

if TYPE_CHECKING:
    from mock_server.settings import Settings

MAX_HEADER_BYTES = 256 * 1024
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop reading a head over the limit (uvicorn then answers
    the request as invalid, with ``TOO_LARGE``)."""


TOO_LARGE = "Request headers too large."


class MockProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_started: float | None = None  # when the head being read began to come
        self._head_bytes = 0  # bytes the head being read took from the reads before this one
        self._heads = 0  # heads read on this connection
        self._read: bytes | None = None  # the read being parsed
        self._tail = b""  # the end of the last read, while a head is being read
        self._too_large = False
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_started = self.loop.time()
        _watch(self.loop, self.server_state, min(1.0, self.header_timeout / 4))

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_started = None
        self._body_arrived()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        reading_head, heads = self._header_started is not None, self._heads
        self._read = data
        super().data_received(data)
        self._read = None
        if self._header_started is not None and not self.transport.is_closing():
            # a head is still coming: all of this read if it was coming before and none ended
            # in between, else at most all of it (it began in this read)
            same = reading_head and heads == self._heads
            self._head_bytes = self._head_bytes + len(data) if same else len(data)
            self._tail = data[-3:]
            if self._head_bytes > self.max_header_bytes:
                self.send_400_response(TOO_LARGE)
            return
        cycle = self.cycle
        if self._body_timer is None and cycle is not None and cycle.more_body and not cycle.response_complete:
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow, cycle)

    def send_400_response(self, msg: str) -> None:
        super().send_400_response(TOO_LARGE if self._too_large else msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = {
            TRANSPORT: self.transport,
            WHOLE_ANSWER: self.answer_whole,
            BODY_DEADLINE: self.body_timeout,
        }
        self.scope["extensions"] = extensions
        if self._header_started is None:
            self._header_started = self.loop.time()

    def on_headers_complete(self) -> None:
        read, limit = self._read, self.max_header_bytes
        if read is not None and self._head_bytes + len(read) > limit and self._head_size(read) > limit:
            self._too_large = True
            raise HeadTooLarge
        self._header_started, self._head_bytes = None, 0
        self._heads += 1
        super().on_headers_complete()

    def _head_size(self, read: bytes) -> int:
        """The size of the head just read: its request line and header lines as the parser gave
        them, or, for a head that began in an earlier read, the bytes it took from the reads up to
        its blank line, whichever is more. Only asked when the reads could hold more than the
        limit."""
        lines = len(self.parser.get_method()) + len(self.url) + 13
        lines += sum(len(name) + len(value) + 4 for name, value in self.headers)
        if not self._head_bytes:
            return lines
        joined = self._tail + read
        end = joined.find(b"\r\n\r\n")
        taken = len(read) if end < 0 else end + 4 - len(self._tail)
        return max(lines, self._head_bytes + taken)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_arrived()
        super().on_message_complete()

    def answer_whole(
        self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes | memoryview
    ) -> bool:
        """``WHOLE_ANSWER``: what uvicorn's ``send`` does for a start message and a last body
        message, in one ``transport.write``. Declines (False) what it does not cover: a request
        that is not the one being answered (pipelined), a response already started, a HEAD
        request, a closed or write-paused connection, a line break in a header value. Bound to
        the protocol, not the request: the scope holds it, and a per-request object would make
        a reference cycle of every request (left to the collector)."""
        cycle = self.cycle
        if cycle is None or cycle.scope is not scope or cycle.response_started or cycle.disconnected:
            return False
        if cycle.flow.write_paused or scope["method"] == "HEAD":
            return False
        content: list[bytes | memoryview] = [STATUS_LINE[status]]
        for name, value in cycle.default_headers:
            content.extend((name, b": ", value, b"\r\n"))
        for name, value in headers:
            if b"\r" in value or b"\n" in value:
                return False
            content.extend((name, b": ", value, b"\r\n"))
        cycle.response_started, cycle.waiting_for_100_continue = True, False
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content.extend((b"\r\n", body))
        cycle.transport.write(b"".join(content))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()
        return True

    def headers_overdue(self, now: float) -> bool:
        """Still reading headers ``header_timeout`` after they began (never while answering)."""
        started = self._header_started
        answering = self.cycle is not None and not self.cycle.response_complete
        return started is not None and now - started > self.header_timeout and not answering

    def _body_arrived(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_too_slow(self, cycle: Any) -> None:
        self._body_timer = None
        if cycle is not self.cycle or not cycle.more_body or cycle.response_complete:
            return
        extensions: dict[str, Any] = cycle.scope.setdefault("extensions", {})
        extensions[BODY_TIMED_OUT] = True
        cycle.keep_alive = False  # the rest of the body may still come: no next request on this line
        cycle.more_body = False
        cycle.message_event.set()


SWEEPING = "tryon_mock_sweeping"  # set on a server's state while its sweep is scheduled


def _watch(loop: asyncio.AbstractEventLoop, server_state: Any, every: float) -> None:
    """One sweep per server, every ``every`` seconds while it has connections, closes those whose
    headers are overdue: cheaper than a timer set and cancelled for every request."""
    if getattr(server_state, SWEEPING, False):
        return
    setattr(server_state, SWEEPING, True)
    connections: set[Any] = server_state.connections

    def sweep() -> None:
        now = loop.time()
        for connection in list(connections):
            if isinstance(connection, MockProtocol) and connection.headers_overdue(now):
                connection.transport.close()
        if connections:
            loop.call_later(every, sweep)
        else:
            setattr(server_state, SWEEPING, False)

    loop.call_later(every, sweep)


def protocol_class(
    max_header_bytes: int = MAX_HEADER_BYTES,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
) -> type[asyncio.Protocol]:
    """The mock's protocol, with these limits."""
    limits = {
        "max_header_bytes": max_header_bytes,
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
    }
    return type("MockProtocol", (MockProtocol,), limits)


def uvicorn_config(app: ASGIApp, settings: Settings, log_level: str | None = None) -> uvicorn.Config:
    """How the mock is served, from the command line and in tests alike: this protocol with the
    settings' limits, no access log, no lifespan, and no proxy-header rewriting (a mock has no
    proxy in front of it, and the middleware costs time on every request)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_class(header_timeout=settings.header_timeout, body_timeout=settings.body_timeout),
        log_level=log_level or settings.log_level,
        access_log=False,
        lifespan="off",
        proxy_headers=False,
    )
