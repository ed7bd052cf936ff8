"""What counts as the vendor's answer to abuse (a row of its error table, in its own envelope),
what must still work after it (the follow-up: the task it submitted, the tenant's journal and
task list, the server's health), and the ``Rig`` a test of the main server works with."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

import contracts
from contracts.model import resolve_pointer
from contracts.vocabulary import Situation
from mock_server.testing import MockServer, Tenant
from mock_server.vendors import aliyun_gateway
from tests.abuse.calls import MARK, TASK_POINTERS, Call, query_of, valid_call
from tests.abuse.wire import Sent, address, connect, read_answer, send
from tests.test_conformance import conformance, endpoint_of, is_xml, xml_fields


def error_code(vendor: str, response: httpx.Response) -> str | None:
    """The vendor's error code in an answer, or None when it is a success (shapes per vendor)."""
    if not response.content:
        message: str | None = response.headers.get("X-Ca-Error-Message")  # DAMO's gateway: by message
        return message
    if is_xml(response):  # DashScope's upload host answers as OSS does
        return xml_fields(response)["Code"]
    body = response.json()
    if vendor == "dashscope":
        return None if response.status_code == 200 else str(body["code"])
    if vendor == "ailabtools":
        return None if body["error_code"] == 0 else str(body["error_detail"]["code"])
    if vendor == "damo":
        return None if body["success"] is True else str(body["code"])
    if vendor == "aidge":
        if "resCode" in body:
            return None if str(body["resCode"]) == "200" else str(body["resCode"])
        return None if "type" not in body else str(body["code"])  # the gateway's own envelope
    raise AssertionError(f"no error reader for {vendor}")


def error_rows(vendor: str, response: httpx.Response) -> frozenset[str] | None:
    """Checks the answer is the vendor's own, and gives the ids of the error-table rows it matches
    (None for a success). An error that matches no row fails the check."""
    contract = contracts.load(vendor)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    _, problems = conformance(contract, response)
    assert not problems, problems
    code = error_code(vendor, response)
    if code is None:
        return None
    if not response.content:
        rows = {
            e.id
            for e in contract.errors
            if e.envelope == "gateway"
            and e.http_status == response.status_code
            and code.startswith(aliyun_gateway.for_header(e.message.split("%s")[0]))
        }
    else:
        rows = {
            e.id for e in contract.errors if e.http_status == response.status_code and str(e.code) == code
        }
    assert rows, f"{vendor} answered an undocumented error: {response.status_code} {code!r}"
    return frozenset(rows)


def assert_error(vendor: str, response: httpx.Response, *situations: Situation) -> None:
    """The answer is the vendor's error row for one of these situations (the contract's triggers)."""
    rows = error_rows(vendor, response)
    contract = contracts.load(vendor)
    endpoint = endpoint_of(contract, response.request.method, response.request.url.path)
    wanted = {contract.trigger(s, endpoint).id for s in situations if s in contract.triggers}
    assert rows is not None, f"a success where {situations} was due: {response.text[:300]}"
    assert rows & wanted, f"{sorted(rows)} where {sorted(wanted)} was due: {response.text[:300]}"


Outcome = tuple[int, frozenset[str] | None]


def outcome(vendor: str, response: httpx.Response) -> Outcome:
    return response.status_code, error_rows(vendor, response)


def marked(call: Call) -> Call:
    """The call with a header that singles it out in the journal."""
    return call.with_headers(**{MARK: secrets.token_hex(8)})


def journaled(server: MockServer, call: Call, wait: float = 0.0) -> dict[str, Any]:
    """The journal entry of a marked call (a body refused before authentication is the anonymous
    tenant's), waiting up to ``wait`` seconds for it (for a call whose client did not wait for
    the answer)."""
    params = {"tenant": "-", "vendor": call.vendor, "endpoint": call.endpoint.id}
    deadline = time.monotonic() + wait
    while True:
        entries = server.admin("GET", "/journal", params=params).json()["entries"]
        found = [e for e in entries if e["headers"].get(MARK.lower()) == call.headers[MARK]]
        if found or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    assert len(found) == 1, f"{len(found)} journal entries for the call"
    return dict(found[0])


def still_serving(server: MockServer) -> None:
    health = server.admin("GET", "/health")  # raises for anything but 2xx
    assert health.json()["status"] == "ok", health.text


def assert_refused_as_too_large(server: MockServer, call: Call, sent: Sent) -> None:
    assert sent.answer is not None, "answered, not only closed"
    assert_error(call.vendor, sent.answer.as_httpx(server, call), "body.too_large")


@dataclass
class Rig:
    """What a test of the main server works with: the server, a fresh tenant, a client, and the
    outcome of each endpoint's valid request (the same for every fresh tenant; found once)."""

    server: MockServer
    tenant: Tenant
    http: httpx.Client
    baselines: dict[tuple[str, str], Outcome]

    def baseline(self, vendor: str, endpoint_id: str) -> Outcome:
        key = (vendor, endpoint_id)
        if key not in self.baselines:
            call = valid_call(self.server, self.server.new_tenant(), vendor, endpoint_id)
            self.baselines[key] = outcome(vendor, send(self.http, self.server, call))
        return self.baselines[key]


def follow_up(
    server: MockServer, tenant: Tenant, http: httpx.Client, vendor: str, response: httpx.Response
) -> None:
    """After an answer to abuse: a task the answer submitted reads back through the vendor's query
    in the vendor's envelope; the tenant's journal and task list still read; the server is up."""
    problems = []
    if response.content and response.status_code == 200 and error_rows(vendor, response) is None:
        task_id = resolve_pointer(response.json(), TASK_POINTERS[vendor])
        if isinstance(task_id, str):
            read = send(http, server, query_of(server, tenant, vendor, task_id))
            if read.status_code >= 500 or conformance(contracts.load(vendor), read)[1]:
                problems.append(f"the task's query: {read.status_code} {read.text[:200]}")
    for route in ("/journal", "/tasks"):
        target = f"/_mock{route}?" + urlencode({"tenant": tenant.id(vendor)})
        with connect(server) as sock:  # a connection of its own
            host, port = address(server)
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            listing = read_answer(sock, time.monotonic() + 10.0)
        if listing is None:
            problems.append(f"GET {target}: the connection closed without an answer")
        elif listing.status != 200:
            problems.append(f"GET {target}: {listing.status} {listing.body[:200]!r}")
    assert not problems, f"after the abuse: {problems}"
    still_serving(server)
