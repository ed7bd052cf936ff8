"""``--state-file``: tasks, credentials, fault rules, uploads and result links outlive a restart of
``tryon-mock serve`` (a real process, stopped with SIGTERM mid-progression and started again)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.test_cli import serve

PERSON, TOP = "person.png", "top.png"
SYNTHESIS = "/api/v1/services/aigc/image2image/image-synthesis"
KEY, TENANT = "sk-persisted-0001", "tenant-persisted"


def submit(http: httpx.Client, url: str, person: str) -> str:
    body = {
        "model": "aitryon",
        "input": {"person_image_url": person, "top_garment_url": f"{url}/_mock/assets/{TOP}"},
    }
    answer = http.post(
        url + SYNTHESIS,
        json=body,
        headers={"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


def poll(http: httpx.Client, url: str, task_id: str) -> dict[str, Any]:
    answer = http.get(f"{url}/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200, answer.text
    output: dict[str, Any] = answer.json()["output"]
    return output


def test_tasks_credentials_faults_and_uploads_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    args = ("--state-file", str(state_file), "--progress", "polls:3")
    with httpx.Client(timeout=10, trust_env=False) as http:
        with serve(*args, cwd=tmp_path) as first:
            url = first.url
            added = http.post(
                f"{url}/_mock/credentials", json={"dashscope": [{"api_key": KEY, "tenant": TENANT}]}
            )
            assert added.status_code == 201, added.text
            image = http.get(f"{url}/_mock/assets/{PERSON}").content
            upload = http.post(f"{url}/_mock/uploads?tenant={TENANT}", content=image).json()["url"]
            done, halfway = submit(http, url, upload), submit(http, url, upload)
            assert [poll(http, url, done)["task_status"] for _ in range(3)][-1] == "SUCCEEDED"
            assert poll(http, url, halfway)["task_status"] != "SUCCEEDED"  # one poll of three
            result = poll(http, url, done)["image_url"]
            rule = {"vendor": "dashscope", "tenant": TENANT, "endpoint": "submit", "error": "Throttling"}
            assert http.post(f"{url}/_mock/faults", json=rule).status_code == 201
        assert sqlite3.connect(state_file).execute("SELECT count(*) FROM uploads").fetchone() == (1,)

        with serve(*args, cwd=tmp_path) as second:
            url2 = second.url
            # the task stopped halfway goes on where it was: two more polls end it
            statuses = [poll(http, url2, halfway)["task_status"] for _ in range(2)]
            assert statuses[-1] == "SUCCEEDED", statuses
            assert poll(http, url2, done)["task_status"] == "SUCCEEDED"
            # its result link, handed out before the restart, still answers (same signing secret)
            moved = result.replace(url, url2)
            png = http.get(moved)
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            # the credential and its tenant, the fault rule and the upload came back
            rules = http.get(f"{url2}/_mock/faults", params={"tenant": TENANT}).json()["rules"]
            assert [r["tenant"] for r in rules] == [TENANT]
            throttled = http.post(
                url2 + SYNTHESIS,
                json={"model": "aitryon", "input": {"person_image_url": upload}},
                headers={"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"},
            )
            assert throttled.status_code == 429, throttled.text
            assert http.get(upload.replace(url, url2), params={"tenant": TENANT}).status_code == 200
            tasks = http.get(f"{url2}/_mock/tasks", params={"tenant": TENANT}).json()["tasks"]
            assert {t["id"] for t in tasks} == {done, halfway}


def test_without_a_state_file_a_restart_forgets(tmp_path: Path) -> None:
    with httpx.Client(timeout=10, trust_env=False) as http:
        with serve(cwd=tmp_path) as first:
            added = http.post(
                f"{first.url}/_mock/credentials", json={"dashscope": [{"api_key": KEY, "tenant": TENANT}]}
            )
            assert added.status_code == 201
        with serve(cwd=tmp_path) as second:
            answer = http.get(f"{second.url}/api/v1/tasks", headers={"Authorization": f"Bearer {KEY}"})
            assert answer.status_code == 401
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_state_file_is_refused_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "state.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    from tests.test_cli import run

    done = run("serve", "--port", "0", "--state-file", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "state file" in done.stderr
