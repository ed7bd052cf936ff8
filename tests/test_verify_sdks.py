"""The official SDKs, each behind a thin adapter (tests/clients/sdk.py), pass the contract-test suite
with every check on and every async operation of their vendor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contracts.verify.runner import verify_client
from mock_server.testing import MockServer
from tests.clients.sdk import SDK_ADAPTERS

EXAMPLES = 10  # random examples, after the explicit phase (every error row in every place)
SEED = 20240611

pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.mark.parametrize("vendor", sorted(SDK_ADAPTERS))
def test_the_official_sdk_passes_the_suite(tryon_mock_server: MockServer, vendor: str) -> None:
    adapter: Callable[[dict[str, Any]], dict[str, Any]] = SDK_ADAPTERS[vendor]
    report = verify_client(adapter, vendor=vendor, server=tryon_mock_server, max_examples=EXAMPLES, seed=SEED)
    assert report.ok, report.text()
