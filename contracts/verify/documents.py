"""The job and outcome documents (``contracts/job.schema.json``, ``contracts/outcome.schema.json``),
compiled once."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads(resources.files("contracts").joinpath(f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(name: str, doc: Any) -> list[tuple[str, str]]:
    """Each violation as (JSON pointer, message)."""
    return [
        ("".join(f"/{p}" for p in e.absolute_path), e.message)
        for e in sorted(validator(name).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    ]


def outcome_problems(doc: Any) -> list[tuple[str, str]]:
    return problems("outcome", doc)


def job_problems(doc: Any) -> list[tuple[str, str]]:
    return problems("job", doc)
