"""A request's named parameters as gateways read them: the query string's, then a urlencoded form
body's, the first value of a repeated name winning."""

from __future__ import annotations

from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"


def query_and_form(query: str, content_type: str, body: bytes) -> dict[str, str]:
    """The query's parameters and, for a urlencoded form body, the form's (blank values kept)."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)
    if content_type.lower().startswith(FORM):
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            params.setdefault(key, value)
    return params
