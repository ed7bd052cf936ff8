"""A header of 64 KB: 64 KB of headers, and a request line over 64 KB, are answered as without
them (or refused by the HTTP parser, or closed cleanly); a 64 KB credential gets the vendor's
auth error."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from mock_server.testing import MockServer, Tenant
from tests.abuse.calls import ENDPOINTS, Call, valid_call
from tests.abuse.rig import Outcome, Rig, assert_error, outcome, still_serving
from tests.abuse.wire import Raw, raw_exchange

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
