"""The line that replays one failing example, and the reading of a scenario given to replay.

A replay line carries every setting that shaped the run (the job's pace and budget, the drawn
progress, the operations, the checks' settings, the server when one was given), so that running it
as printed gives the client the same job and judges it the same way.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.verify.scenario import Scenario

# verify_client's keyword -> its default: a setting at its default is left off a Python replay.
DEFAULTS: dict[str, Any] = {
    "time_budget": 10.0,
    "poll_interval": 0.02,
    "retry_backoff": 0.02,
    "progress": "any",
    "operations": None,
    "checks": None,
    "server": None,
}


def command_line(vendor: str, command: str, scenario: str, shaping: Mapping[str, Any], *extra: str) -> str:
    """``tryon-mock verify ...`` with every option of ``shaping`` (verify_client's keywords)."""
    argv = ["tryon-mock", "verify", "--vendor", vendor, "--client-cmd", command, *extra]
    if shaping.get("server"):
        argv += ["--server", str(shaping["server"])]
    for flag, key in (
        ("--time-budget", "time_budget"),
        ("--poll-interval", "poll_interval"),
        ("--retry-backoff", "retry_backoff"),
    ):
        argv += [flag, f"{float(shaping.get(key, DEFAULTS[key])):g}"]
    if shaping.get("progress", "any") != "any":
        argv += ["--progress", str(shaping["progress"])]
    for operation in shaping.get("operations") or ():
        argv += ["--operation", operation]
    argv += check_flags(shaping.get("checks") or {})
    return shlex.join([*argv, "--replay", scenario])


def check_flags(checks: Mapping[str, Any]) -> list[str]:
    """``--exclude-checks`` and ``--check-option`` for verify_client's ``checks=``."""
    off = [name for name, setting in checks.items() if setting is False]
    flags = ["--exclude-checks", ",".join(off)] if off else []
    for name, setting in checks.items():
        if isinstance(setting, Mapping):
            for option, value in setting.items():
                flags += ["--check-option", f"{name}.{option}={json.dumps(value)}"]
    return flags


def python_call(label: str, vendor: str, scenario: str, shaping: Mapping[str, Any]) -> str:
    """``verify_client(...)`` with every keyword of ``shaping`` that is not at its default."""
    given = {
        key: dict(value) if isinstance(value, Mapping) else value
        for key, value in shaping.items()
        if value is not None and value != DEFAULTS.get(key)
    }
    keywords = "".join(f", {key}={value!r}" for key, value in given.items())
    return f"verify_client({label}, vendor={vendor!r}{keywords}, replay={scenario!r})"


def scenario_from(replay: str | Mapping[str, Any], operations: Sequence[str], flag: str) -> Scenario:
    """The scenario a replay names; ValueError naming ``flag`` when it is not one (not JSON, not an
    object, a field missing or of the wrong shape, an operation the vendor lacks)."""
    from contracts.verify.scenario import Scenario

    if isinstance(replay, str):
        try:
            doc: Any = json.loads(replay)
        except ValueError as exc:
            raise ValueError(f"{flag} is not JSON ({exc}); give the scenario a failure printed") from None
    else:
        doc = dict(replay)
    if not isinstance(doc, dict):
        raise ValueError(f"{flag} is a JSON {type(doc).__name__}; a scenario is an object")
    try:
        scenario = Scenario.from_dict(doc)
    except KeyError as exc:
        raise ValueError(f"{flag} lacks the scenario field {exc}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{flag} has a field of the wrong shape ({exc})") from None
    if scenario.operation not in operations:
        raise ValueError(
            f"{flag} names operation {scenario.operation!r}; this vendor's are {', '.join(operations)}"
        )
    return scenario
