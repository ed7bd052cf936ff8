"""The abuse suite's main server (a small body limit and a short body timeout, so that a chunked
100 MB body or a slow drip ends fast), one per module; a fresh tenant per test; one client per
module; and the ``Rig`` made of them with the module's baselines."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.abuse.calls import BODY_TIMEOUT, SMALL_LIMIT
from tests.abuse.rig import Outcome, Rig


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    settings = Settings(port=0, body_timeout=BODY_TIMEOUT, max_body_bytes=SMALL_LIMIT)
    with serve_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def wire() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def tenant(server: MockServer) -> Tenant:
    """A fresh tenant per test: quotas and rate limits never carry over between tests."""
    return server.new_tenant()


@pytest.fixture(scope="module")
def baselines() -> dict[tuple[str, str], Outcome]:
    return {}


@pytest.fixture
def rig(
    server: MockServer, tenant: Tenant, wire: httpx.Client, baselines: dict[tuple[str, str], Outcome]
) -> Rig:
    return Rig(server, tenant, wire, baselines)
