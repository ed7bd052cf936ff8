"""What ``tryon-mock serve --state-file`` accepts, through the real command: one server per file
(a second is refused), only files of its own (a damaged file or another application's database is
refused, and left as it was), an empty file made its own, and a file of the first format read and
rewritten in the current one."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from tests.test_cli import run, serve
from tests.test_persistence import KEY, TENANT, poll, submit

DATA = Path(__file__).resolve().parent / "data"
OURS = (0x54724D6B, 2)  # PRAGMA application_id ("TrMk") and user_version of a state file (README)
# what tests/data/state-v1.sql holds (see its header)
V1_KEY, V1_TENANT = "sk-format-one", "tenant-format-one"
V1_DONE, V1_HALFWAY = "5d9dc9f8-1818-4811-892f-902bd23f0824", "6f03675a-1600-435a-8999-50d836f675cc"
V1_RESULT = (
    "/_mock/results/5d9dc9f8-1818-4811-892f-902bd23f0824-0.png?Expires=1796396614"
    "&OSSAccessKeyId=LTAI5tTryonMockResults&Signature=y2gVtpDb0NQ8dbqT6kRAAjLcYVc%3D"
)
V1_UPLOAD = "/_mock/uploads/269e0d37f2a74de452e6b438.png"


def refused(state_file: Path, cwd: Path) -> str:
    """Start a server on the file: it must exit 2 with one line on stderr, no traceback; the line."""
    done = run("serve", "--port", "0", "--state-file", str(state_file), cwd=cwd)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, (done.returncode, done.stderr)
    assert lines[0].startswith("tryon-mock: ") and str(state_file) in lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the folder with the digest of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as db:
        return db.execute(sql).fetchall()


def marker(state_file: Path) -> tuple[int, int]:
    return query(state_file, "PRAGMA application_id")[0][0], query(state_file, "PRAGMA user_version")[0][0]


def test_a_second_server_on_the_same_file_is_refused(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    with httpx.Client(timeout=10, trust_env=False) as http:
        with serve("--state-file", str(state_file), cwd=tmp_path) as first:
            added = http.post(
                f"{first.url}/_mock/credentials", json={"dashscope": [{"api_key": KEY, "tenant": TENANT}]}
            )
            assert added.status_code == 201
            task = submit(http, first.url, f"{first.url}/_mock/assets/person.png")
            assert "in use by another tryon-mock server" in refused(state_file, tmp_path)
            assert poll(http, first.url, task)["task_id"] == task  # the first goes on, unharmed
        with serve("--state-file", str(state_file), cwd=tmp_path) as second:  # the lock went with it
            assert poll(http, second.url, task)["task_id"] == task


def test_an_empty_file_is_made_a_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    state_file.touch()
    with serve("--state-file", str(state_file), cwd=tmp_path):
        pass
    assert marker(state_file) == OURS


def test_a_damaged_state_file_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    with serve("--state-file", str(state_file), cwd=tmp_path) as server:
        many = [{"api_key": f"sk-damaged-{n:04}", "tenant": TENANT} for n in range(300)]
        added = httpx.post(f"{server.url}/_mock/credentials", json={"dashscope": many}, trust_env=False)
        assert added.status_code == 201
    data = bytearray(state_file.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) >= 3 * page, len(data)
    data[page:] = bytes((n * 37) % 251 for n in range(len(data) - page))  # every page but the first
    state_file.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    line = refused(state_file, tmp_path)
    assert "damaged" in line or "cannot be read" in line, line
    assert snapshot(tmp_path) == before


def test_a_database_of_another_application_is_refused_unchanged(tmp_path: Path) -> None:
    theirs = tmp_path / "app.db"
    with closing(sqlite3.connect(theirs)) as db, db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ada')")
    before = snapshot(tmp_path)
    line = refused(theirs, tmp_path)
    assert "another application" in line and "users" in line, line
    assert snapshot(tmp_path) == before
    assert query(theirs, "SELECT name FROM sqlite_master") == [("users",)]


def test_a_file_of_the_first_format_is_read_and_rewritten_in_the_current_one(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    with closing(sqlite3.connect(state_file)) as db:
        db.executescript((DATA / "state-v1.sql").read_text())
    auth = {"Authorization": f"Bearer {V1_KEY}"}
    with httpx.Client(timeout=10, trust_env=False) as http:
        with serve("--state-file", str(state_file), cwd=tmp_path) as server:
            url = server.url
            assert http.get(f"{url}/_mock/health").json()["clock"]["mode"] == "manual"
            done = http.get(f"{url}/api/v1/tasks/{V1_DONE}", headers=auth).json()["output"]
            assert done["task_status"] == "SUCCEEDED"
            # the task polled once of three goes on; the result link signed before still answers
            statuses = [
                http.get(f"{url}/api/v1/tasks/{V1_HALFWAY}", headers=auth).json()["output"]["task_status"]
                for _ in range(2)
            ]
            assert statuses[-1] == "SUCCEEDED", statuses
            png = http.get(url + V1_RESULT)
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            assert http.get(url + V1_UPLOAD, params={"tenant": V1_TENANT}).status_code == 200
            rules = http.get(f"{url}/_mock/faults", params={"tenant": V1_TENANT}).json()["rules"]
            assert [(r["tenant"], r["error"], r["times"]) for r in rules] == [(V1_TENANT, "Throttling", 2)]
        assert marker(state_file) == OURS
        tables = query(state_file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        assert tables == [("items",), ("meta",), ("uploads",)]

        with serve("--state-file", str(state_file), cwd=tmp_path) as again:
            tasks = http.get(f"{again.url}/_mock/tasks", params={"tenant": V1_TENANT}).json()["tasks"]
            assert {(t["id"], t["polls"]) for t in tasks} == {(V1_DONE, 4), (V1_HALFWAY, 3)}
            assert http.get(again.url + V1_RESULT).status_code == 200
