"""The fenced code blocks of the project's READMEs, as tests/test_readme_snippets.py runs them.

A block's language says how it runs: ``sh`` through bash, ``python`` through this interpreter (as
a pytest file when it defines a ``test_`` function), ``json`` is parsed, ``text`` (diagrams,
printed output) is never run. A block that must not run carries a visible marker on the line
before it, with the reason: ``<!-- snippet: skip (needs a real API key) -->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "contracts/README.md")
LANGUAGES = {"sh", "python", "json", "text"}
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
MARKER = re.compile(r"^<!-- snippet: skip \((?P<reason>.+)\) -->$")
DOCUMENTED_URL = "http://127.0.0.1:8000"  # where `make serve` listens; the test's mock replaces it


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    skip: str | None  # the marker's reason

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def installs(self) -> bool:
        """A block of ``pip install`` lines alone: not run, it needs the package index (the test
        checks its pins instead)."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        return self.lang == "sh" and bool(lines) and all(line.startswith("pip install ") for line in lines)

    @property
    def is_pytest(self) -> bool:
        return self.lang == "python" and re.search(r"^def test_", self.text, re.MULTILINE) is not None


def read(doc: str) -> list[Block]:
    """Every fenced block of ``doc`` (a path under the repository), with the marker before it.

    A marker that no block follows is an error, so none goes stale where a block moved away."""
    lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    pending: tuple[int, str] | None = None  # a marker's line and reason, waiting for its block
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line.strip())
        fence = FENCE.match(line)
        if marker:
            pending = (index + 1, marker.group("reason"))
        elif fence:
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].rstrip() == "```"),
                None,
            )
            if end is None:
                raise ValueError(f"{doc}:{index + 1}: a code block that never closes")
            text = "\n".join(lines[index + 1 : end]) + "\n"
            found.append(Block(doc, index + 1, fence.group("lang"), text, pending and pending[1]))
            pending = None
            index = end
        elif line.strip() and pending is not None:
            raise ValueError(f"{doc}:{pending[0]}: a snippet marker with no code block after it")
        index += 1
    if pending is not None:
        raise ValueError(f"{doc}:{pending[0]}: a snippet marker with no code block after it")
    return found


def every_block() -> list[Block]:
    return [block for doc in DOCS for block in read(doc)]
