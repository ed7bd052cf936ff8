"""The contract-test suite: verify any client implementation of a vendor against its contract.

    from contracts.verify import verify_client
    verify_client(my_client, vendor="dashscope").assert_ok()

A client is a Python callable (job dict -> outcome dict), a command of any language (the job on
stdin, the outcome on stdout), or a ``PersistentAdapter`` (one process for the run, a job per line
in, an outcome per line out); see contracts/README.md, "Verifying a client".

The public names load on first use (PEP 562), so that ``contracts.verify.command``, which the
``tryon-mock`` command imports for its arguments, costs no Hypothesis to a process that only serves.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.verify.adapters import CommandAdapter, PythonAdapter
    from contracts.verify.checks import CHECKS
    from contracts.verify.persistent import PersistentAdapter
    from contracts.verify.report import Failure, Report
    from contracts.verify.runner import verify_client
    from contracts.verify.scenario import FaultPlan, Scenario

__all__ = [
    "CHECKS",
    "CommandAdapter",
    "Failure",
    "FaultPlan",
    "PersistentAdapter",
    "PythonAdapter",
    "Report",
    "Scenario",
    "verify_client",
]

# Each public name -> the module of this package that defines it.
_HOMES = {
    "CHECKS": "checks",
    "CommandAdapter": "adapters",
    "Failure": "report",
    "FaultPlan": "scenario",
    "PersistentAdapter": "persistent",
    "PythonAdapter": "adapters",
    "Report": "report",
    "Scenario": "scenario",
    "verify_client": "runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once loaded, an ordinary module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
