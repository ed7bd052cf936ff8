"""The gateway's memory of X-Ca-Nonce values is bounded by time, never by forgetting: a nonce
stays refused for the whole 15-minute window however many others come after it, and when the
nonces still in the window fill the bound (per AppKey, or in all) a new signed request gets the
gateway's throttling row instead, while every replay still gets "Nonce Used". A server of each
test's own, with small bounds (the defaults are 250,000 and 500,000) and a manual clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from aliyun_api_gateway import ApiGatewayResponse

from mock_server.settings import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.aliyun_gateway.rig import CONTRACT, MINUTE, gateway_error, passed_gateway, query_request, signer

PER_KEY = 20
IN_ALL = 50
FULL = CONTRACT.trigger("auth.nonces_full")
USED = CONTRACT.trigger("auth.nonce_used")


@pytest.fixture
def gateway() -> Iterator[MockServer]:
    settings = Settings(host="127.0.0.1", port=0, speed=0, nonces_per_key=PER_KEY, nonces_in_all=IN_ALL)
    with serve_in_thread(settings) as server:
        yield server


def send_once(tenant: Tenant, nonce: str) -> ApiGatewayResponse:
    return signer(tenant, nonce_factory=lambda: nonce).send(query_request())


def fresh(tenant: Tenant) -> ApiGatewayResponse:
    return send_once(tenant, str(uuid.uuid4()))


def test_the_answer_at_the_bound_is_the_gateways_throttling_row() -> None:
    assert FULL.envelope == "gateway" and FULL.retryable and FULL.http_status == 403
    assert FULL.message.startswith("Throttled by") and FULL.message.endswith("Flow Control")


def test_a_nonce_stays_refused_for_the_whole_window_however_many_others_come(gateway: MockServer) -> None:
    """Three times the per-AppKey bound of fresh nonces after the first: those past the bound are
    throttled, none of them pushes the first out, and its replay is refused all along, also with
    the mock clock 14 minutes on (and the wall clock still in its window). BUG: the nonces were
    bounded by count per AppKey, the oldest forgotten first: past the bound (100,000: 111 signed
    requests a second for 15 minutes) a nonce could be replayed."""
    tenant = gateway.new_tenant()
    first = str(uuid.uuid4())
    passed_gateway(send_once(tenant, first), "task.unknown")
    for i in range(3 * PER_KEY):
        answer = fresh(tenant)
        if i < PER_KEY - 1:
            passed_gateway(answer, "task.unknown")
        else:
            gateway_error(answer, FULL)
        gateway_error(send_once(tenant, first), USED)
    gateway.admin("POST", "/clock", json={"advance": 14 * MINUTE})
    gateway_error(send_once(tenant, first), USED)
    gateway_error(fresh(tenant), FULL)


def test_at_the_bound_in_all_every_appkey_is_throttled_and_no_replay_passes(gateway: MockServer) -> None:
    """Two AppKeys fill their own bound (20 each) and leave the third alone, until the nonces of
    all three reach the bound in all (50); then a fresh nonce of any of them is throttled, and
    every replay is refused, never accepted."""
    tenants = [gateway.new_tenant() for _ in range(3)]
    taken: list[tuple[Tenant, str]] = []
    for tenant in tenants:
        for _ in range(min(PER_KEY, IN_ALL - len(taken))):
            nonce = str(uuid.uuid4())
            passed_gateway(send_once(tenant, nonce), "task.unknown")
            taken.append((tenant, nonce))
    assert len(taken) == IN_ALL
    for tenant in tenants:
        gateway_error(fresh(tenant), FULL)
    for tenant, nonce in taken:
        gateway_error(send_once(tenant, nonce), USED)
