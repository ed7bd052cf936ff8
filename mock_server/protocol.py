"""The HTTP protocol the mock serves with: uvicorn's fastest (httptools), plus what a mock that
CI jobs hammer needs from its connections.

This is the one module that imports uvicorn's private names (its httptools protocol and send
path). uvicorn is pinned exactly in pyproject.toml for that reason; ``tests/test_protocol.py``,
which compares the one-write answer byte for byte with uvicorn's own path, is the gate for every
upgrade. What the protocol adds to the scope is read through ``extensions``.

- The transport goes into ``scope["extensions"]`` (``TRANSPORT``), so network faults can reset a
  connection or cut an answer short (see ``network``).
- Headers are bounded: more than ``MAX_HEADER_BYTES`` of them, and the request is refused as an
  invalid HTTP request (uvicorn's plain 400, then the connection closes).
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


class MockProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_started: float | None = None  # when the headers being read began to come
        self._header_bytes = 0
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
        reading_headers = self._header_started is not None
        if reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        still_reading = reading_headers and self._header_started is not None
        if still_reading and self._header_bytes > self.max_header_bytes:
            if not self.transport.is_closing():
                self.send_400_response("Request headers too large.")
            return
        cycle = self.cycle
        if self._body_timer is None and cycle is not None and cycle.more_body and not cycle.response_complete:
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow, cycle)

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
        self._header_started, self._header_bytes = None, 0
        super().on_headers_complete()

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
