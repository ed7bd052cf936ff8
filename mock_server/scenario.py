"""Load the named scenarios of the ``scenarios`` package and apply one to the mock."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from mock_server import faults
from mock_server.faults import FaultSpecError
from mock_server.state import MockState
from mock_server.store.rules import RuleLimit

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
    checked: dict[str, Any] = doc  # the schema says it is an object
    return checked


async def apply(state: MockState, doc: dict[str, Any], tenant: str | None = None) -> None:
    """Replace the timing and fault rules of one tenant (or the server-wide ones) by the
    scenario's. Every rule is checked before anything changes."""
    check(doc)
    try:
        state.settings.timing.merged(doc["timing"])
        specs = [faults.parse_rule(dict(rule, tenant=tenant), state.contracts) for rule in doc["faults"]]
        await state.store.faults.replace(tenant, specs)
    except (FaultSpecError, RuleLimit, ValueError) as exc:
        raise ScenarioError(str(exc)) from exc
    await state.set_timing(tenant, doc["timing"], fresh=True)
