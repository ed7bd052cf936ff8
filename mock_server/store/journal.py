"""The request journal: what each tenant sent and what it got, bounded per tenant and in tenants.

What an entry keeps of a request is bounded too: the first ``HEADERS_KEPT`` headers, each cut at
``HEADER_LIMIT`` characters, a body of at most ``BODY_LIMIT`` bytes (a larger one is kept as its
size), and of a larger request's parameters what ``params_kept`` says. Its format is
``contracts/journal.schema.json``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields
from itertools import islice
from typing import Any

from mock_server.bounded import Bounded

BODY_LIMIT = 64 * 1024
HEADER_LIMIT = 4 * 1024  # characters kept of each header value
HEADERS_KEPT = 64  # headers kept of one request
PARAM_CHARS = 1024  # characters kept of a long string in a large request's parameters
PARAMS_LIMIT = 64 * 1024  # characters and values kept of a large request's parameters in all
ANONYMOUS = "-"  # the tenant of requests no credential was matched to


@dataclass(slots=True)
class Entry:
    seq: int
    time: float  # mock time
    tenant: str
    vendor: str
    endpoint: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str | None
    body_bytes: int
    status: int = 0
    error: str | None = None
    error_message: str | None = None  # the error's message as answered, its detail filled in
    fault: dict[str, Any] | None = None
    task_id: str | None = None
    received: float = 0.0  # wall-clock time (time.time()) when the request arrived
    params: Any = None  # a submit's parameters as the vendor read them (files as sha256 digests)
    tasks: list[dict[str, Any]] | None = None  # each task the answer showed: id, status, stage

    def as_dict(self) -> dict[str, Any]:
        """The entry's fields (a shallow copy: params can nest as deep as the request did)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def header_text(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers worth keeping: the first ``HEADERS_KEPT``, each value cut at ``HEADER_LIMIT``
    characters, so a client sending megabytes of headers cannot grow the journal with them."""
    return {name: value[:HEADER_LIMIT] for name, value in islice(headers, HEADERS_KEPT)}


def body_text(raw: bytes) -> str | None:
    """The body as text when it is UTF-8 and small enough to keep; else None (size is kept)."""
    if len(raw) > BODY_LIMIT:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


class _TooMuch(Exception):
    pass


class _Cut:
    """One walk of ``params_kept``: the values kept, against what is left of the budget."""

    def __init__(self) -> None:
        self.left = PARAMS_LIMIT

    def value(self, value: Any) -> Any:
        self.left -= 1
        if isinstance(value, str):
            kept = self.text(value)
        elif isinstance(value, dict):
            kept = {self.name(name): self.value(item) for name, item in value.items()}
        elif isinstance(value, list | tuple):
            kept = [self.value(item) for item in value]
        else:
            kept = value
        if self.left < 0:
            raise _TooMuch
        return kept

    def name(self, name: str) -> str:
        self.left -= len(name)
        if self.left < 0:
            raise _TooMuch
        return name

    def text(self, text: str) -> Any:
        if len(text) > PARAM_CHARS:
            self.left -= PARAM_CHARS
            return {"$cut": text[:PARAM_CHARS], "$chars": len(text)}
        self.left -= len(text)
        return text


def params_kept(params: Any, body: bytes) -> Any:
    """What the journal keeps of the parameters of a request over ``BODY_LIMIT`` bytes (a smaller
    one's are no larger than it, and are kept whole): each string of more than ``PARAM_CHARS``
    characters as ``{"$cut": its first PARAM_CHARS characters, "$chars": its length}``; and when
    what is left still holds more than ``PARAMS_LIMIT`` characters and values (each name's and
    string's characters, one for each value), ``{"$cut": the body's first PARAM_CHARS characters,
    "$bytes": the body's size}`` in place of them all."""
    try:
        return _Cut().value(params)
    except _TooMuch:
        head = body[: PARAM_CHARS * 4].decode("utf-8", "replace")[:PARAM_CHARS]
        return {"$cut": head, "$bytes": len(body)}


class MemoryJournal:
    """Entries per tenant, newest last; each tenant keeps at most ``per_tenant``, and at most
    ``tenants`` tenants are kept (the least recently written is dropped first)."""

    def __init__(self, per_tenant: int = 1000, tenants: int = 1000) -> None:
        self.per_tenant = per_tenant
        self._logs: Bounded[str, deque[Entry]] = Bounded(tenants)
        self._seq = 0

    async def record(self, entry: Entry) -> None:
        """Number the entry and keep it (its ``seq`` is set here)."""
        self._seq += 1
        entry.seq = self._seq
        log = self._logs.touch(entry.tenant)  # the least recently written tenant goes first
        if log is None:
            log = deque(maxlen=self.per_tenant)
            self._logs.put(entry.tenant, log)
        log.append(entry)

    async def query(
        self,
        tenant: str | None = None,
        vendor: str | None = None,
        endpoint: str | None = None,
        since: int = 0,
        limit: int | None = None,
    ) -> list[Entry]:
        if tenant is not None:
            found = self._logs.get(tenant)
            logs: list[deque[Entry]] = [found] if found is not None else []
        else:
            logs = self._logs.values()
        found_entries = [
            e
            for log in logs
            for e in log
            if e.seq > since
            and (vendor is None or e.vendor == vendor)
            and (endpoint is None or e.endpoint == endpoint)
        ]
        found_entries.sort(key=lambda e: e.seq)
        return found_entries[-limit:] if limit else found_entries

    async def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._logs.clear()
        else:
            self._logs.pop(tenant)

    async def last_seq(self) -> int:
        """The sequence number of the newest entry ever recorded (0 before any)."""
        return self._seq

    async def size(self) -> int:
        return sum(len(log) for log in self._logs.values())
