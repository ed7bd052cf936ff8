"""Reading a request body: bounded in size, and in time.

Under the mock's protocol the body deadline is the protocol's (it ends the body early and says
so, see ``extensions``). Anywhere else (in-process transports, another server) the reader keeps
the same deadline itself, from the first read of the body.
"""

from __future__ import annotations

import anyio
from starlette.types import Receive, Scope

from contracts.vocabulary import Situation
from mock_server.extensions import body_deadline_kept, body_timed_out


class BodyRefused(Exception):
    """The body could not be read; ``trigger`` names the vendor error that answers it."""

    trigger: Situation = "body.invalid"


class BodyTooLarge(BodyRefused):
    trigger: Situation = "body.too_large"


class BodyTooSlow(BodyRefused):
    """The body did not arrive within the read deadline (a slow-drip client)."""


async def read_body(scope: Scope, receive: Receive, declared: str, limit: int, deadline: float) -> bytes:
    """The whole body, refusing one over ``limit`` bytes (by its declared Content-Length, or
    as it comes) or one that takes longer than ``deadline`` seconds to arrive."""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    if body_deadline_kept(scope):
        body = await _read(receive, limit)
        if body_timed_out(scope):
            raise BodyTooSlow
        return body
    with anyio.move_on_after(deadline):
        return await _read(receive, limit)
    raise BodyTooSlow  # the deadline passed before the body's end


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()  # the ASGI messages themselves: no async generator per request
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
