"""A server of each module's own for the gateway tests (tryon_mock runs on it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.settings import Settings
from mock_server.testing import MockServer, serve_in_thread


@pytest.fixture(scope="module")
def tryon_mock_server() -> Iterator[MockServer]:
    """A server of this module's own (each module of the package gets one): the clock tests of
    test_timestamps_and_nonces.py move its clock, which only goes forward, and that must not leak
    into other modules sharing the session server."""
    with serve_in_thread(Settings(host="127.0.0.1", port=0)) as server:
        yield server
