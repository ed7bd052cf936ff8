"""Slow-dripping bodies (a byte every 0.2 s under a Content-Length, chunked, or none at all):
every endpoint gets the vendor's body error, or a clean close, once body_timeout runs out."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mock_server.testing import MockServer
from tests.abuse.calls import BODY_TIMEOUT, ENDPOINTS, Call, all_endpoints, valid_call
from tests.abuse.rig import assert_error, still_serving
from tests.abuse.wire import Sent, connect, head_bytes, read_answer, readable

DRIP_INTERVAL = 0.2
DRIP_BOUND = BODY_TIMEOUT + 1.0
DRIPS = ("content-length", "chunked", "stalled")


def drip(server: MockServer, call: Call, mode: str) -> Sent:
    """Headers, then one body byte every DRIP_INTERVAL s (``stalled``: none at all), of a body
    declared as 1000 bytes (``chunked``: of an open-ended chunked body)."""
    body = call.body.ljust(1000)
    extra = {"Transfer-Encoding": "chunked"} if mode == "chunked" else {"Content-Length": str(len(body))}
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head_bytes(server, call, **extra))
        sent = 0
        while time.monotonic() - started < DRIP_BOUND + 1.0 and not readable(sock, DRIP_INTERVAL):
            if mode == "stalled":
                continue
            byte = body[sent : sent + 1]
            try:
                sock.sendall(b"1\r\n" + byte + b"\r\n" if mode == "chunked" else byte)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        answer = read_answer(sock, started + DRIP_BOUND + 2.0)
        return Sent(answer, time.monotonic() - started, sent)


@pytest.fixture(scope="module")
def drips(server: MockServer) -> dict[tuple[str, str, str], tuple[Call, Sent]]:
    """Every endpoint dripped to in every mode, all at once (each costs body_timeout)."""
    tenant = server.new_tenant()
    jobs = [(v, e.id, m) for v, e in all_endpoints() for m in DRIPS]
    calls = {job: valid_call(server, tenant, job[0], job[1]) for job in jobs}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {job: pool.submit(drip, server, calls[job], job[2]) for job in jobs}
        return {job: (calls[job], future.result()) for job, future in futures.items()}


@pytest.mark.parametrize("mode", DRIPS)
@pytest.mark.parametrize(("vendor", "endpoint_id"), ENDPOINTS)
def test_a_slow_drip_gets_the_body_error_when_body_timeout_runs_out(
    server: MockServer,
    drips: dict[tuple[str, str, str], tuple[Call, Sent]],
    vendor: str,
    endpoint_id: str,
    mode: str,
) -> None:
    call, sent = drips[(vendor, endpoint_id, mode)]
    assert BODY_TIMEOUT - 0.05 <= sent.seconds <= DRIP_BOUND, f"answered after {sent.seconds:.2f} s"
    assert sent.body_bytes < 1000, "the body never arrived in full"
    if sent.answer is not None:
        assert_error(vendor, sent.answer.as_httpx(server, call), "body.invalid")
    still_serving(server)
