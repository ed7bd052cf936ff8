"""Every code block of README.md and contracts/README.md runs as written (issue 18, point 10).

Shell blocks run through bash and Python blocks through this interpreter, each on its own in a
fresh directory, against one real ``tryon-mock serve --speed 60`` (what the README's quick start
starts), whose URL replaces the README's ``http://127.0.0.1:8000``. Python blocks that define a
test run as a pytest file, with the plugin. JSON blocks are parsed. A block that must not run says
why on the line before it (tests/readme_blocks.py); any other block the test cannot run fails it.
``pip install`` blocks are not run (they need the package index): their pins must be the test
extra's, installed here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from mock_server.testing import MockServer, Tenant
from tests.readme_blocks import DOCS, DOCUMENTED_URL, LANGUAGES, ROOT, Block, every_block
from tests.test_cli import clean_env, serve

BLOCKS = every_block()
RUN_TIMEOUT = 120.0
# `pip install` in code: a block's line, or inline code (prose that mentions it is not matched)
PIP_INSTALL = re.compile(r"(?:^|`)pip install ([^`\n]+)", re.MULTILINE)
REQUIREMENT = re.compile(r"^[A-Za-z][\w.-]*(==\S+)?$")  # a package, not an option or a path (-e .)


def chosen(*langs: str, pytest_file: bool = False) -> list[Block]:
    return [
        b
        for b in BLOCKS
        if b.lang in langs and b.skip is None and not b.installs and b.is_pytest == pytest_file
    ]


def ids(blocks: list[Block]) -> list[str]:
    return [b.name for b in blocks]


RUNNABLE = [*chosen("sh"), *chosen("python"), *chosen("python", pytest_file=True)]
JSON = chosen("json")
Started = dict[str, tuple[Path, subprocess.Popen[bytes]]]  # a block's name: its directory, its process


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve("--speed", "60", cwd=tmp_path_factory.mktemp("serve")) as server:
        yield server.url


def snippet_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an activated .venv (its bin first on PATH), this checkout's package, and
    a curl that fails on an HTTP error with the answer shown, as ``-sS --fail-with-body`` would."""
    curl_home = tmp_path / ".curl-home"
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text("fail-with-body\nshow-error\n")
    env = clean_env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["CURL_HOME"] = str(curl_home)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def command(block: Block, url: str, where: Path) -> tuple[list[str], dict[str, str]]:
    """How a block runs (its files written in ``where``): the argv and what it adds to the
    environment. A test block runs with our plugin alone: the others installed here (Hypothesis',
    Schemathesis', Faker's) take seconds to import, and the suite itself proves the entry point
    that loads ours."""
    text = block.text.replace(DOCUMENTED_URL, url)
    if block.is_pytest:
        (where / "test_snippet.py").write_text(block.text, encoding="utf-8")
        plugin = ["-p", "no:cacheprovider", "-p", "mock_server.pytest_plugin"]
        return [sys.executable, "-m", "pytest", "-q", *plugin, "test_snippet.py"], {
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"
        }
    if block.lang == "python":
        (where / "snippet.py").write_text(text, encoding="utf-8")
        return [sys.executable, "snippet.py"], {}
    return ["bash", "-e", "-o", "pipefail", "-c", text], {}


@pytest.fixture(scope="module")
def started(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    """Every selected block started at once, each in a directory of its own: most of a block's
    time is an import or a sleep, so together they take about as long as the slowest one."""
    chosen_ids = {
        item.callspec.id
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_block_runs"
    }
    selected = [block for block in RUNNABLE if block.name in chosen_ids]
    needs_mock = any(not block.is_pytest for block in selected)
    url = request.getfixturevalue("mock_url") if needs_mock else DOCUMENTED_URL
    processes: Started = {}
    try:
        for block in selected:
            where = tmp_path_factory.mktemp("snippet")
            argv, env = command(block, url, where)
            with (where / "out.txt").open("w") as out:
                env = {**snippet_env(where), **env}
                process = subprocess.Popen(argv, cwd=where, env=env, stdout=out, stderr=subprocess.STDOUT)
            processes[block.name] = (where, process)
        yield processes
    finally:
        for _, process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()


def test_every_block_runs_or_says_why_not() -> None:
    """Each block has a language the test runs, or `text`, or a skip marker with its reason."""
    assert BLOCKS, "no code blocks found"
    for block in BLOCKS:
        if block.skip is None:
            assert block.lang in LANGUAGES, f"{block.name}: ```{block.lang} is no language the test runs"
        else:
            assert block.skip.strip(), f"{block.name}: a skip marker needs its reason"


@pytest.mark.parametrize("block", RUNNABLE, ids=ids(RUNNABLE))
def test_block_runs(block: Block, started: Started) -> None:
    """A shell block through bash, a Python block through this interpreter, a test block as a
    pytest file: each ends with status 0 (curl's included: an HTTP error fails it)."""
    where, process = started[block.name]
    try:
        status = process.wait(RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        status = process.wait()
    assert status == 0, f"{block.name} failed ({status}):\n{(where / 'out.txt').read_text()}"


@pytest.mark.parametrize("block", JSON, ids=ids(JSON))
def test_json_block(block: Block) -> None:
    json.loads(block.text)


def test_install_lines_are_the_test_extra() -> None:
    """Each package a README's `pip install` names (in a block or in the text) is pinned to the
    version the test extra pins, which is the one installed here, which the snippets ran with."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = project["optional-dependencies"]["test"]
    pins = dict(req.split("==", 1) for req in extra)
    listed = [
        req
        for doc in DOCS
        for line in PIP_INSTALL.findall((ROOT / doc).read_text(encoding="utf-8"))
        for req in line.split()
        if REQUIREMENT.match(req)
    ]
    assert len(listed) >= 4, f"pip install lines: {listed}"
    for req in listed:
        name, _, version = req.partition("==")
        assert pins.get(name) == version, f"{req}: the test extra pins {name}=={pins.get(name)}"
        assert metadata.version(name) == version, f"{req}: {metadata.version(name)} is installed"


def test_the_fixture_is_documented_whole() -> None:
    """The README's "In pytest" section names every public method of the `tryon_mock` fixture
    and of the session server, so the docs do not go stale when one is added."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In pytest", 1)[1].split("\n## ", 1)[0]
    for cls in (Tenant, MockServer):
        public = [name for name in vars(cls) if not name.startswith("_") and callable(getattr(cls, name))]
        assert public, cls
        for name in public:
            assert f"`{name}(" in section, f"README, In pytest: {cls.__name__}.{name} is not documented"
