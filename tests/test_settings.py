"""Settings: defaults < config file < TRYON_MOCK_* variables < flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_server import settings as s


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps(
            {
                "speed": 5,
                "port": 9000,
                "progress": "polls:3",
                "credentials": {"dashscope": [{"api_key": "sk-x"}]},
                "options": {"dashscope": {"refiner_result": "results"}},
            }
        )
    )
    got = s.load(str(config), environ={"TRYON_MOCK_SPEED": "7"}, flags={"port": 0})
    assert (got.speed, got.port, got.timing.polls) == (7.0, 0, 3)
    assert got.credentials["dashscope"][0]["api_key"] == "sk-x"
    assert got.options["dashscope"]["refiner_result"] == "results"


def test_env_config_path(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"remote_images": "reject"}))
    assert s.load(environ={"TRYON_MOCK_CONFIG": str(config)}).remote_images == "reject"


@pytest.mark.parametrize(
    "config",
    [
        {"colour": "red"},
        {"remote_images": "maybe"},
        {"speed": -1},
        {"progress": "polls:0"},
        {"timing": {"fail_at": 2}},
        [1],
    ],
)
def test_bad_config_is_refused(tmp_path: Path, config: object) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError):
        s.load(str(path), environ={})


def test_bad_env_and_options() -> None:
    with pytest.raises(s.SettingsError):
        s.load(environ={"TRYON_MOCK_PORT": "eighty"})
    with pytest.raises(s.SettingsError):
        s.parse_option("refiner_result=results")
    assert s.parse_option("dashscope.refiner_result=results") == {"dashscope": {"refiner_result": "results"}}


@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
def test_an_empty_admin_token_is_refused_from_every_source(tmp_path: Path, token: str) -> None:
    """Empty matches a request without the header; the in-process server refuses it too."""
    with pytest.raises(s.SettingsError, match="admin_token is empty"):
        s.Settings(admin_token=token)
    with pytest.raises(s.SettingsError, match="admin_token is empty"):
        s.load(environ={"TRYON_MOCK_ADMIN_TOKEN": token})
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"admin_token": token}))
    with pytest.raises(s.SettingsError, match="admin_token is empty"):
        s.load(str(config), environ={})
    assert s.load(environ={"TRYON_MOCK_ADMIN_TOKEN": "s3cret"}).admin_token == "s3cret"
    assert s.load(environ={}).admin_token is None


def test_allowed_hosts_from_every_source(tmp_path: Path) -> None:
    """A list in the file, a comma or space separated variable, the flag; the later replaces."""
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"allowed_hosts": ["Mock.CI.", "[::1]", "*.corp.example"]}))
    assert s.load(str(config), environ={}).allowed_hosts == ("mock.ci", "::1", ".corp.example")
    env = {"TRYON_MOCK_ALLOWED_HOSTS": "runner, other.ci  third"}
    assert s.load(str(config), environ=env).allowed_hosts == ("runner", "other.ci", "third")
    flags = {"allowed_hosts": ("flagged",)}
    assert s.load(str(config), environ=env, flags=flags).allowed_hosts == ("flagged",)


@pytest.mark.parametrize("bad", ["http://mock", "mock:8000", "mock/x", "", "a b", "[::1]:80", "mo*ck", "."])
def test_an_allowed_host_is_a_bare_name(tmp_path: Path, bad: str) -> None:
    with pytest.raises(s.SettingsError, match="allowed host"):
        s.Settings(allowed_hosts=(bad,))
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"allowed_hosts": bad}))
    with pytest.raises(s.SettingsError, match="a list of host names"):
        s.load(str(config), environ={})
