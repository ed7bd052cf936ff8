"""The request log: one line per request to a vendor route, on the ``tryon_mock.access`` logger at
``info``. ``tryon-mock serve`` writes it to its output unless ``access_log`` is false; an
in-process server (``serve_in_thread``, the pytest fixtures) writes none unless ``access_log`` is
true (or the test's own logging takes the logger at ``info``).

A line holds what the journal entry of the request holds: the time it arrived (UTC, to the
millisecond), the vendor and the endpoint the engine routed it to, the status answered, the
tenant, the vendor error answered and the fault injected, if any (``_fault``); then how long the
pipeline took, from the request's arrival to its answer ready to send::

    2026-12-03T17:05:04.691Z dashscope task-query 401 tenant=- error=InvalidApiKey 0.2ms
    2026-12-03T17:05:04.744Z damo query 500 tenant=t-2 error=23500000 fault=23500000@query(header) 0.5ms

What it costs: nothing while the logger is off (one cached level check per request). When on,
``LineHandler`` keeps the entries of ``FLUSH_EVERY`` seconds of a running event loop and makes
and writes their lines together (one write, not one per request; ``flush`` at a server's end
writes what is left), dating them with the second's text made once a second. While it is the
logger's one handler (``enable``), an entry goes straight to it: a ``LogRecord`` per request
would cost more than the line (bench/README.md has the figures).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mock_server.store.journal import Entry

LOGGER = logging.getLogger("tryon_mock.access")
INFO = logging.INFO
FLUSH_EVERY = 0.05  # seconds the lines of a running loop wait to go out together
# Text waiting for a slow reader: beyond this the newest lines are dropped (and counted), so a
# server whose output nobody reads (a harness that read the banner and stopped) never blocks.
BACKLOG_CHARS = 1 << 20
DRAIN_SECONDS = 2.0  # how long a stopping server waits for its reader to take the last lines


def log(entry: Entry) -> None:
    """Log the line of a journaled request (call it only when ``LOGGER.isEnabledFor(INFO)``)."""
    ended = time.time()
    handlers = LOGGER.handlers
    if len(handlers) == 1 and isinstance(handlers[0], LineHandler):
        handlers[0].keep(entry.received, entry, ended)
    else:  # the logger as its user set it up: a record, dated when the request arrived
        record = LOGGER.makeRecord(LOGGER.name, INFO, __file__, 0, message(entry, ended), (), None)
        record.created = entry.received
        LOGGER.handle(record)


def message(entry: Entry, ended: float) -> str:
    """The line of a request that was answered at ``ended``, but its time. (Integers, not a
    float's format: a float's digits cost more than the rest of the line.)"""
    tenths = int((ended - entry.received) * 10_000)  # tenths of a millisecond
    why = "" if entry.error is None and entry.fault is None else _why(entry)
    took = f"{tenths // 10}.{tenths % 10}ms"
    return f"{entry.vendor} {entry.endpoint} {entry.status} tenant={entry.tenant}{why} {took}"


def _why(entry: Entry) -> str:
    """`` error=<id>`` and `` fault=<fault>``, each when the entry has one."""
    error = "" if entry.error is None else f" error={entry.error}"
    return error if entry.fault is None else f"{error} fault={_fault(entry.fault)}"


def _fault(fault: dict[str, Any]) -> str:
    """A fault as one word: what it does (its error, its network fault, its delay), where it
    showed an error, and in brackets what decided it (header, marker, deferred or a rule's id)."""
    what = [part for part in (fault.get("error"), fault.get("network")) if part]
    if fault.get("delay_ms"):
        what.append(f"delay:{fault['delay_ms']}ms")
    at = f"@{fault['at']}" if fault.get("error") and fault.get("at") else ""
    return f"{'+'.join(what) or 'none'}{at}({fault.get('source')})"


class LineHandler(logging.Handler):
    """Writes lines to a stream: those logged while an event loop runs together, ``FLUSH_EVERY``
    seconds after the first of them (made then too: a request only leaves its entry); others at
    once. A stream that cannot be written (closed, a broken pipe) loses the lines, not the
    request."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(INFO)
        self.stream = stream
        self._writer = _Writer(stream)
        self._kept: list[tuple[float, Entry | str, float]] = []  # (time, entry or text, answered)
        self._pending = False
        self._second: tuple[int, str] = (-1, "")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a message that cannot be formatted: logging's own report of it
            self.handleError(record)
            return
        self.keep(record.created, text, record.created)

    def keep(self, at: float, what: Entry | str, ended: float) -> None:
        """Write ``<at as UTC time to the millisecond> <the text, or the entry's message>``."""
        self._kept.append((at, what, ended))
        if self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._pending = True
        loop.call_later(FLUSH_EVERY, self.flush)

    def flush(self) -> None:
        self.acquire()
        try:
            kept, self._kept, self._pending = self._kept, [], False
            if kept:
                self._writer.put("".join([self._line(*item) for item in kept]))
        finally:
            self.release()

    def close(self) -> None:
        self.flush()
        self._writer.drain(DRAIN_SECONDS)
        super().close()

    def _line(self, at: float, what: Entry | str, ended: float) -> str:
        whole, ms = divmod(int(at * 1000), 1000)
        second, prefix = self._second
        if second != whole:  # the text up to the second, made once a second
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            self._second = (whole, prefix)
        text = what if isinstance(what, str) else message(what, ended)
        return f"{prefix}{_MILLIS[ms]}{text}\n"


class _Writer:
    """Writes text to a stream on a thread of its own, so the event loop never waits for the
    stream's reader (a terminal, a pipe nobody drains). Holds at most ``BACKLOG_CHARS``; text
    beyond it is dropped and the drop said in the output once the reader takes it again. A
    stream that cannot be written (closed, a broken pipe) loses the text, not the server."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._texts: deque[str] = deque()
        self._chars = 0
        self._dropped = 0  # lines
        self._ready = threading.Condition()
        self._idle = True
        self._thread: threading.Thread | None = None

    def put(self, text: str) -> None:
        with self._ready:
            if self._chars + len(text) > BACKLOG_CHARS:
                self._dropped += text.count("\n")
                return
            self._texts.append(text)
            self._chars += len(text)
            self._idle = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tryon-mock-log", daemon=True)
                self._thread.start()
            self._ready.notify()

    def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for what is kept to be written."""
        with self._ready:
            self._ready.wait_for(lambda: self._idle, timeout)

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._texts))
                text = "".join(self._texts)
                self._texts.clear()
                self._chars = 0
                dropped, self._dropped = self._dropped, 0
            if dropped:
                text = f"(request log: {dropped} lines dropped, the output was not read)\n" + text
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass
            with self._ready:
                self._idle = not self._texts
                self._ready.notify_all()


