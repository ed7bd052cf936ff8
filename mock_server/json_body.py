"""JSON request bodies: parsed fast, and refused where JSON itself would refuse them."""

from __future__ import annotations

import json
from typing import Any

import orjson

MAX_DEPTH = 100  # nesting of arrays and objects a request body may have


def parse_json(raw: bytes) -> Any:
    """JSON from a request body; ValueError for anything that is not: NaN and Infinity (Python
    reads them, JSON has none) and nesting deeper than ``MAX_DEPTH`` included."""
    try:
        doc = orjson.loads(raw)  # the fast path; what it refuses gets the standard library's word
    except orjson.JSONDecodeError:
        try:
            doc = json.loads(raw, parse_constant=_no_constant)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(doc) > MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(doc: Any) -> int:
    """How deep arrays and objects nest in ``doc`` (walked without recursion)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest
