"""When a signed request counts: its X-Ca-Timestamp within the window (stale, not a number, too
large to read), its X-Ca-Nonce used once, and both against a mock clock moved forward (last:
they move this module's clock)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from aliyun_api_gateway import ApiGatewayClient, ApiGatewayRequest

from mock_server.testing import Tenant
from tests.aliyun_gateway.rig import (
    CONTRACT,
    MINUTE,
    SUBMIT,
    Answer,
    check_request_id,
    gateway_error,
    mock_now,
    passed_gateway,
    query_request,
    send_signed,
    signer,
)

# -- timestamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [-16, 16, -60 * 24])
def test_stale_timestamp(tryon_mock: Tenant, minutes: int) -> None:
    client = signer(tryon_mock, clock=lambda: time.time() + minutes * MINUTE)
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.stale"))


@pytest.mark.parametrize("minutes", [-14, 14])
def test_timestamp_within_the_window(tryon_mock: Tenant, minutes: int) -> None:
    client = signer(tryon_mock, clock=lambda: time.time() + minutes * MINUTE)
    passed_gateway(client.send(query_request()), "task.unknown")


@pytest.mark.parametrize(
    "stamp", ["not-a-number", "1795277965128.5", "-1795277965128", "1795277965128ms", "0x1A1B"]
)
def test_non_numeric_timestamp(tryon_mock: Tenant, http: httpx.Client, stamp: str) -> None:
    signed = signer(tryon_mock).sign(query_request())
    gateway_error(send_signed(http, signed, X_Ca_Timestamp=stamp), CONTRACT.trigger("auth.bad_timestamp"))


def test_non_ascii_digit_timestamp_is_invalid(tryon_mock: Tenant, http: httpx.Client) -> None:
    """'²' (Latin-1 byte 0xB2, as Starlette decodes header bytes) is not a number of
    milliseconds. BUG: str.isdigit() says it is, int() then raises and the mock answers 500."""
    signed = signer(tryon_mock).sign(query_request())
    headers = {k.encode("latin-1"): v.encode("latin-1") for k, v in signed.headers.items()}
    headers[b"X-Ca-Timestamp"] = b"\xb2"
    response = http.post(signed.url, headers=headers, content=signed.body or b"")
    gateway_error(response, CONTRACT.trigger("auth.bad_timestamp"))


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_numeric_timestamp_is_a_gateway_error(
    tryon_mock: Tenant, http: httpx.Client, digits: int
) -> None:
    """BUG: a numeric X-Ca-Timestamp too large for a float (OverflowError) or longer than Python's
    int-string limit (ValueError) crashes the mock with a 500 instead of a gateway answer."""
    signed = signer(tryon_mock).sign(query_request())
    response = send_signed(http, signed, X_Ca_Timestamp="9" * digits)
    answer = Answer.of(response)
    texts = {CONTRACT.trigger("auth.stale").text(), CONTRACT.trigger("auth.bad_timestamp").text()}
    assert (answer.status, answer.headers.get("x-ca-error-message") in texts) == (400, True), answer.body
    assert answer.body == b""
    check_request_id(answer)


# -- nonces ----------------------------------------------------------------------------------------


def test_reused_nonce(tryon_mock: Tenant) -> None:
    nonce = str(uuid.uuid4())
    client = signer(tryon_mock, nonce_factory=lambda: nonce)
    passed_gateway(client.send(query_request()), "task.unknown")
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.nonce_used"))
    # on the other endpoint too, and with another body: the nonce is the AppKey's
    gateway_error(
        client.send(ApiGatewayRequest(method="POST", path=SUBMIT, json_body={})),
        CONTRACT.trigger("auth.nonce_used"),
    )
    # a different nonce works again, once
    another = str(uuid.uuid4())
    other = signer(tryon_mock, nonce_factory=lambda: another)
    passed_gateway(other.send(query_request()), "task.unknown")
    gateway_error(other.send(query_request()), CONTRACT.trigger("auth.nonce_used"))
    passed_gateway(signer(tryon_mock).send(query_request()), "task.unknown")


# -- the clock -------------------------------------------------------------------------------------


def test_timestamps_against_an_advanced_clock(tryon_mock: Tenant) -> None:
    before = mock_now(tryon_mock)
    tryon_mock.server.admin("POST", "/clock", json={"advance": 2 * 3600})
    now = mock_now(tryon_mock)
    assert now - before >= 2 * 3600
    offset = now - time.time()

    def at(shift: float) -> ApiGatewayClient:
        return signer(tryon_mock, clock=lambda: time.time() + shift)

    passed_gateway(at(0).send(query_request()), "task.unknown")  # the wall clock
    passed_gateway(at(offset).send(query_request()), "task.unknown")  # the mock clock
    passed_gateway(at(offset - 14 * MINUTE).send(query_request()), "task.unknown")
    stale = CONTRACT.trigger("auth.stale")
    for shift in (-16 * MINUTE, offset / 2, offset + 16 * MINUTE):
        gateway_error(at(shift).send(query_request()), stale)


def test_replay_after_the_clock_moved(tryon_mock: Tenant, http: httpx.Client) -> None:
    """The same signed request sent again, one wall-clock second later but after the mock clock
    moved 16 minutes: its timestamp is still accepted (it is within the window of the wall clock),
    so its nonce must still count as used. BUG: nonces are forgotten by mock time, so the replay
    is accepted."""
    signed = signer(tryon_mock).sign(query_request())
    passed_gateway(send_signed(http, signed), "task.unknown")
    gateway_error(send_signed(http, signed), CONTRACT.trigger("auth.nonce_used"))
    tryon_mock.server.admin("POST", "/clock", json={"advance": 16 * MINUTE})
    gateway_error(send_signed(http, signed), CONTRACT.trigger("auth.nonce_used"))
