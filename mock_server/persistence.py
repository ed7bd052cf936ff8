"""A state file (SQLite, standard library): tasks, credentials, fault rules, uploads, result
recipes and the mock clock survive a restart of the server.

The in-memory store stays the truth while the server runs. ``snapshot`` copies it into plain
documents on the event loop (consistent, no locks); ``StateFile.write`` stores them in one
transaction, off the loop. ``keep_saved`` does that whenever the state changed, at most once per
interval, and the server writes a last snapshot when it stops, so a clean stop loses nothing and a
kill loses at most one interval.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio

from mock_server.clock import Clock
from mock_server.faults import Rule
from mock_server.results import Recipe, Results
from mock_server.state import MockState
from mock_server.tasks import Plan, Task
from mock_server.uploads import Upload

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, tenant TEXT, media_type TEXT NOT NULL, data BLOB NOT NULL
);
"""
VERSION = 1


class StateFileError(ValueError):
    pass


class StateFile:
    """One SQLite file; every write replaces the documents and syncs the uploads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open state file {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def read(self) -> tuple[dict[str, Any], list[Upload]]:
        with self._lock:
            rows = self._db.execute("SELECT name, doc FROM documents").fetchall()
            files = self._db.execute("SELECT id, tenant, media_type, data FROM uploads").fetchall()
        docs = {name: json.loads(doc) for name, doc in rows}
        return docs, [Upload(i, bytes(d), m, t) for i, t, m, d in files]

    def write(self, docs: dict[str, Any], uploads: list[Upload]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO documents VALUES (?, ?)",
                    [(name, json.dumps(doc)) for name, doc in docs.items()],
                )
                stored = {row[0] for row in self._db.execute("SELECT id FROM uploads")}
                keep = {u.id for u in uploads}
                self._db.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in stored - keep])
                self._db.executemany(
                    "INSERT INTO uploads VALUES (?, ?, ?, ?)",
                    [(u.id, u.tenant, u.media_type, u.data) for u in uploads if u.id not in stored],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()


# -- the state as documents ---------------------------------------------------------------------


def snapshot(state: MockState) -> dict[str, Any]:
    """Everything worth keeping, as JSON documents (read on the event loop)."""
    return {
        "version": VERSION,
        "clock": {"now": state.clock.now(), "speed": state.clock.speed},
        "secret": state.results.secret.hex(),
        "credentials": [asdict(c) | {"fields": dict(c.fields)} for c in state.credentials.all()],
        "tasks": [_task(t) for t in state.tasks.all()],
        "recipes": [[key, recipe._asdict()] for key, recipe in state.results.recipes()],
        "faults": [_rule(r) for r in state.faults.rules()],
    }


def restore(state: MockState, docs: dict[str, Any], uploads: list[Upload]) -> None:
    """Put a snapshot back into a fresh state (its credentials are added to the configured ones);
    what belongs to a vendor this server does not serve stays out."""
    if not docs:
        return
    if docs.get("version") != VERSION:
        raise StateFileError(f"state file version {docs.get('version')!r}, this mock reads {VERSION}")
    clock = docs["clock"]
    if clock["speed"] != 1:  # a real-time clock goes on from now; others resume where they stopped
        state.clock = Clock(speed=clock["speed"], start=clock["now"])
    served = set(state.contracts)
    for cred in (c for c in docs["credentials"] if c["vendor"] in served):
        state.credentials.add(cred["vendor"], {**cred["fields"], "tenant": cred["tenant"]})
    for doc in (d for d in docs["tasks"] if d["vendor"] in served):
        state.tasks.add(_task_from(state, doc))
    _restore_results(state, docs)
    for doc in (d for d in docs["faults"] if d.get("vendor") in (None, *served)):
        state.faults.restore(_rule_from(doc))
    for upload in uploads:
        state.uploads.put(upload)


def _restore_results(state: MockState, docs: dict[str, Any]) -> None:
    """The signing secret (links handed out before the restart stay valid) and the recipes."""
    state.results = Results(secret=bytes.fromhex(docs["secret"]))
    for key, recipe in docs["recipes"]:
        garments, size = tuple(recipe.pop("garments")), recipe.pop("size")
        state.results.add(key, Recipe(**recipe, garments=garments, size=tuple(size) if size else None))


def open_into(state: MockState, path: str | Path) -> StateFile:
    """Open (or create) the state file and load what it holds into ``state``."""
    file = StateFile(path)
    try:
        restore(state, *file.read())
    except (KeyError, TypeError, ValueError) as exc:
        file.close()
        raise StateFileError(f"state file {path} cannot be read back: {exc!r}") from exc
    return file


def _task(task: Task) -> dict[str, Any]:
    plan = task.plan
    return {
        "id": task.id,
        "tenant": task.tenant,
        "vendor": task.vendor,
        "operation": task.operation,
        "created": task.created,
        "plan": {
            "phases": [list(p) for p in plan.phases],
            "error": plan.error.id if plan.error else None,
            "fail_at": plan.fail_at,
            "polls": plan.polls,
        },
        "inputs": task.inputs,
        "results": task.results,
        "result_size": task.result_size,
        "group": task.group,
        "extra": task.extra,
        "pending_faults": {kind: error.id for kind, error in task.pending_faults.items()},
        "polls": task.polls,
        "canceled_at": task.canceled_at,
        "observed": task._observed,
        "host": task.host,
    }


def _task_from(state: MockState, doc: dict[str, Any]) -> Task:
    contract = state.contracts[doc["vendor"]]
    p = doc["plan"]
    plan = Plan(
        phases=tuple((status, float(seconds)) for status, seconds in p["phases"]),
        error=contract.error(p["error"]) if p["error"] else None,
        fail_at=p["fail_at"],
        polls=p["polls"],
    )
    size = doc["result_size"]
    return Task(
        id=doc["id"],
        tenant=doc["tenant"],
        vendor=doc["vendor"],
        operation=doc["operation"],
        created=doc["created"],
        plan=plan,
        lifecycle=contract.lifecycle,
        inputs=doc["inputs"],
        results=doc["results"],
        result_size=tuple(size) if size else None,
        group=doc["group"],
        extra=doc["extra"],
        pending_faults={kind: contract.error(i) for kind, i in doc["pending_faults"].items()},
        polls=doc["polls"],
        canceled_at=doc["canceled_at"],
        _observed=doc["observed"],
        host=doc.get("host", ""),
    )


def _rule(rule: Rule) -> dict[str, Any]:
    fields = ("id", "spec", "vendor", "tenant", "endpoint", "times", "probability", "seed", "per_tenant")
    doc = {name: getattr(rule, name) for name in fields}
    state = rule._rng.getstate()
    return doc | {
        "after": rule.after,
        "hits": rule.hits,
        "rng": [state[0], list(state[1]), state[2]],
        "used": [[k, v] for k, v in rule._used.items()],
        "passed": [[k, v] for k, v in rule._passed.items()],
    }


def _rule_from(doc: dict[str, Any]) -> Rule:
    rng = random.Random()
    version, internal, gauss = doc.pop("rng")
    rng.setstate((version, tuple(internal), gauss))
    used, passed = doc.pop("used"), doc.pop("passed")
    return Rule(**doc, _rng=rng, _used=dict(map(tuple, used)), _passed=dict(map(tuple, passed)))


# -- keeping the file current --------------------------------------------------------------------


def _fingerprint(state: MockState) -> tuple[Any, ...]:
    """Cheap to read, and it moves whenever something worth saving may have changed."""
    return (
        state.journal.last_seq,
        state.tasks.count(),
        len(state.faults.rules()),
        len(state.credentials.all()),
        len(state.uploads.all()),
        state.clock.now() if state.clock.speed != 1 else 0,
    )


async def save(state: MockState, file: StateFile) -> None:
    """Snapshot on the event loop, write in a worker thread."""
    docs = snapshot(state)
    uploads = state.uploads.all()
    await anyio.to_thread.run_sync(file.write, docs, uploads)


async def keep_saved(state: MockState, file: StateFile, interval: float = 1.0) -> None:
    """Save whenever the state changed, at most once per ``interval`` seconds (until cancelled)."""
    seen = _fingerprint(state)
    while True:
        await asyncio.sleep(interval)
        now = _fingerprint(state)
        if now != seen:
            await save(state, file)
            seen = now
