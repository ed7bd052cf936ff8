"""A header of 64 KB: 64 KB of headers, and a request line over 64 KB, are answered as without
them (or refused by the HTTP parser, or closed cleanly); a 64 KB credential gets the vendor's
auth error. A head over the 256 KB cap is refused with a plain 400 however it arrives (one write,
two writes, on a connection that already carried a request), and one under it is answered."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from mock_server.protocol import MAX_HEADER_BYTES
from mock_server.testing import MockServer, Tenant
from tests.abuse.calls import ENDPOINTS, MARK, Call, valid_call
from tests.abuse.rig import Outcome, Rig, assert_error, outcome, still_serving
from tests.abuse.wire import Raw, connect, head_bytes, raw_exchange, read_answer, send_until_answered

PAD = 64 * 1024  # the "header of 64 KB"
PARSER_REFUSALS = (400, 413, 431)  # what an HTTP parser answers a header it will not take


def parser_refusal(answer: Raw) -> bool:
    """uvicorn's own answer to a request its HTTP parser would not take (plain text, then close)."""
    headers = {k.lower(): v for k, v in answer.headers}
    return (
        answer.status in PARSER_REFUSALS
        and headers.get("content-type", "").startswith("text/plain")
        and headers.get("connection") == "close"
    )


def assert_answered_as(server: MockServer, call: Call, answer: Raw | None, expected: Outcome) -> None:
    """A clean close, the parser's own refusal, or the same vendor answer as ``expected``."""
    if answer is None or parser_refusal(answer):
        return
    response = answer.as_httpx(server, call)
    assert outcome(call.vendor, response) == expected, response.text[:300]


HEADER_SHAPES: dict[str, Callable[[], dict[str, str]]] = {
    "one-64kb-header": lambda: {"X-Pad": "a" * PAD},
    "1024-headers-of-64-bytes": lambda: {f"X-Pad-{i}": "a" * 52 for i in range(1024)},
}


@pytest.mark.parametrize("shape", sorted(HEADER_SHAPES))
@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_64_kb_of_headers_are_answered_as_without_them(
    rig: Rig, vendor: str, endpoint_id: str, shape: str
) -> None:
    server, tenant = rig.server, rig.tenant
    call = valid_call(server, tenant, vendor, endpoint_id)
    expected = rig.baseline(vendor, endpoint_id)
    assert_answered_as(server, call, raw_exchange(server, call, **HEADER_SHAPES[shape]()), expected)
    still_serving(server)


def _huge_credential(vendor: str, call: Call) -> Call:
    """The call with a 64 KB credential (Aidge's rides in the query: 63 KB, so that the request
    line stays under the 64 KB the HTTP parser takes, and the vendor gets to answer it; an upload
    host's in its form, as OSS reads it)."""
    huge = "a" * PAD
    if call.endpoint.id == "oss-upload":
        field = rb'(name="OSSAccessKeyId"\r\n\r\n)[^\r]*'
        return call.with_body(
            re.sub(field, rb"\g<1>" + huge.encode(), call.body), call.headers["Content-Type"]
        )
    if vendor == "aidge":
        return replace(call, params={**call.params, "app_key": huge[: PAD - 1024]})
    if vendor == "ailabtools":
        return call.with_headers(**{"ailabapi-api-key": huge})
    scheme = "APPCODE" if vendor == "damo" else "Bearer"
    return call.with_headers(Authorization=f"{scheme} {huge}")


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_request_line_over_64_kb_is_refused_by_the_parser_or_answered(
    rig: Rig, vendor: str, endpoint_id: str
) -> None:
    server, tenant = rig.server, rig.tenant
    call = valid_call(server, tenant, vendor, endpoint_id)
    expected = rig.baseline(vendor, endpoint_id)
    long = replace(call, params={**call.params, "pad": "a" * PAD})
    assert_answered_as(server, long, raw_exchange(server, long), expected)
    still_serving(server)


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_64_kb_credential_gets_the_vendors_auth_error(
    server: MockServer, tenant: Tenant, wire: httpx.Client, vendor: str, endpoint_id: str
) -> None:
    call = _huge_credential(vendor, valid_call(server, tenant, vendor, endpoint_id))
    answer = raw_exchange(server, call)
    if answer is not None and not parser_refusal(answer):
        assert_error(vendor, answer.as_httpx(server, call), "auth.invalid")
    still_serving(server)


# -- the 256 KB cap on a request's head ----------------------------------------------------------------

OVER = 300 * 1024
OVER_CAP: dict[str, Callable[[], dict[str, str]]] = {
    "one-300-kb-header": lambda: {"X-Pad": "a" * OVER},
    "3000-headers-of-100-bytes": lambda: {f"X-Pad-{i}": "a" * 88 for i in range(3000)},
    "a-header-after-300-kb-of-whitespace": lambda: {"X-Pad": " " * OVER + "a"},
}
ARRIVALS = ("one-write", "two-writes", "after-a-request-under-the-cap")


def _wire(server: MockServer, call: Call, **extra: str) -> bytes:
    return head_bytes(server, call, **{"Content-Length": str(len(call.body)), **extra}) + call.body


def assert_refused_as_too_large(answer: Raw | None) -> None:
    """The protocol's own refusal: a plain 400 saying so, then a close."""
    assert answer is not None, "closed without an answer"
    headers = {k.lower(): v for k, v in answer.headers}
    assert (answer.status, answer.body) == (400, b"Request headers too large."), answer.body[:200]
    assert headers["content-type"].startswith("text/plain") and headers["connection"] == "close"


@pytest.mark.parametrize("arrival", ARRIVALS)
@pytest.mark.parametrize("shape", sorted(OVER_CAP))
def test_a_head_over_the_cap_is_refused_however_it_arrives(rig: Rig, shape: str, arrival: str) -> None:
    """300 KB of headers (one header, many, or whitespace before a value) in one write, in two
    (the second carrying the rest of the head), or on a connection whose first request had a head
    just under the cap (answered as usual): a plain 400 and a close, and nothing reaches the app.
    BUG: the cap was checked only between reads, and not on a connection's later requests' first
    read: a head whose last read completed it was answered 200."""
    server = rig.server
    call = valid_call(server, rig.tenant, "dashscope", "image-synthesis")
    mark = secrets.token_hex(8)
    over = _wire(server, call, **{MARK: mark}, **OVER_CAP[shape]())
    assert len(over) > MAX_HEADER_BYTES + 30 * 1024
    with connect(server) as sock:
        if arrival == "after-a-request-under-the-cap":
            under = _wire(server, call, **{"X-Pad": "b" * (MAX_HEADER_BYTES - 8 * 1024)})
            sock.sendall(under)
            first = read_answer(sock, time.monotonic() + 5.0)
            assert first is not None and outcome("dashscope", first.as_httpx(server, call)) == rig.baseline(
                "dashscope", "image-synthesis"
            )
        pieces = [over] if arrival == "one-write" else [over[: 150 * 1024], over[150 * 1024 :]]
        send_until_answered(sock, iter(pieces), pause=0.05)
        answer = read_answer(sock, time.monotonic() + 5.0)
        assert_refused_as_too_large(answer)
        assert read_answer(sock, time.monotonic() + 5.0) is None, "the connection closes"
    entries = server.admin("GET", "/journal", params={"tenant": "-"}).json()["entries"]
    entries += rig.tenant.journal("dashscope")
    assert not [e for e in entries if e["headers"].get(MARK.lower()) == mark]
    still_serving(server)
