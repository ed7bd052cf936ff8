"""Buggy clients that mangle production-like image URLs (issue 16, gap 13): signed CDN links with
percent-encoded names and query strings, as the suite draws them with Faker. A URL must reach the
vendor exactly as given: re-encoding it, decoding it or dropping its query changes the link (a
signed one stops working), and ``request_matches_job`` sees the change in the submit's
parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

import httpx

from tests.clients.aidge import AidgeClient
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient


def _urls(doc: Any, change: Callable[[str], str]) -> Any:
    """The request with every http(s) link changed."""
    if isinstance(doc, str):
        return change(doc) if doc.startswith(("http://", "https://")) else doc
    if isinstance(doc, list):
        return [_urls(v, change) for v in doc]
    if isinstance(doc, dict):
        return {k: _urls(v, change) for k, v in doc.items()}
    return doc


class DashScopeDoubleEncodesUrls(DashScopeClient):
    """Percent-encodes every image URL "to be safe", so an already encoded one is encoded twice
    (``%E4`` becomes ``%25E4``, a signature's ``%2B`` becomes ``%252B``)."""

    def submit(self) -> httpx.Response:
        request = _urls(self.job["request"], lambda url: quote(url, safe=":/?&="))
        return self.http.post(self.job["endpoint"]["path"], json=request, headers=self.headers())


class DamoDropsUrlQuery(DamoClient):
    """Strips the query string from image URLs as tracking noise, so a signed link loses its
    ``Expires``/``Signature``."""

    def submit(self) -> httpx.Response:
        return self.post(self.job["endpoint"]["path"], _urls(self.job["request"], lambda u: u.split("?")[0]))


class AidgeUnquotesUrls(AidgeClient):
    """Percent-decodes image URLs to make them readable, so an encoded name or signature reaches the
    vendor decoded (``%2F`` becomes ``/``, ``%20`` a space)."""

    def submit(self) -> httpx.Response:
        body = {"requestParams": json.dumps(_urls(self.job["request"], unquote))}
        return self.http.post(self.job["endpoint"]["path"], params=self.signed(), json=body)
