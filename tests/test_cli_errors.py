"""Bad settings, wherever they come from (a config file key, a ``TRYON_MOCK_*`` variable, a flag),
answer one line that names the key, the variable or the flag, what it takes and what it got;
never Python's words. And the commands that print a lot end quietly when their reader goes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server import cli
from mock_server.cli import main

ROOT = Path(__file__).resolve().parent.parent
# What leaks when Python's own errors reach the user.
PYTHON_WORDS = ("Traceback", "not supported between", "invalid literal", "could not convert", "<class")


def never_serve(app: object, settings: object) -> None:
    raise AssertionError("the command went on to serve: the setting was accepted")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TRYON_MOCK_* variable of the caller's: each test sets its own. And a command that gets as
    far as serving fails the test at once, instead of serving on."""
    for name in [n for n in os.environ if n.startswith("TRYON_MOCK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "serve", never_serve)
    return monkeypatch


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``tryon-mock`` in this process: it must refuse (exit status 2) in one line."""
    assert main(["serve", "--port", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tryon-mock: ") and err.count("\n") == 1, err
    assert not any(word in err for word in PYTHON_WORDS), err
    return err


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"speed": "fast"}, 'speed must be a number >= 0, not "fast"'),
        ({"port": "80"}, 'port must be a whole number from 0 to 65535, not "80"'),
        ({"seed": "x"}, 'seed must be a whole number, not "x"'),
        ({"default_credentials": "no"}, 'default_credentials must be true or false, not "no"'),
        ({"max_body_bytes": 1.5}, "max_body_bytes must be a whole number >= 1, not 1.5"),
        ({"log_level": "loud"}, 'log_level must be one of critical, error, warning, info, debug, not "loud"'),
        ({"remote_images": 1}, "remote_images must be one of synthesize, reject, fetch, not 1"),
        ({"timing": {"fail_at": "x"}}, 'timing.fail_at must be a number from 0 to 1, not "x"'),
        ({"timing": "x"}, 'timing must be an object, not "x"'),
        ({"timing": {"speedy": 1}}, "unknown timing field speedy: the timing fields are fail_at, progress"),
        ({"progress": 3}, 'progress must be "time" or "polls:N"'),
        (
            {"options": {"dashscope": {"limits": False}}},
            "options.dashscope.limits must be a string, not false",
        ),
        ({"options": {"dashscope": "x"}}, 'options.dashscope must be an object of {option: value}, not "x"'),
        (
            {"vendors": "dashscope"},
            "vendors must be a list of vendor names (aidge, ailabtools, damo, dashscope)",
        ),
        ({"credentials": []}, "credentials must be an object, not []"),
        ({"colour": "red"}, "unknown setting colour: the settings are admin_token, allowed_hosts,"),
    ],
)
def test_a_config_key_of_the_wrong_kind_is_named(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config: Any, says: str
) -> None:
    path = tmp_path / "mock.json"
    path.write_text(json.dumps(config))
    err = refusal(capsys, "--config", str(path))
    assert err.endswith(f" (in config file {path})\n") and says in err, err


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TRYON_MOCK_SPEED", "fast", 'TRYON_MOCK_SPEED must be a number >= 0, not "fast"'),
        ("TRYON_MOCK_SEED", "1.5", 'TRYON_MOCK_SEED must be a whole number, not "1.5"'),
        ("TRYON_MOCK_PORT", "99999", "TRYON_MOCK_PORT must be a whole number from 0 to 65535, not 99999"),
        ("TRYON_MOCK_LOG_LEVEL", "loud", "TRYON_MOCK_LOG_LEVEL must be one of critical, error, warning"),
        ("TRYON_MOCK_PROGRESS", "polls", 'TRYON_MOCK_PROGRESS must be "time" or "polls:N"'),
    ],
)
def test_a_variable_of_the_wrong_kind_is_named(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, says: str
) -> None:
    env.setenv(variable, value)
    assert says in refusal(capsys)


def test_a_misspelt_variable_is_refused_with_the_valid_names(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo used to be ignored (the mock started at speed 1), while unknown file keys are refused."""
    env.setenv("TRYON_MOCK_SPEEDD", "60")
    err = refusal(capsys)
    assert "unknown variable TRYON_MOCK_SPEEDD: the variables are " in err
    for valid in ("TRYON_MOCK_SPEED", "TRYON_MOCK_PORT", "TRYON_MOCK_CONFIG", "TRYON_MOCK_ADMIN_TOKEN"):
        assert valid in err


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--option", "dashscope.nope=1"], "option dashscope.nope: dashscope's options are refiner_result ("),
        (
            ["--option", "dashscope.limits=maybe"],
            "option dashscope.limits=maybe: the value must be one of on, off",
        ),
        (
            ["--option", "nope.limits=on"],
            "no vendor 'nope' is served; the vendors are aidge, ailabtools, damo",
        ),
        (["--speed", "-1"], "--speed must be a number >= 0"),
        (["--progress", "often"], '--progress must be "time" or "polls:N"'),
        (["--port", "70000"], "--port must be a whole number from 0 to 65535, not 70000"),
    ],
)
def test_a_flag_is_named_with_its_valid_values(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    err = refusal(capsys, *flags)
    assert says in err
    assert "'1'" not in err, "the value as typed, not in Python's repr"


def test_an_unknown_option_lists_every_option_of_the_vendor(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refusal(capsys, "--option", "dashscope.nope=1")
    for name in ("refiner_result", "refiner_timing", "limits"):
        assert name in err


def test_openapi_out_to_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "dashscope.json"
    assert main(["openapi", "--vendor", "dashscope", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"tryon-mock: cannot write --out {out}: No such file or directory\n"


@pytest.mark.parametrize(
    "argv",
    [["openapi", "--vendor", "dashscope"], ["openapi", "--vendor", "damo"], ["scenarios"], ["--help"]],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path, argv: list[str]) -> None:
    """``tryon-mock openapi ... | head``: the reader closes the pipe; no BrokenPipeError traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYON_MOCK_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before the command writes a byte, as `head` is after its lines
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert err == "", err
