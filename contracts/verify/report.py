"""What a verification run found: readable text by default, JSON and JUnit XML on request."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from contracts.verify import coverage


@dataclass
class Failure:
    """The smallest failing example Hypothesis found, and how to run exactly it again."""

    checks: list[tuple[str, str]]  # (check name, what is wrong)
    scenario: dict[str, Any]
    job: dict[str, Any]
    outcome: Any
    requests: list[str]
    replay: str
    flaky: bool = False

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.checks))


@dataclass
class Report:
    vendor: str
    client: str
    seed: int | None
    examples: int = 0
    seconds: float = 0.0
    checks: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> {"passed", "failed"}
    disabled: list[str] = field(default_factory=list)
    failure: Failure | None = None
    coverage: dict[str, Any] = field(default_factory=dict)  # what was tried (contracts/verify/coverage.py)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.examples > 0

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0

    def assert_ok(self) -> Report:
        if not self.ok:
            raise AssertionError(self.text())
        return self

    # -- renderings ------------------------------------------------------------------------------

    def text(self) -> str:
        verdict = "PASSED" if self.ok else "FAILED"
        lines = [
            f"tryon-mock verify: {self.vendor} client {self.client}: {verdict}",
            f"  {self.examples} examples in {self.seconds:.1f} s "
            f"({self.examples_per_second:.1f}/s), seed {self.seed}",
        ]
        for name, counts in self.checks.items():
            mark = "ok  " if not counts["failed"] else "FAIL"
            lines.append(f"  {mark} {name}  ({counts['passed']} passed, {counts['failed']} failed)")
        lines += [f"  off  {name}" for name in self.disabled]
        if self.coverage:
            lines += coverage.lines(self.coverage)
        if self.failure is not None:
            f = self.failure
            lines.append("")
            lines.append(
                "Smallest failing example"
                + (" (flaky: it did not fail again on replay)" if f.flaky else "")
                + ":"
            )
            lines += [f"  [{name}] {message}" for name, message in f.checks]
            lines.append("  scenario: " + json.dumps(f.scenario, sort_keys=True))
            lines.append("  requests the server saw:")
            lines += [f"    {r}" for r in f.requests] or ["    (none)"]
            lines.append("  outcome: " + json.dumps(f.outcome, sort_keys=True))
            lines.append(f"  seed: {self.seed}")
            lines.append("  replay exactly this case:")
            lines.append(f"    {f.replay}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ok"] = self.ok
        doc["examples_per_second"] = round(self.examples_per_second, 2)
        if self.failure is not None:
            doc["failure"]["checks"] = [{"check": n, "message": m} for n, m in self.failure.checks]
        return doc

    def junit(self) -> str:
        failed = {name for name, _ in (self.failure.checks if self.failure else [])}
        suite = ET.Element(
            "testsuite",
            name=f"tryon-mock verify {self.vendor}",
            tests=str(len(self.checks)),
            failures=str(len(failed)),
            skipped=str(len(self.disabled)),
            time=f"{self.seconds:.3f}",
        )
        if self.coverage:
            props = ET.SubElement(suite, "properties")
            for key, value in coverage.properties(self.coverage).items():
                ET.SubElement(props, "property", name=key, value=value)
        for name in [*self.checks, *self.disabled]:
            case = ET.SubElement(suite, "testcase", classname=f"{self.vendor}.{self.client}", name=name)
            if name in self.disabled:
                ET.SubElement(case, "skipped", message="turned off")
            elif name in failed and self.failure is not None:
                messages = [m for n, m in self.failure.checks if n == name]
                node = ET.SubElement(case, "failure", message=messages[0][:500])
                node.text = self.text()
        if self.coverage:
            ET.SubElement(suite, "system-out").text = "\n".join(coverage.lines(self.coverage))
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

    def write(self, path: str | Path) -> None:
        """JSON for ``.json``, JUnit XML for ``.xml``, else text."""
        target = Path(path)
        if target.suffix == ".json":
            target.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        elif target.suffix == ".xml":
            target.write_text(self.junit() + "\n")
        else:
            target.write_text(self.text() + "\n")
