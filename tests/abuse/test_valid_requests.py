"""The abuse cases start from a valid request to each endpoint: there is one for every endpoint
of every contract, and it gets a vendor answer (a success, or the documented error for a read or
cancel of an unknown task), never a body or auth error."""

from __future__ import annotations

import httpx
import pytest

import contracts
from contracts.vocabulary import Situation
from mock_server.testing import MockServer, Tenant
from tests.abuse.calls import AILAB_FILES, ENDPOINTS, JSON_DOCS, all_endpoints, valid_call
from tests.abuse.rig import error_rows
from tests.abuse.wire import send


def test_every_endpoint_has_a_valid_request_here() -> None:
    known = {(v, e.id) for v, e in all_endpoints()}
    multipart = {("ailabtools", e) for e in AILAB_FILES} | {("dashscope", "oss-upload")}
    assert known == set(JSON_DOCS) | multipart, "a new endpoint needs its valid request in this file"


@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_the_valid_request_gets_a_vendor_answer(
    server: MockServer, tenant: Tenant, wire: httpx.Client, vendor: str, endpoint_id: str
) -> None:
    """The baseline the abuse cases start from: a success, or (a read of an unknown task, a
    cancel of one) the vendor's documented error for that, never a body or auth error."""
    response = send(wire, server, valid_call(server, tenant, vendor, endpoint_id))
    rows = error_rows(vendor, response)
    contract = contracts.load(vendor)
    kind = contract.endpoint(endpoint_id).kind
    if kind in ("submit", "process", "list", "upload"):
        assert rows is None, response.text
    else:  # the read or cancel of a task that does not exist
        due: Situation = "task.not_cancelable" if kind == "cancel" else "task.unknown"
        assert rows is None or contract.trigger(due).id in rows, response.text
