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
import sqlite3
import threading
from pathlib import Path
from typing import Any

import anyio

from mock_server.state import MockState
from mock_server.store.recipes import Recipe
from mock_server.store.uploads import Upload

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


async def snapshot(state: MockState) -> dict[str, Any]:
    """Everything worth keeping, as JSON documents (each part says how it is written down)."""
    store = state.store
    return {
        "version": VERSION,
        "clock": {"now": state.clock.now(), "speed": state.clock.speed},
        "secret": store.recipes.secret.hex(),
        "credentials": [c.to_doc() for c in await store.credentials.all()],
        "tasks": await store.tasks.export(),
        "recipes": [[key, recipe.to_doc()] for key, recipe in await store.recipes.all()],
        "faults": await store.faults.export(),
    }


async def restore(state: MockState, docs: dict[str, Any], uploads: list[Upload]) -> None:
    """Put a snapshot back into a fresh state (its credentials are added to the configured ones);
    what belongs to a vendor this server does not serve stays out."""
    if not docs:
        return
    if docs.get("version") != VERSION:
        raise StateFileError(f"state file version {docs.get('version')!r}, this mock reads {VERSION}")
    clock = docs["clock"]
    if clock["speed"] != 1:  # a real-time clock goes on from now; others resume where they stopped
        state.clock.resume(clock["now"], clock["speed"])
    store, served = state.store, state.contracts
    saved: dict[str, list[dict[str, str]]] = {}
    for cred in (c for c in docs["credentials"] if c["vendor"] in served):
        saved.setdefault(cred["vendor"], []).append({**cred["fields"], "tenant": cred["tenant"]})
    await store.credentials.load(saved)
    await store.tasks.restore(docs["tasks"], served)
    recipes = [(key, Recipe.from_doc(doc)) for key, doc in docs["recipes"]]
    await store.recipes.restore(bytes.fromhex(docs["secret"]), recipes)
    await store.faults.restore(docs["faults"], served)
    for upload in uploads:
        await store.uploads.put(upload)


async def open_into(state: MockState, path: str | Path) -> StateFile:
    """Open (or create) the state file and load what it holds into ``state``."""
    file = StateFile(path)
    try:
        await restore(state, *file.read())
    except (KeyError, TypeError, ValueError) as exc:
        file.close()
        raise StateFileError(f"state file {path} cannot be read back: {exc!r}") from exc
    return file


# -- keeping the file current --------------------------------------------------------------------


async def _fingerprint(state: MockState) -> tuple[Any, ...]:
    """Cheap to read, and it moves whenever something worth saving may have changed."""
    store = state.store
    return (
        await store.journal.last_seq(),
        await store.tasks.count(),
        len(await store.faults.rules()),
        len(await store.credentials.all()),
        len(await store.uploads.all()),
        state.clock.now() if state.clock.speed != 1 else 0,
    )


async def save(state: MockState, file: StateFile) -> None:
    """Snapshot on the event loop, write in a worker thread."""
    docs = await snapshot(state)
    uploads = await state.store.uploads.all()
    await anyio.to_thread.run_sync(file.write, docs, uploads)


async def keep_saved(state: MockState, file: StateFile, interval: float = 1.0) -> None:
    """Save whenever the state changed, at most once per ``interval`` seconds (until cancelled)."""
    seen = await _fingerprint(state)
    while True:
        await asyncio.sleep(interval)
        now = await _fingerprint(state)
        if now != seen:
            await save(state, file)
            seen = now
