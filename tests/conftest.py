"""Shared fixtures: an in-process app with a manual clock, its client, and callers of it for
DashScope, Aidge and DAMO. The helpers tests import (constants, callers, checks) live in
tests/helpers.py, and a vendor's own in tests/<vendor>_rig.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import hypothesis
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.state import MockState
from tests.aidge_rig import Aidge
from tests.damo_rig import DamoCaller
from tests.helpers import DashScopeCaller

# CI runs the property tests on a fixed seed, so a run is reproducible; locally they explore.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain client for a real server on loopback (proxy variables ignored)."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """For SDKs whose HTTP clients honour proxy variables: keep them on loopback."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def app() -> Starlette:
    return create_app(Settings(speed=0, seed=7))


@pytest.fixture
def state(app: Starlette) -> MockState:
    mock = app.state.mock
    assert isinstance(mock, MockState)
    return mock


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def ds(client: TestClient) -> DashScopeCaller:
    return DashScopeCaller(client)


@pytest.fixture
def aidge(client: TestClient) -> Aidge:
    return Aidge(client)


@pytest.fixture
def damo(client: TestClient) -> DamoCaller:
    return DamoCaller(client)
