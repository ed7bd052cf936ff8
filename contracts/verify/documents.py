"""The documents the suite exchanges, compiled once: the job and outcome of a client
(``contracts/job.schema.json``, ``contracts/outcome.schema.json``), and what a mock answers about
what it saw (``contracts/journal.schema.json``: its journal and its tasks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator


@cache
def schema(name: str) -> dict[str, Any]:
    """``contracts/<name>.schema.json``, checked against the JSON Schema meta-schema."""
    doc: dict[str, Any] = json.loads(resources.files("contracts").joinpath(f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(doc)
    return doc


def _rooted(name: str, part: str | None) -> dict[str, Any]:
    """The document, or the same document (so its references resolve) rooted at one of its $defs."""
    doc = schema(name)
    if part is None:
        return doc
    if part not in doc.get("$defs", {}):
        raise KeyError(f"{name}.schema.json has no $defs/{part}")
    root: dict[str, Any] = {key: doc[key] for key in ("$schema", "$id", "$defs") if key in doc}
    return {**root, "$ref": f"#/$defs/{part}"}


@cache
def validator(name: str, part: str | None = None) -> Draft202012Validator:
    """The validator of a document, or of one part of it (one of its ``$defs``)."""
    return Draft202012Validator(_rooted(name, part))


@cache
def _compiled(name: str, part: str | None) -> Any:
    """The same as a compiled validator, which only tells valid from not, and fast (the suite
    checks two journal answers per example)."""
    return jsonschema_rs.validator_for(_rooted(name, part))


def problems(name: str, doc: Any, part: str | None = None) -> list[tuple[str, str]]:
    """Each violation as (JSON pointer, message)."""
    if _compiled(name, part).is_valid(doc):
        return []
    return [
        ("".join(f"/{p}" for p in e.absolute_path), e.message)
        for e in sorted(validator(name, part).iter_errors(doc), key=lambda e: _in_order(e.absolute_path))
    ]


def _in_order(path: Iterable[str | int]) -> list[tuple[int, str | int]]:
    """A sort key that keeps array items in their order (item 2 before item 10)."""
    return [(1, p) if isinstance(p, int) else (0, p) for p in path]


def outcome_problems(doc: Any) -> list[tuple[str, str]]:
    return problems("outcome", doc)


def job_problems(doc: Any) -> list[tuple[str, str]]:
    return problems("job", doc)


def journal_problems(doc: Any) -> list[tuple[str, str]]:
    """What is wrong with an answer of ``GET /_mock/journal``."""
    return problems("journal", doc, "journal")


def tasks_problems(doc: Any) -> list[tuple[str, str]]:
    """What is wrong with an answer of ``GET /_mock/tasks``."""
    return problems("journal", doc, "tasks")


def anonymous_tenant() -> str:
    """The journal's tenant for requests no credential could be matched to."""
    tenant: str = schema("journal")["$defs"]["anonymous"]["const"]
    return tenant
