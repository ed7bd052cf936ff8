"""pytest fixtures (registered through the ``pytest11`` entry point).

- ``tryon_mock_server``: one real server per test session, on a free loopback port.
- ``tryon_mock``: a fresh tenant on it for each test (own credentials, tasks, journal, faults),
  reset afterwards.
- ``tryon_mock_app``: a new in-process app (no socket, manual clock) for fast tests; talk to it
  with ``starlette.testclient.TestClient(app)`` or ``httpx.ASGITransport(app)`` (whose
  ``base_url`` must name the mock, say ``http://localhost``, for the admin API's control routes).
- ``tryon_mock_settings``: override it to change the session server's settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread


@pytest.fixture(scope="session")
def tryon_mock_settings() -> Settings:
    return Settings(host="127.0.0.1", port=0)


@pytest.fixture(scope="session")
def tryon_mock_server(tryon_mock_settings: Settings) -> Iterator[MockServer]:
    with serve_in_thread(tryon_mock_settings) as server:
        yield server


@pytest.fixture
def tryon_mock(tryon_mock_server: MockServer) -> Iterator[Tenant]:
    tenant = tryon_mock_server.new_tenant()
    yield tenant
    tenant.reset()


@pytest.fixture
def tryon_mock_app() -> Starlette:
    return create_app(Settings(speed=0))
