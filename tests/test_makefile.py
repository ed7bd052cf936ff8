"""The Makefile's set-up, with a stand-in ``.venv`` in a temporary directory (nothing is built or
installed): pip runs only when pyproject.toml changed, a ``.venv`` of a too-old Python is made
again, a too-old ``python3`` is named, and ``make serve`` ends cleanly on Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import EXIT_TIMEOUT
from tests.test_cli_stop import started

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on PATH")


def venv(tmp_path: Path, python: str = sys.executable) -> Path:
    """A stand-in .venv: bin/python is ``python``; bin/tryon-mock runs this checkout's command."""
    made = tmp_path / ".venv"
    (made / "bin").mkdir(parents=True)
    (made / "bin" / "python").symlink_to(python)
    script = made / "bin" / "tryon-mock"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mock_server "$@"\n')
    script.chmod(0o755)
    return made


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "-C", str(ROOT), "--no-print-directory", *args],
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT,
        check=False,
        env={**os.environ, **(env or {})},
    )


def stale(stamp: Path) -> None:
    """A stamp made before pyproject.toml last changed."""
    stamp.touch()
    before = (ROOT / "pyproject.toml").stat().st_mtime - 60
    os.utime(stamp, (before, before))


@pytest.mark.parametrize(
    ("target", "stamp", "pip"),
    [
        ("serve", "installed.stamp", "pip install --quiet -e ."),
        ("test", "installed-test.stamp", "pip install --quiet -e '.[test]'"),
        ("bench", "installed-test.stamp", "pip install --quiet -e '.[test]'"),
    ],
)
def test_pip_runs_only_when_pyproject_changed(tmp_path: Path, target: str, stamp: str, pip: str) -> None:
    made = venv(tmp_path)
    (made / stamp).touch()
    fresh = make("-n", target, f"VENV={made}")
    assert fresh.returncode == 0, fresh
    assert "pip install" not in fresh.stdout, fresh.stdout
    assert "-m venv" not in fresh.stdout
    stale(made / stamp)
    changed = make("-n", target, f"VENV={made}")
    assert changed.returncode == 0, changed
    assert pip in changed.stdout, changed.stdout
    assert "-m venv" not in changed.stdout  # the .venv itself is kept


def test_make_serve_execs_the_server(tmp_path: Path) -> None:
    made = venv(tmp_path)
    (made / "installed.stamp").touch()
    dry = make("-n", "serve", f"VENV={made}", "PORT=9", "ARGS=--speed 60")
    assert dry.stdout.splitlines() == [
        f"exec {made}/bin/tryon-mock serve --host 127.0.0.1 --port 9 --speed 60"
    ]


def test_a_venv_of_a_too_old_python_is_made_again(tmp_path: Path) -> None:
    """A .venv made by Python 3.10 (here: a python that fails the version check) used to be
    reused until ``make clean``."""
    old = tmp_path / "python3.10"
    old.write_text("#!/bin/sh\necho Python 3.10.12\nexit 1\n")
    old.chmod(0o755)
    made = venv(tmp_path, str(old))
    (made / "installed.stamp").touch()
    dry = make("-n", "serve", f"VENV={made}")
    assert dry.returncode == 0, dry
    assert f"rm -rf {made}" in dry.stdout, dry.stdout
    assert f"-m venv {made}" in dry.stdout
    assert "pip install --quiet -e ." in dry.stdout


def test_a_too_old_python3_is_named_and_nothing_is_made(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text('#!/bin/sh\n[ "$1" = -V ] && echo Python 3.10.12\nexit 1\n')
    old.chmod(0o755)
    made = tmp_path / ".venv"
    done = make("serve", f"VENV={made}", f"PYTHON={old}")
    assert done.returncode != 0
    assert "tryon-mock needs Python 3.11 or later" in done.stderr, done.stderr
    assert "Python 3.10.12" in done.stderr
    assert not made.exists()


def test_make_serve_stops_on_ctrl_c_without_an_error(tmp_path: Path) -> None:
    """Ctrl-C signals make and the server together. The server ends cleanly, so make has no failed
    recipe to report (it printed ``*** [Makefile:...: serve] Interrupt`` after a traceback)."""
    made = venv(tmp_path)
    (made / "installed.stamp").touch()
    assert MAKE is not None
    argv = [MAKE, "-C", str(ROOT), "--no-print-directory", "serve", f"VENV={made}", "PORT=0"]
    with started([], tmp_path, argv=argv) as server:
        os.killpg(server.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        server.process.wait(EXIT_TIMEOUT)
        rest = []
        while (line := server.lines.get(timeout=EXIT_TIMEOUT)) is not None:
            rest.append(line.rstrip("\n"))
    assert rest == ["stopped"], rest  # and nothing else (stderr is among the lines)
    # make itself ends by the signal it got (as it does on any), or 0: never an error of its own
    assert server.process.returncode in (0, -signal.SIGINT), server.process.returncode
