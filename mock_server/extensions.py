"""What the mock's HTTP protocol (``protocol``) adds to a request's ASGI scope, and how the app
reads it. This module imports nothing of uvicorn: the app reads these keys whatever serves it, and
finds them absent in-process (Starlette's TestClient, httpx's ASGITransport) or under another
server, where each reader has its own way.

- ``TRANSPORT``: the connection's transport, so network faults can reset it or cut an answer short.
- ``WHOLE_ANSWER``: a function that sends a whole answer in one write.
- ``BODY_DEADLINE``: the seconds the protocol gives a body to arrive; present when the protocol
  enforces it, and then ``BODY_TIMED_OUT`` says whether it cut this request's body short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.types import Scope

TRANSPORT = "tryon_mock.transport"
WHOLE_ANSWER = "tryon_mock.whole_answer"
BODY_DEADLINE = "tryon_mock.body_deadline"
BODY_TIMED_OUT = "tryon_mock.body_timed_out"

WholeAnswer = Callable[[Scope, int, list[tuple[bytes, bytes]], bytes | memoryview], bool]


def _extensions(scope: Scope) -> dict[str, Any]:
    found: dict[str, Any] | None = scope.get("extensions")
    return found or {}


def transport(scope: Scope) -> asyncio.Transport | None:
    """The connection's transport, where the mock's protocol serves the request."""
    found: asyncio.Transport | None = _extensions(scope).get(TRANSPORT)
    return found


def whole_answer(scope: Scope) -> WholeAnswer | None:
    """Where the mock's protocol serves the request: a function that sends a whole answer to it
    (scope, status, headers with their Content-Length, body) in one write and says whether it
    could (else send it the ASGI way). None elsewhere."""
    found: WholeAnswer | None = _extensions(scope).get(WHOLE_ANSWER)
    return found
