"""The clock: real, scaled and manual behind one interface, continuous across changes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mock_server.clock import Clock


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_scaled_clock_runs_speed_times_faster() -> None:
    real = FakeTime()
    clock = Clock(speed=60, start=0, source=real)
    real.t += 0.75
    assert clock.now() == pytest.approx(45.0)
    assert clock.mode == "scaled"


def test_manual_clock_moves_only_when_advanced() -> None:
    real = FakeTime()
    clock = Clock(speed=0, start=100, source=real)
    real.t += 500
    assert clock.now() == 100 and clock.mode == "manual"
    assert clock.advance(30) == 130
    real.t += 5
    assert clock.now() == 130


def test_speed_changes_keep_time_continuous() -> None:
    real = FakeTime()
    clock = Clock(speed=1, start=0, source=real)
    real.t += 10
    clock.set_speed(10)
    assert clock.now() == pytest.approx(10)
    real.t += 1
    assert clock.now() == pytest.approx(20)
    clock.set_speed(0)
    real.t += 100
    assert clock.now() == pytest.approx(20)


def test_time_never_goes_back() -> None:
    clock = Clock(speed=0, start=50)
    for bad in (lambda: clock.advance(-1), lambda: clock.set(10), lambda: clock.set_speed(-2)):
        with pytest.raises(ValueError):
            bad()
    clock.set(80)
    assert clock.now() == 80


def test_admin_clock_route(client: TestClient) -> None:
    before = client.get("/_mock/clock").json()
    assert before["mode"] == "manual"
    after = client.post("/_mock/clock", json={"advance": 90}).json()
    assert after["now"] == pytest.approx(before["now"] + 90)
    assert client.post("/_mock/clock", json={"speed": 60}).json()["mode"] == "scaled"
    assert client.post("/_mock/clock", json={"advance": -5}).status_code == 400
