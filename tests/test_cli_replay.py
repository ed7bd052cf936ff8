"""The replay line a failed ``tryon-mock verify`` prints begins with ``tryon-mock``: where a shell
would not find that command by its name, the command says how to run the line as printed."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from mock_server.testing import MockServer
from tests.test_cli import run

BIN = Path(sys.executable).parent
SCRIPT = shutil.which("tryon-mock", path=str(BIN))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="tryon-mock is not installed next to this Python")


def failing_verify(server: MockServer, tmp_path: Path, path: str, *extra: str) -> tuple[int, str, str]:
    done = run(
        "verify",
        "--vendor",
        "dashscope",
        "--client-cmd",
        "false",
        "--max-examples",
        "1",
        "--no-shrink",
        "--server",
        server.url,
        *extra,
        cwd=tmp_path,
        env={"PATH": path},
    )
    return done.returncode, done.stdout, done.stderr


def replay_line(stdout: str) -> str:
    lines = stdout.splitlines()
    return lines[lines.index("  replay exactly this case:") + 1].strip()


def test_off_path_the_note_names_the_command_and_the_line_then_runs(
    tryon_mock_server: MockServer, tmp_path: Path
) -> None:
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    status, out, err = failing_verify(tryon_mock_server, tmp_path, path or "/usr/bin")
    assert status == 1, err
    assert f"write {SCRIPT} for tryon-mock" in err, err
    assert f". {BIN / 'activate'}" in err
    argv = shlex.split(replay_line(out))
    assert argv[0] == "tryon-mock"
    # Run as the note says: the same failure, on the one case.
    again = run(*argv[1:], "--server", tryon_mock_server.url, cwd=tmp_path)
    assert again.returncode == 1, again.stderr
    assert "FAIL outcome_conformance" in again.stdout


def test_on_path_there_is_no_note(tryon_mock_server: MockServer, tmp_path: Path) -> None:
    status, out, err = failing_verify(tryon_mock_server, tmp_path, f"{BIN}{os.pathsep}/usr/bin:/bin")
    assert status == 1, err
    assert "not on PATH" not in err
    assert replay_line(out).startswith("tryon-mock verify ")
