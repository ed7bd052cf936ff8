"""A body cut short: the client declares more than it sends (500 bytes short of its
Content-Length, or a chunked body without its last chunk), then half-closes its side or closes.
That is no request: nothing is created, no quota is spent, and the journal shows the vendor's
body error, never a success. Every endpoint that reads a body, through raw sockets on a real
server."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

import contracts
from mock_server.testing import MockServer, Tenant
from tests.abuse.calls import READERS, Call, valid_call
from tests.abuse.rig import journaled, marked, still_serving
from tests.abuse.wire import connect, head_bytes

SHORT_BY = 500
CUTS = ("content-length-half-close", "content-length-close", "chunked-half-close")


def cut_short(server: MockServer, call: Call, cut: str) -> bytes:
    """Send the whole valid body under a head that promises more, then go away; what came back
    before the server closed."""
    if cut.startswith("chunked"):
        head = head_bytes(server, call, **{"Transfer-Encoding": "chunked"})
        body = f"{len(call.body):x}\r\n".encode() + call.body + b"\r\n"  # and no last chunk
    else:
        head = head_bytes(server, call, **{"Content-Length": str(len(call.body) + SHORT_BY)})
        body = call.body
    with connect(server) as sock:
        sock.sendall(head + body)
        time.sleep(0.1)  # the body's start is read before the client goes away
        if not cut.endswith("half-close"):
            return b""
        sock.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except ConnectionResetError:
            pass
        return got


def quota(server: MockServer, tenant: Tenant, vendor: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = server.admin("GET", "/quota", params={"tenant": tenant.id(vendor)}).json()[
        "quota"
    ]
    return rows


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize(("vendor", "endpoint_id"), READERS)
def test_a_body_cut_short_is_no_request(
    server: MockServer, tenant: Tenant, vendor: str, endpoint_id: str, cut: str
) -> None:
    """BUG: the body read stopped at the disconnect and took what had come as the whole body, so
    a valid JSON document 500 bytes short of its Content-Length created a task (and spent Aidge
    quota) and was journaled as a success."""
    call = marked(valid_call(server, tenant, vendor, endpoint_id))
    quota_before = quota(server, tenant, vendor)
    answered = cut_short(server, call, cut)
    entry = journaled(server, call, wait=5.0)
    contract = contracts.load(vendor)
    refused = contract.trigger("body.invalid", contract.endpoint(endpoint_id))
    assert (entry["status"], entry["error"]) == (refused.http_status, refused.id), entry
    assert entry["task_id"] is None and entry["tenant"] == "-"
    assert not answered.startswith(b"HTTP/1.1 2"), answered[:200]
    assert tenant.tasks(vendor) == [], "no task"
    assert quota(server, tenant, vendor) == quota_before, "no quota spent"
    still_serving(server)
