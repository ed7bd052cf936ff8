"""Mock time: real (speed 1), scaled (speed N) or manual (speed 0, moved only by advance()).

One interface for all three: ``now()`` is the mock's epoch seconds. Changing the speed keeps
``now()`` continuous, so tasks never jump when a test switches modes.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(
        self, speed: float = 1.0, start: float | None = None, source: Callable[[], float] = time.time
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._source = source
        self._anchor_real = source()
        self._anchor_mock = self._anchor_real if start is None else start
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def mode(self) -> str:
        if self._speed == 0:
            return "manual"
        return "real" if self._speed == 1 else "scaled"

    def now(self) -> float:
        return self._anchor_mock + (self._source() - self._anchor_real) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._rebase(self.now())
        self._speed = speed

    def advance(self, seconds: float) -> float:
        """Move mock time forward (any mode). Returns the new now()."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._rebase(self.now() + seconds)
        return self._anchor_mock

    def set(self, epoch: float) -> None:
        """Jump to an absolute mock time, forward only."""
        now = self.now()
        if epoch < now:
            raise ValueError(f"time only moves forward: set must be at or after the mock's now, {now:.3f}")
        self._rebase(epoch)

    def resume(self, epoch: float, speed: float) -> None:
        """Go on from a saved reading: ``epoch`` now, at ``speed`` (a state file read back)."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._rebase(epoch)
        self._speed = speed

    def snapshot(self) -> dict[str, float | str]:
        return {"now": self.now(), "speed": self._speed, "mode": self.mode}

    def _rebase(self, mock_now: float) -> None:
        self._anchor_real = self._source()
        self._anchor_mock = mock_now
