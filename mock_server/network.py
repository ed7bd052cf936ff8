"""Network faults: reset a connection, or cut a response body short.

ASGI gives an app no handle on its connection, so the mock's HTTP protocol (``protocol``) puts
the transport into ``scope["extensions"]`` (read through ``extensions``). Served in-process (no transport),
both faults raise ``ConnectionResetError`` into the client instead, which is what an HTTP client
library reports for them.
"""

from __future__ import annotations

import contextlib
import socket
import struct

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.extensions import transport as _transport

RESET_STATUS = 499  # what the journal records for a reset connection (nothing was answered)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def reset(scope: Scope, receive: Receive) -> None:
    """Abort the connection with a TCP RST, before any byte of the answer."""
    transport = _transport(scope)
    if transport is None:
        raise ConnectionResetError("tryon-mock network fault: connection reset")
    sock = transport.get_extra_info("socket")
    with contextlib.suppress(AttributeError, OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _until_disconnect(receive)


class Truncated(Response):
    """Sends the headers of ``inner`` (with its full Content-Length) and half its body, then
    closes the connection."""

    def __init__(self, inner: Response) -> None:
        self.inner = inner
        super().__init__(status_code=inner.status_code)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.inner.body)
        await send(
            {
                "type": "http.response.start",
                "status": self.inner.status_code,
                "headers": self.inner.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        transport = _transport(scope)
        if transport is None:
            raise ConnectionResetError("tryon-mock network fault: body truncated")
        transport.close()
        await _until_disconnect(receive)
