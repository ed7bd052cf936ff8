"""A 100 MB body: declared, it is refused before it is sent (with or without credentials, and by
the documented default limit of 32 MB too), and nothing of it is journaled; chunked without a
length, it is cut off at the body limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import contracts
from mock_server import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.abuse.calls import (
    ENDPOINTS,
    HUNDRED_MB,
    MB,
    SMALL_LIMIT,
    VENDORS,
    unauthenticated,
    valid_call,
)
from tests.abuse.rig import (
    assert_error,
    assert_refused_as_too_large,
    follow_up,
    journaled,
    marked,
    still_serving,
)
from tests.abuse.wire import chunked_body, declared_body


@pytest.fixture(scope="module")
def default_server() -> Iterator[MockServer]:
    """The documented defaults: max_body_bytes 32 MB, body_timeout 30 s."""
    with serve_in_thread(Settings(port=0)) as running:
        yield running


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_declared_100_mb_body_is_refused_before_it_is_sent(
    server: MockServer, tenant: Tenant, wire: httpx.Client, vendor: str, endpoint_id: str
) -> None:
    call = marked(valid_call(server, tenant, vendor, endpoint_id))
    sent = declared_body(server, call, HUNDRED_MB)
    assert sent.seconds < 2.0
    assert sent.body_bytes <= MB
    assert_refused_as_too_large(server, call, sent)
    entry = journaled(server, call)
    contract = contracts.load(vendor)
    assert entry["error"] == contract.trigger("body.too_large", contract.endpoint(endpoint_id)).id
    assert entry["body_bytes"] == 0 and entry["body"] is None, "nothing of the body is kept"
    follow_up(
        server, tenant, wire, vendor, sent.answer.as_httpx(server, call) if sent.answer else httpx.Response(0)
    )


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_declared_100_mb_body_without_credentials_is_refused_too(
    server: MockServer, tenant: Tenant, vendor: str, endpoint_id: str
) -> None:
    call = unauthenticated(valid_call(server, tenant, vendor, endpoint_id))
    sent = declared_body(server, call, HUNDRED_MB, send_first=0)
    assert sent.seconds < 2.0 and sent.answer is not None
    assert_error(vendor, sent.answer.as_httpx(server, call), "body.too_large", "auth.missing")


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_chunked_100_mb_body_is_cut_off_at_the_body_limit(
    server: MockServer, tenant: Tenant, wire: httpx.Client, vendor: str, endpoint_id: str
) -> None:
    """No Content-Length to refuse early: the server reads up to max_body_bytes, then answers the
    too-large error (or closes); the client is never left sending the whole 100 MB."""
    call = marked(valid_call(server, tenant, vendor, endpoint_id))
    sent = chunked_body(server, call)
    assert sent.seconds < 5.0
    assert sent.body_bytes <= SMALL_LIMIT + 16 * MB, "stopped near the limit (plus socket buffers)"
    if sent.answer is not None:
        assert_refused_as_too_large(server, call, sent)
    assert journaled(server, call)["body_bytes"] == 0, "nothing of the body is kept"
    still_serving(server)


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_default_32_mb_limit_refuses_a_declared_100_mb_body(
    default_server: MockServer, vendor: str
) -> None:
    assert Settings().max_body_bytes == 32 * MB
    tenant = default_server.new_tenant()
    submit = next(e for e in contracts.load(vendor).endpoints if e.kind == "submit")
    call = valid_call(default_server, tenant, vendor, submit.id)
    for declared in (HUNDRED_MB, 32 * MB + 1):
        sent = declared_body(default_server, call, declared)
        assert sent.seconds < 2.0 and sent.body_bytes <= MB
        assert_refused_as_too_large(default_server, call, sent)
