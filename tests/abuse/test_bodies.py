"""Bodies that are not JSON, or not a JSON object the server can take (truncated, invalid UTF-8,
nested 100,000 deep, empty, two documents ...): the vendor's body error, or its auth error
without credentials; JSON Python reads but the vendors might not (UTF-16, NaN, lone surrogates)
leaves the server whole; a wrong or missing content type is the vendor's error where the contract
requires one, else ignored or the body error; and an endpoint that takes no body answers as if
none came, whatever is sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

import contracts
from contracts.vocabulary import Situation
from mock_server import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.abuse.calls import (
    BODY_TIMEOUT,
    ENDPOINTS,
    IGNORERS,
    JSON_DOCS,
    JSON_READERS,
    READERS,
    SMALL_LIMIT,
    unauthenticated,
    valid_call,
)
from tests.abuse.rig import Rig, assert_error, error_rows, follow_up, outcome
from tests.abuse.wire import send


def _deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _with_field(valid: bytes, raw_value: bytes) -> bytes:
    """The valid JSON object with one more member, written as raw bytes."""
    assert valid.endswith(b"}")
    return valid[:-1] + b',"x":' + raw_value + b"}"


# Bodies no vendor can take: each is the vendor's body.invalid error (body.empty where the vendor
# has that and the body is blank).
REFUSED: dict[str, Callable[[bytes], bytes]] = {
    "truncated-half": lambda v: v[: len(v) // 2],
    "truncated-open-brace": lambda v: b"{",
    "truncated-in-string": lambda v: b'{"a": "unterminated',
    "invalid-utf8": lambda v: b'{"a":"\xff\xfe"}',
    "invalid-utf8-in-valid-doc": lambda v: _with_field(v, b'"\xff\xfe"'),
    "overlong-utf8": lambda v: b'{"a":"\xc0\xaf"}',
    "nested-100000-open": lambda v: b"[" * 100_000,
    "nested-100000-closed": lambda v: b"[" * 100_000 + b"]" * 100_000,
    "nested-objects-in-valid-doc": lambda v: _with_field(v, _deep_object(50_000)),
    "empty": lambda v: b"",
    "blank": lambda v: b" \r\n\t ",
    "nul-bytes": lambda v: b"\x00" * 16,
    "array": lambda v: b"[]",
    "trailing-garbage": lambda v: v + b"garbage",
    "two-documents": lambda v: v + v,
}


def refused_situation(vendor: str, body: bytes) -> Situation:
    blank = not body.strip()
    return "body.empty" if blank and "body.empty" in contracts.load(vendor).triggers else "body.invalid"


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize(("vendor", "endpoint_id"), JSON_READERS)
def test_a_body_that_is_no_json_object_gets_the_vendors_body_error(
    rig: Rig, vendor: str, endpoint_id: str, case: str
) -> None:
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = valid_call(server, tenant, vendor, endpoint_id)
    body = REFUSED[case](valid.body)
    started = time.monotonic()
    response = send(wire, server, valid.with_body(body))
    assert time.monotonic() - started < 5.0
    assert_error(vendor, response, refused_situation(vendor, body))
    follow_up(server, tenant, wire, vendor, response)


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_the_same_bodies_without_credentials_get_the_vendors_auth_error(
    rig: Rig, vendor: str, endpoint_id: str, case: str
) -> None:
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = unauthenticated(valid_call(server, tenant, vendor, endpoint_id))
    base = valid.body if valid.body.startswith(b"{") else b'{"task_id": "x"}'  # a JSON object to spoil
    response = send(wire, server, valid.with_body(REFUSED[case](base)))
    assert_error(vendor, response, "auth.missing")


def _surrogates(server: MockServer, tenant: Tenant, vendor: str, endpoint_id: str) -> bytes:
    """The valid request with every image URL ending in a lone surrogate escape (valid JSON
    syntax, but no Unicode text: it cannot be written back out as UTF-8)."""
    doc = JSON_DOCS[(vendor, endpoint_id)]
    assert doc is not None
    return json.dumps(doc(lambda name: f"{server.url}/_mock/assets/{name}?\ud800")).encode()


# Bodies a vendor may take or refuse (Python's parser reads them; the live services would not all):
# either way the answer is the vendor's, and what the server keeps of them (journal, tasks) still reads.
TOLERATED: dict[str, Callable[[MockServer, Tenant, str, str], bytes]] = {
    "utf-16": lambda s, t, v, e: valid_call(s, t, v, e).body.decode().encode("utf-16"),
    "nested-600-in-valid-doc": lambda s, t, v, e: _with_field(
        valid_call(s, t, v, e).body, b"[" * 600 + b"]" * 600
    ),
    "nan-in-valid-doc": lambda s, t, v, e: _with_field(valid_call(s, t, v, e).body, b"NaN"),
    "lone-surrogates-in-urls": _surrogates,
}


@pytest.fixture(scope="module")
def tolerant_server() -> Iterator[MockServer]:
    """A server of its own: what these bodies leave in the journal must not trip other tests."""
    with serve_in_thread(Settings(port=0, body_timeout=BODY_TIMEOUT, max_body_bytes=SMALL_LIMIT)) as running:
        yield running


@pytest.mark.parametrize("case", sorted(TOLERATED))
@pytest.mark.parametrize(("vendor", "endpoint_id"), JSON_READERS)
def test_json_python_reads_but_vendors_might_not_leaves_the_server_whole(
    tolerant_server: MockServer, wire: httpx.Client, vendor: str, endpoint_id: str, case: str
) -> None:
    """JSON that Python's parser takes (UTF-16, NaN, lone surrogate escapes, nesting deep but
    under the recursion limit): the vendor may take it or refuse it, but its answer, the read of
    a task it submitted, and the admin journal and task list of the tenant all still work."""
    server = tolerant_server
    tenant = server.new_tenant()
    tenant.timing(vendor, progress="polls:1")  # a task it submits reads back finished, rendered
    call = valid_call(server, tenant, vendor, endpoint_id)
    response = send(wire, server, call.with_body(TOLERATED[case](server, tenant, vendor, endpoint_id)))
    error_rows(vendor, response)
    follow_up(server, tenant, wire, vendor, response)


CONTENT_TYPES = {
    "text-plain": "text/plain",
    "xml": "application/xml",
    "missing": None,
    "form-urlencoded": "application/x-www-form-urlencoded",
    "multipart-no-boundary": "multipart/form-data",
    "octet-stream": "application/octet-stream",
}


@pytest.mark.parametrize("kind", sorted(CONTENT_TYPES))
@pytest.mark.parametrize(("vendor", "endpoint_id"), READERS)
def test_a_wrong_or_missing_content_type_is_ignored_or_the_vendors_body_error(
    rig: Rig, vendor: str, endpoint_id: str, kind: str
) -> None:
    """The valid body under another content type: where the endpoint requires its media types
    (``request_media_types``), one it does not take gets the vendor's header.content_type error;
    otherwise it is answered as with the right one (the vendor reads the body regardless), or with
    the vendor's body.invalid error; never anything else."""
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = valid_call(server, tenant, vendor, endpoint_id)
    baseline = rig.baseline(vendor, endpoint_id)
    response = send(wire, server, valid.with_headers(**{"Content-Type": CONTENT_TYPES[kind]}))
    got = outcome(vendor, response)
    contract = contracts.load(vendor)
    endpoint = contract.endpoint(endpoint_id)
    required = endpoint.request_media_types
    if required and (CONTENT_TYPES[kind] or "") not in required:
        refused = contract.trigger("header.content_type", endpoint)
        assert got[0] == refused.http_status and got[1] is not None and refused.id in got[1], got
    else:
        invalid = contract.trigger("body.invalid", endpoint).id
        ok = got == baseline or (got[1] is not None and invalid in got[1])
        assert ok, (baseline, got, response.text[:300])
    follow_up(server, tenant, wire, vendor, response)


IGNORED_BODIES = {
    "truncated-json": (b'{"a": ', "application/json"),
    "invalid-utf8": (b'{"a":"\xff\xfe"}', "application/json"),
    "nested-100000": (b"[" * 100_000, "application/json"),
    "binary-no-type": (bytes(range(256)) * 16, None),
    "bad-multipart": (b"--x\r\nnot a part", "multipart/form-data; boundary=y"),
}


@pytest.mark.parametrize("case", sorted(IGNORED_BODIES))
@pytest.mark.parametrize(("vendor", "endpoint_id"), IGNORERS)
def test_an_endpoint_that_takes_no_body_answers_as_if_none_came(
    rig: Rig, vendor: str, endpoint_id: str, case: str
) -> None:
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = valid_call(server, tenant, vendor, endpoint_id)
    baseline = rig.baseline(vendor, endpoint_id)
    body, kind = IGNORED_BODIES[case]
    response = send(wire, server, valid.with_body(body, kind))
    assert outcome(vendor, response) == baseline, response.text[:300]
    follow_up(server, tenant, wire, vendor, response)