_MILLIS = [f".{ms:03d}Z " for ms in range(1000)]  # a time's milliseconds, as a line writes them


def flush() -> None:
    """Write the lines kept so far (a server that stops: its process may end by the signal, and
    a kept line would be lost), waiting a little for a slow reader."""
    for handler in LOGGER.handlers:
        if isinstance(handler, LineHandler):
            handler.flush()
            handler._writer.drain(DRAIN_SECONDS)


def enable(stream: TextIO) -> LineHandler:
    """Write the request log to ``stream`` (in place of where an earlier ``enable`` wrote it)."""
    for handler in list(LOGGER.handlers):
        if isinstance(handler, LineHandler):
            disable(handler)
    handler = LineHandler(stream)
    LOGGER.addHandler(handler)
    LOGGER.setLevel(INFO)
    LOGGER.propagate = False  # the lines are written here, not again by the root logger's handlers
    return handler


def disable(handler: LineHandler) -> None:
    """Stop writing to ``handler`` (its last lines written); the logger back to its defaults when
    no handler of ours is left."""
    handler.close()
    LOGGER.removeHandler(handler)
    if not any(isinstance(h, LineHandler) for h in LOGGER.handlers):
        LOGGER.setLevel(logging.NOTSET)
        LOGGER.propagate = True
