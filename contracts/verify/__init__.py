"""The contract-test suite: verify any client implementation of a vendor against its contract.

    from contracts.verify import verify_client
    verify_client(my_client, vendor="dashscope").assert_ok()

A client is a Python callable (job dict -> outcome dict) or a command of any language (the job on
stdin, the outcome on stdout); see contracts/README.md, "Verifying a client".
"""

from contracts.verify.adapters import CommandAdapter, PythonAdapter
from contracts.verify.checks import CHECKS
from contracts.verify.report import Failure, Report
from contracts.verify.runner import verify_client
from contracts.verify.scenario import FaultPlan, Scenario

__all__ = [
    "CHECKS",
    "CommandAdapter",
    "Failure",
    "FaultPlan",
    "PythonAdapter",
    "Report",
    "Scenario",
    "verify_client",
]
