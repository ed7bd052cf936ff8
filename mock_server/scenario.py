"""Load the named scenarios of the ``scenarios`` package and apply one to the mock."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from mock_server.faults import FaultSpecError
from mock_server.state import MockState

PACKAGE = "scenarios"


class ScenarioError(ValueError):
    pass


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(resources.files(PACKAGE).joinpath("scenario.schema.json").read_text())
    return Draft202012Validator(schema)


def names() -> list[str]:
    return sorted(
        e.name.removesuffix(".json")
        for e in resources.files(PACKAGE).iterdir()
        if e.name.endswith(".json") and not e.name.endswith(".schema.json")
    )


def load(name: str) -> dict[str, Any]:
    if name not in names():
        raise ScenarioError(f"no scenario {name!r}; there are {', '.join(names())}")
    doc = json.loads(resources.files(PACKAGE).joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return check(doc)


def check(doc: Any) -> dict[str, Any]:
    problems = list(_validator().iter_errors(doc))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "(top)"
        raise ScenarioError(f"scenario {where}: {problems[0].message}")
    return doc


def apply(state: MockState, doc: dict[str, Any], tenant: str | None = None) -> None:
    """Replace the timing and fault rules of one tenant (or the server-wide ones) by the
    scenario's. Every rule is checked before anything changes."""
    check(doc)
    base = state.settings.timing
    try:
        timing = base.merged(doc["timing"])
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc
    rules = [dict(rule, tenant=tenant) for rule in doc["faults"]]
    trial = type(state.faults)()
    try:
        for rule in rules:
            trial.add(rule, state.contracts)
    except FaultSpecError as exc:
        raise ScenarioError(str(exc)) from exc
    state.faults.clear_scope(tenant)
    for rule in rules:
        state.faults.add(rule, state.contracts)
    if tenant is None:
        state.timing = timing
    else:
        state.tenant_timing[tenant] = timing
