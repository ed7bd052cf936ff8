"""The request log: one line per vendor request from ``tryon-mock serve`` (a real subprocess),
none from the in-process server unless asked for, and the settings that turn it on and off."""

from __future__ import annotations

import calendar
import logging
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

import contracts
from mock_server import access_log
from mock_server.settings import Settings, SettingsError, from_env, load
from mock_server.testing import Tenant, serve_in_thread
from tests.test_cli import DEFAULT_KEY, SERVING, START_TIMEOUT, clean_env, command, serve

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<vendor>\S+) (?P<endpoint>\S+) "
    r"(?P<status>\d{3}) tenant=(?P<tenant>\S+)(?: error=(?P<error>\S+))?(?: fault=(?P<fault>\S+))? "
    r"(?P<ms>\d+\.\d)ms$"
)
DAMO = contracts.load("damo")
DAMO_CODE = DAMO.default_credentials[0]["appcode"]
DAMO_FAULT = next(e.id for e in DAMO.errors if e.can_occur("query"))
SUBMIT = "/api/v1/services/aigc/image2image/image-synthesis"


def requests_of_two_vendors(http: httpx.Client, url: str) -> None:
    """A DashScope submit that succeeds, a DashScope query with an unknown key (a vendor error),
    and a DAMO query whose error is an injected fault."""
    job = {
        "person_image_url": f"{url}/_mock/assets/person.png",
        "top_garment_url": f"{url}/_mock/assets/top.png",
    }
    headers = {"Authorization": f"Bearer {DEFAULT_KEY}", "X-DashScope-Async": "enable"}
    ok = http.post(f"{url}{SUBMIT}", json={"model": "aitryon", "input": job}, headers=headers)
    assert ok.status_code == 200, ok.text
    refused = http.get(f"{url}/api/v1/tasks/some-id", headers={"Authorization": "Bearer sk-nobody"})
    assert refused.status_code == 401
    faulted = http.post(
        f"{url}/api/v1/tryon/query",
        json={"data": {"result_key": "some-key"}},
        headers={"Authorization": f"APPCODE {DAMO_CODE}", "X-Mock-Fault": f"error={DAMO_FAULT}"},
    )
    assert faulted.status_code != 200 or DAMO_FAULT in faulted.text


def test_serve_logs_one_line_per_request_with_its_fields(tmp_path: Path, http: httpx.Client) -> None:
    before = time.time()
    with serve(cwd=tmp_path) as served:
        requests_of_two_vendors(http, served.url)
        http.get(f"{served.url}/_mock/health").raise_for_status()  # the admin API logs no line
        found = [LINE.match(served.output.get(timeout=START_TIMEOUT) or "") for _ in range(3)]
    submit, refused, faulted = [m.groupdict() if m else None for m in found]
    assert submit is not None and refused is not None and faulted is not None, found
    assert (submit["vendor"], submit["endpoint"], submit["status"]) == ("dashscope", "image-synthesis", "200")
    assert submit["tenant"] != "-" and submit["error"] is None and submit["fault"] is None
    assert (refused["endpoint"], refused["status"], refused["tenant"]) == ("task-query", "401", "-")
    assert refused["error"] == "InvalidApiKey" and refused["fault"] is None
    assert (faulted["vendor"], faulted["endpoint"]) == ("damo", "query")
    assert faulted["error"] == DAMO_FAULT and faulted["fault"] == f"{DAMO_FAULT}@query(header)"
    for line in (submit, refused, faulted):
        at = calendar.timegm(time.strptime(line["time"][:19], "%Y-%m-%dT%H:%M:%S"))
        assert before - 1 <= at <= time.time() and float(line["ms"]) >= 0


def test_serve_with_no_access_log_logs_none(tmp_path: Path, http: httpx.Client) -> None:
    with serve("--no-access-log", cwd=tmp_path) as served:
        requests_of_two_vendors(http, served.url)
        http.get(f"{served.url}/_mock/health").raise_for_status()
    rest = []
    while (line := served.output.get(timeout=START_TIMEOUT)) is not None:
        rest.append(line)
    assert not [line for line in rest if LINE.match(line)], rest


def test_the_fixture_logs_no_request_lines(
    tryon_mock: Tenant, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = tryon_mock.server.url
    key = tryon_mock.credentials["dashscope"]["api_key"]
    with httpx.Client(trust_env=False) as http:
        assert (
            http.get(f"{url}/api/v1/tasks/x", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        )
        http.get(f"{url}/api/v1/tasks/x", headers={"Authorization": "Bearer sk-nobody"})
    out, err = capfd.readouterr()
    assert "task-query" not in out + err
    assert not [r for r in caplog.records if r.name == access_log.LOGGER.name]


def test_serve_in_thread_logs_when_asked(capfd: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(Settings(port=0, access_log=True)) as server, httpx.Client(trust_env=False) as http:
        http.get(f"{server.url}/api/v1/tasks/x", headers={"Authorization": "Bearer sk-nobody"})
    _, err = capfd.readouterr()  # its lines are written by the time the server has stopped
    lines = [m.groupdict() for line in err.splitlines() if (m := LINE.match(line))]
    fields = [(m["endpoint"], m["status"], m["error"]) for m in lines]
    assert fields == [("task-query", "401", "InvalidApiKey")]
    assert not access_log.LOGGER.handlers, "its handler goes when the server stops"


def test_a_tests_own_logging_can_take_the_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=access_log.LOGGER.name)
    with serve_in_thread() as server, httpx.Client(trust_env=False) as http:
        http.get(f"{server.url}/api/v1/tasks/x", headers={"Authorization": "Bearer sk-nobody"})
    (record,) = [r for r in caplog.records if r.name == access_log.LOGGER.name]
    assert record.levelno == logging.INFO
    assert re.fullmatch(
        r"dashscope task-query 401 tenant=- error=InvalidApiKey \d+\.\dms", record.getMessage()
    )


def test_the_setting_from_a_variable_and_a_config_file(tmp_path: Path) -> None:
    assert from_env({"TRYON_MOCK_ACCESS_LOG": "0"}) == {"access_log": False}
    assert from_env({"TRYON_MOCK_ACCESS_LOG": "On"}) == {"access_log": True}
    with pytest.raises(SettingsError, match='TRYON_MOCK_ACCESS_LOG must be true or false, not "maybe"'):
        from_env({"TRYON_MOCK_ACCESS_LOG": "maybe"})
    config = tmp_path / "config.json"
    config.write_text('{"access_log": "no"}')
    with pytest.raises(SettingsError, match='access_log must be true or false, not "no"'):
        load(str(config), environ={})
    assert Settings().access_log is None, "the runner decides: serve on, serve_in_thread off"


def test_a_server_whose_output_nobody_reads_keeps_answering(tmp_path: Path) -> None:
    """A harness that reads the banner and then never reads again: the log's lines fill the pipe
    (64 KiB: some 700 lines), and the server must go on answering (lines beyond the log's backlog
    are dropped, not waited for)."""
    with subprocess.Popen(
        [*command(), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            match = SERVING.search(banner)
            assert match, banner
            url = match[1]
            with httpx.Client(timeout=10, trust_env=False) as http:
                for _ in range(3_000):  # some 250 KB of lines, four pipes' worth
                    answer = http.get(f"{url}/api/v1/tasks/x", headers={"Authorization": "Bearer sk-no"})
                    assert answer.status_code == 401
        finally:
            proc.kill()
