"""Memory and the journal stay bounded: refused 100 MB bodies and headers over the cap leave
memory where it was, headers that do not arrive in time close the connection, and the journal
keeps the newest journal_per_tenant entries of a tenant and of the anonymous callers. Last,
after all of it, each vendor still does a whole try-on on the module's main server."""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Iterator

import httpx
import pytest

import contracts
from contracts.model import resolve_pointer
from mock_server import Settings
from mock_server.store.journal import HEADER_LIMIT
from mock_server.testing import MockServer, serve_in_thread
from tests.abuse.calls import (
    HUNDRED_MB,
    MARK,
    MB,
    TASK_POINTERS,
    VENDORS,
    all_endpoints,
    query_of,
    unauthenticated,
    valid_call,
)
from tests.abuse.rig import assert_refused_as_too_large, error_rows, still_serving
from tests.abuse.wire import chunked_body, connect, declared_body, raw_exchange, readable, send

JOURNAL_LIMIT = 50


def rss_bytes() -> int:
    """This process's resident set (the server thread lives in it)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def journal_server() -> Iterator[MockServer]:
    with serve_in_thread(Settings(port=0, journal_per_tenant=JOURNAL_LIMIT)) as running:
        yield running


# -- 7. memory and the journal stay bounded -----------------------------------------------------------


def test_refused_100_mb_bodies_leave_memory_where_it_was(server: MockServer, wire: httpx.Client) -> None:
    tenant = server.new_tenant()
    calls = [valid_call(server, tenant, v, e.id) for v, e in all_endpoints()]
    for call in calls[:2]:  # warm up: first-use allocations are not growth
        declared_body(server, call, HUNDRED_MB)
        chunked_body(server, call)
    gc.collect()
    before = rss_bytes()
    for i in range(20):
        call = calls[i % len(calls)]
        assert_refused_as_too_large(server, call, declared_body(server, call, HUNDRED_MB))
        sent = chunked_body(server, call)
        assert sent.answer is None or sent.answer.status < 500
    gc.collect()
    grown = rss_bytes() - before
    assert grown < 64 * MB, f"RSS grew {grown / MB:.0f} MB over 40 refused 100 MB bodies"
    still_serving(server)


def test_headers_over_the_cap_are_refused_and_leave_nothing_behind(wire: httpx.Client) -> None:
    """More than 256 KB of headers is refused by the mock's protocol (uvicorn's plain 400, then a
    close) before any of it reaches the app: 48 requests with a 1 MB header leave memory where it
    was (a loose bound: other servers of this module share the process's allocator) and nothing
    in the journal. Headers under the cap are answered, and the journal keeps 4 KB of each value.
    A server of its own: what it keeps must not slow other tests."""
    with serve_in_thread(Settings(port=0)) as server:
        tenant = server.new_tenant()
        call = unauthenticated(valid_call(server, tenant, "dashscope", "task-list"))
        raw_exchange(server, call)
        gc.collect()
        before = rss_bytes()
        for _ in range(48):
            try:
                answer = raw_exchange(server, call, **{"X-Pad": "a" * MB})
            except OSError:  # the server closed while the header was still going out
                answer = None
            assert answer is None or answer.status == 400
        gc.collect()
        grown = rss_bytes() - before
        still_serving(server)
        assert grown < 64 * MB, f"RSS grew {grown / MB:.0f} MB after 48 requests with a 1 MB header"
        assert not [e for e in server.admin("GET", "/journal").json()["entries"] if "x-pad" in e["headers"]]
        answer = raw_exchange(server, call, **{"X-Pad": "b" * (200 * 1024)})
        assert answer is not None and answer.status < 500
        entries = server.admin("GET", "/journal").json()["entries"]
        kept = [e["headers"]["x-pad"] for e in entries if "x-pad" in e["headers"]]
        assert kept == ["b" * HEADER_LIMIT]


@pytest.mark.parametrize("drip", [b"", b"X-Slow: " + b"a" * 40])
def test_headers_that_do_not_arrive_in_time_close_the_connection(drip: bytes) -> None:
    """A client that opens a connection and says nothing, or drips a header line a byte at a
    time, is cut off ``header_timeout`` after it started."""
    with serve_in_thread(Settings(port=0, header_timeout=1.0)) as server, connect(server) as sock:
        started = time.monotonic()
        if drip:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for byte in [drip[i : i + 1] for i in range(len(drip))] or [b""] * 40:
            if readable(sock) and sock.recv(1) == b"":
                closed = True
                break
            try:
                sock.sendall(byte)
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert closed, "the connection stayed open for 4 s without its headers"
        assert 0.9 <= elapsed <= 2.5, elapsed
        still_serving(server)


def test_the_journal_keeps_the_newest_journal_per_tenant_entries(
    journal_server: MockServer, wire: httpx.Client
) -> None:
    """More than journal_per_tenant requests of one tenant, half of them abuse: the journal holds
    exactly the limit, the newest."""
    tenant = journal_server.new_tenant()
    listing = valid_call(journal_server, tenant, "dashscope", "task-list")
    submit = valid_call(journal_server, tenant, "dashscope", "image-synthesis").with_body(b'{"model": ')
    total = 2 * JOURNAL_LIMIT + 7
    for i in range(total):
        call = (listing if i % 2 else submit).with_headers(**{MARK: str(i)})
        assert send(wire, journal_server, call).status_code < 500
    entries = tenant.journal("dashscope")
    assert len(entries) == JOURNAL_LIMIT
    assert [int(e["headers"][MARK.lower()]) for e in entries] == list(range(total - JOURNAL_LIMIT, total))


def test_the_anonymous_journal_is_bounded_too(journal_server: MockServer, wire: httpx.Client) -> None:
    """Requests without credentials (each vendor's, bodies refused or not) share one anonymous
    journal, bounded like a tenant's."""
    tenant = journal_server.new_tenant()
    calls = [unauthenticated(valid_call(journal_server, tenant, v, e.id)) for v, e in all_endpoints()]
    for i in range(2 * JOURNAL_LIMIT):
        call = calls[i % len(calls)]
        assert send(wire, journal_server, call.with_body(b"\xff" * 100)).status_code < 500
    entries = journal_server.admin("GET", "/journal", params={"tenant": "-"}).json()["entries"]
    assert len(entries) == JOURNAL_LIMIT, "the newest journal_per_tenant kept, no more"


# -- 6. after all of it, each vendor still does a whole try-on ---------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_after_the_abuse_each_vendor_still_does_a_whole_try_on(
    server: MockServer, wire: httpx.Client, vendor: str
) -> None:
    tenant = server.new_tenant()
    tenant.timing(vendor, progress="polls:1")
    submit = next(e for e in contracts.load(vendor).endpoints if e.kind == "submit")
    submitted = send(wire, server, valid_call(server, tenant, vendor, submit.id))
    assert error_rows(vendor, submitted) is None, submitted.text
    task_id = resolve_pointer(submitted.json(), TASK_POINTERS[vendor])
    assert isinstance(task_id, str)
    done = send(wire, server, query_of(server, tenant, vendor, task_id))
    assert error_rows(vendor, done) is None, done.text
    links = re.findall(r'"(http://[^"]+/_mock/results/[^"]+)"', done.text)
    assert links, f"a finished task with result links: {done.text[:300]}"
    image = wire.get(links[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
