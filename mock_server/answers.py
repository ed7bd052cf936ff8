"""Answers built as bytes once: compact JSON with the vendor's exact content type, sent in one
write where the mock's protocol serves the request."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.extensions import whole_answer


def json_response(
    body: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """Compact JSON, UTF-8, with exactly the content type the vendor sends (and ``headers``
    before it, in Starlette's order)."""
    try:
        data = orjson.dumps(body)
    except TypeError:  # a lone surrogate a client sent (and the answer echoes): its JSON escape
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
    raw.append((b"content-length", b"%d" % len(data)))
    raw.append((b"content-type", content_type.encode("latin-1")))
    return Prepared(data, status, raw)


class Prepared(Response):
    """A response whose body and header lines are already bytes: what Starlette's ``Response``
    would send, without its rendering and header checks on every answer."""

    def __init__(self, body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.body, self.status_code, self.raw_headers = body, status_code, raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = whole_answer(scope)  # served by the mock's protocol: the answer in one write
        if whole is None or not whole(scope, self.status_code, self.raw_headers, self.body):
            await super().__call__(scope, receive, send)
