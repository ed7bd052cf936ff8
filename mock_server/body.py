"""Reading a request body: bounded in size, and in time, and whole.

Under the mock's protocol the body deadline is the protocol's (it ends the body early and says
so, see ``extensions``). Anywhere else (in-process transports, another server) the reader keeps
the same deadline itself, from the first read of the body.

A body ends with its last ASGI message (``more_body`` false). A client that goes away before it
(a disconnect, or a half-close, which the server reports as one) sent no request: the body is
refused (``BodyCutShort``), so nothing it asked for is created, spent or journaled as a success.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

import anyio
from starlette.types import Receive, Scope

from contracts.vocabulary import Situation
from mock_server.extensions import BODY_DEADLINE, BODY_TIMED_OUT


class BodyRefused(Exception):
    """The body could not be read; ``trigger`` names the vendor error that answers it."""

    trigger: Situation = "body.invalid"


class BodyTooLarge(BodyRefused):
    trigger: Situation = "body.too_large"


class BodyTooSlow(BodyRefused):
    """The body did not arrive within the read deadline (a slow-drip client)."""


class BodyCutShort(BodyRefused):
    """The client went away before the body's end (short of its Content-Length, or of the
    chunked body's last chunk)."""


def read_body(scope: Scope, receive: Receive, declared: str, limit: int, deadline: float) -> Awaitable[bytes]:
    """The whole body (to await), refusing one over ``limit`` bytes (by its declared
    Content-Length, or as it comes) or one that takes longer than ``deadline`` seconds to
    arrive."""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    extensions = scope.get("extensions")
    if extensions and BODY_DEADLINE in extensions:  # the protocol keeps the deadline
        return _read(receive, limit, extensions)
    return _read_in_time(receive, limit, deadline)


async def _read_in_time(receive: Receive, limit: int, deadline: float) -> bytes:
    with anyio.move_on_after(deadline):
        return await _read(receive, limit)
    raise BodyTooSlow  # the deadline passed before the body's end


async def _read(receive: Receive, limit: int, extensions: Mapping[str, Any] | None = None) -> bytes:
    """Every chunk up to the body's end; with the protocol's ``extensions``, refused when the
    protocol ended it at its deadline."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()  # the ASGI messages themselves: no async generator per request
        if message["type"] != "http.request":  # the client went away before the body's end
            raise BodyCutShort
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if extensions is not None and extensions.get(BODY_TIMED_OUT):
        raise BodyTooSlow
    return b"".join(chunks)
