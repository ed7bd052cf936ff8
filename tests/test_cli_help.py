"""``tryon-mock --help`` and ``tryon-mock serve --help``, from the real command."""

from __future__ import annotations

import re
from pathlib import Path

import contracts
from mock_server.settings import Settings, from_env
from tests.test_cli import run

FLAG = re.compile(r"^  (--[a-z-]+)", re.MULTILINE)


def flag_help(text: str) -> dict[str, str]:
    """Each flag of a help text and its help, its lines joined."""
    starts = list(FLAG.finditer(text))
    ends = [m.start() for m in starts[1:]] + [text.find("\n\n", starts[-1].start())]
    return {m.group(1): " ".join(text[m.end() : end].split()) for m, end in zip(starts, ends, strict=True)}


def test_every_serve_flag_has_help_and_the_defaults_are_the_settings(tmp_path: Path) -> None:
    done = run("serve", "--help", cwd=tmp_path)
    assert done.returncode == 0, done
    helps = flag_help(done.stdout)
    assert set(helps) >= {"--host", "--port", "--seed", "--option", "--remote-images", "--log-level"}
    for flag, text in helps.items():
        assert len(text.split()) > 2, (flag, text)  # more than the metavar: a sentence
    d = Settings()
    for flag, default in [
        ("--host", d.host),
        ("--port", d.port),
        ("--remote-images", d.remote_images),
        ("--log-level", d.log_level),
        ("--speed", f"{d.speed:g}"),
    ]:
        assert f"(default: {default})" in helps[flag], (flag, helps[flag])


def test_serve_help_lists_every_vendor_option_with_its_choices(tmp_path: Path) -> None:
    done = run("serve", "--help", cwd=tmp_path)
    listed = dict(re.findall(r"^  ([a-z]+\.[a-z_]+)=(\S+?):", done.stdout, re.MULTILINE))
    expected = {}
    for vendor in contracts.vendor_names():
        for option in contracts.load(vendor).options.values():
            expected[f"{vendor}.{option.name}"] = option
    assert set(listed) == set(expected), done.stdout
    for name, choices in listed.items():
        assert choices.split("|")[0] == expected[name].default, name
        assert sorted(choices.split("|")) == sorted(expected[name].choices), name


def test_serve_help_names_the_variables_and_they_work(tmp_path: Path) -> None:
    """The help says a setting's variable is TRYON_MOCK_ and the flag's name in capitals."""
    done = run("serve", "--help", cwd=tmp_path)
    text = " ".join(done.stdout.split())
    assert "TRYON_MOCK_PORT" in text and "TRYON_MOCK_CONFIG" in text
    assert from_env({"TRYON_MOCK_PORT": "9", "TRYON_MOCK_STATE_FILE": "x.sqlite"}) == {
        "port": 9,
        "state_file": "x.sqlite",
    }


def test_the_command_help_describes_it_and_its_commands(tmp_path: Path) -> None:
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0, done
    text = " ".join(done.stdout.split())
    assert "offline emulator of commercial virtual try-on APIs" in text
    for name in ("serve", "verify", "openapi", "scenarios"):
        assert re.search(rf"^    {name}\b", done.stdout, re.MULTILINE), name
