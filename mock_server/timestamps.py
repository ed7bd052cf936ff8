"""The timestamp check of signed requests: a millisecond epoch within a window of now.

A timestamp passes when it is within the window of any of the clocks given (the mock's and the
wall's), so that a client signing with the wall clock still passes when a test moved the mock's.
"""

from __future__ import annotations

from typing import Literal

WINDOW = 15 * 60.0  # seconds a timestamp may be off (the Alibaba Cloud API Gateway's)
MAX_DIGITS = 16  # a millisecond timestamp longer than this is centuries away from any clock

Problem = Literal["auth.bad_timestamp", "auth.stale"]


def timestamp_problem(value: str, clocks: tuple[float, ...], window: float = WINDOW) -> Problem | None:
    """``auth.bad_timestamp`` for text that is no millisecond timestamp (not ASCII digits, or
    more than ``MAX_DIGITS`` of them), ``auth.stale`` for one outside the window, else None."""
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_DIGITS:
        return "auth.bad_timestamp"
    at = int(value) / 1000
    return None if any(abs(at - now) <= window for now in clocks) else "auth.stale"
