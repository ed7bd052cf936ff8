"""The layering between our packages (README, "Architecture"): serving loads none of the suite's
Hypothesis although the command takes the suite's arguments from it (and the suite's public names
still import), and the import-linter contract of the contract model names every module of it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SERVING_ONLY = """
import sys
import contracts.verify
assert "hypothesis" not in sys.modules, "import contracts.verify loads hypothesis"
from mock_server import cli
args = cli._parser().parse_args(["verify", "--vendor", "damo", "--client-cmd", "x", "--max-examples", "3"])
assert (args.vendor, args.client_cmd, args.max_examples) == ("damo", "x", 3), args
assert "contracts.verify.command" in sys.modules, "the verify arguments come from the suite"
assert "hypothesis" not in sys.modules, "building the tryon-mock parser loads hypothesis"
from contracts.verify import CHECKS, verify_client
import contracts.verify.checks, contracts.verify.runner
assert verify_client is contracts.verify.runner.verify_client and CHECKS is contracts.verify.checks.CHECKS
assert all(getattr(contracts.verify, name) is not None for name in contracts.verify.__all__)
assert set(contracts.verify.__all__) <= set(dir(contracts.verify))
assert "hypothesis" in sys.modules
"""


def test_the_command_parser_loads_no_hypothesis() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", SERVING_ONLY],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr


def test_the_model_contract_lists_every_module_of_the_model() -> None:
    """A module added to contracts/ (outside contracts/verify) is a module of the model: the
    contract that keeps the model free of our other packages must name it, or it goes unchecked."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [model] = [c for c in config["contracts"] if c["id"] == "model-imports-nothing-of-ours"]
    package = ROOT / "contracts"
    modules = {
        ".".join(("contracts", *path.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if "verify" not in path.relative_to(package).parts[:1]
    }
    assert set(model["source_modules"]) == modules
    assert model["as_packages"] is False
