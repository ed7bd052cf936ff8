"""The state file: one SQLite database (standard library), written by one server at a time and by
nothing else.

- Ours: ``PRAGMA application_id`` says so, ``PRAGMA user_version`` gives the format. A new or
  empty file is ours to set up; a version-1 file (before the marker) is recognised by its two
  tables and read. Anything else, an SQLite database of another application, a damaged file or no
  database at all, is refused before anything is written, so it stays as it was.
- One server: an exclusive ``flock`` on the database file itself, taken before SQLite opens it
  and held until ``close`` (the kernel lets go when the process dies, even by ``kill -9``). The
  lock is BSD-style, apart from the POSIX locks SQLite takes on the same file; our descriptor is
  closed only after SQLite's, so SQLite's locks are never dropped under it.
- Format 2: a row per task, fault rule, credential and result recipe (``items``, read back in the
  order they were first kept), a row per upload, and the clock and link secret (``meta``). A
  write changes only the rows that changed, in one transaction; the journal is WAL with
  ``synchronous=NORMAL``: a committed write survives the death of the process (a power cut may
  take the last ones). Format 1 held one JSON document per part, rewritten whole; the first write
  to such a file replaces it with format 2.

Every method blocks: the server calls them from a worker thread.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.store.changes import Changes
from mock_server.store.uploads import Upload

APPLICATION_ID = int.from_bytes(b"TrMk", "big")  # PRAGMA application_id of every file we write
VERSION = 2
SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE items (part TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (part, key));
CREATE TABLE uploads (
  id TEXT PRIMARY KEY, tenant TEXT, media_type TEXT NOT NULL, expires REAL, data BLOB NOT NULL
);
"""
UPSERT_ITEM = "INSERT INTO items VALUES (?, ?, ?) ON CONFLICT (part, key) DO UPDATE SET doc = excluded.doc"
UPSERT_UPLOAD = (
    "INSERT INTO uploads VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant,"
    " media_type = excluded.media_type, expires = excluded.expires, data = excluded.data"
)
UPSERT_META = "INSERT INTO meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc"
VERSION_1_TABLES = {"documents", "uploads"}


class StateFileError(ValueError):
    """A state file this server cannot use (the message is one line, and says why)."""


@dataclass
class Saved:
    """What a state file holds: the clock and secret, each part's (key, document) rows in the
    order they were first kept, and the uploads."""

    meta: dict[str, Any] = field(default_factory=dict)
    items: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)


@dataclass
class Batch:
    """One write: the meta documents that changed, each part's changes, the uploads' changes."""

    meta: dict[str, Any] = field(default_factory=dict)
    items: dict[str, Changes[Any]] = field(default_factory=dict)
    uploads: Changes[Upload] = field(default_factory=Changes)

    def __bool__(self) -> bool:
        return bool(self.meta or self.uploads or any(self.items.values()))

    def then(self, later: Batch) -> None:
        """Fold a later batch into this one (what a failed write held goes with the next)."""
        self.meta.update(later.meta)
        for part, changes in later.items.items():
            self.items.setdefault(part, Changes()).then(changes)
        self.uploads.then(later.uploads)


class StateFile:
    """One state file, locked for this server, checked to be ours and readable. ``version`` is
    the format it holds: 0 (new), 1 or 2; the first ``write`` makes it ``VERSION``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd = _lock(self.path)
        self._db: sqlite3.Connection | None = None
        self._writable = False
        self._lock = threading.Lock()
        # Read-only until the first write, so a file refused is a file untouched; and without a
        # WAL to read (none is left once a server closes the file), immutable: then SQLite makes
        # no -wal and -shm files beside it either.
        wal = Path(f"{self.path}-wal").exists()
        try:
            self._db = self._connect("?mode=ro" if wal else "?mode=ro&immutable=1")
            self.version = self._check(self._db)
        except BaseException:
            self.close()
            raise

    def _connect(self, query: str = "") -> sqlite3.Connection:
        uri = self.path.resolve().as_uri() + query
        try:
            return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open state file {self.path}: {exc}") from exc

    def _check(self, db: sqlite3.Connection) -> int:
        """The file's format, found by reading alone; StateFileError for a file that is not ours
        or not whole."""
        try:
            app = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            schema = db.execute("SELECT type, name FROM sqlite_master").fetchall()
            if app == 0 and not schema:
                return 0
            tables = {name for kind, name in schema if kind == "table"}
            if app == APPLICATION_ID and version != VERSION:
                raise StateFileError(
                    f"state file {self.path} has format {version}; this tryon-mock reads 1 and {VERSION}"
                )
            if app != APPLICATION_ID and not (app == 0 and _version_1(db, tables)):
                shown = ", ".join(sorted(tables)) or "none"
                raise StateFileError(
                    f"state file {self.path} is an SQLite database of another application "
                    f"(application_id {app}, tables: {shown}); it is left as it is"
                )
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        except sqlite3.Error as exc:
            raise StateFileError(
                f"state file {self.path} cannot be read ({exc}); it is left as it is"
            ) from exc
        if problems != ["ok"]:
            raise StateFileError(f"state file {self.path} is damaged ({problems[0]}); it is left as it is")
        return VERSION if app == APPLICATION_ID else 1

    def read(self) -> Saved:
        """Everything the file holds (StateFileError for rows that cannot be read)."""
        try:
            with self._lock:
                db = self._open()
                return _read_2(db) if self.version == VERSION else _read_1(db) if self.version else Saved()
        except (sqlite3.Error, ValueError) as exc:
            raise StateFileError(
                f"state file {self.path} cannot be read ({exc}); it is left as it is"
            ) from exc

    def write(self, batch: Batch) -> None:
        """Store one batch in one transaction (the first write sets the file up in format 2)."""
        meta = [(name, json.dumps(doc)) for name, doc in batch.meta.items()]
        items = {
            part: [(part, k, json.dumps(d)) for k, d in c.put.items()] for part, c in batch.items.items()
        }
        uploads = [(u.id, u.tenant, u.media_type, u.expires, u.data) for u in batch.uploads.put.values()]
        with self._lock:
            db = self._open(write=True)
            db.execute("BEGIN IMMEDIATE")
            try:
                if self.version != VERSION:
                    self._set_up(db)
                db.executemany(UPSERT_META, meta)
                for part, changes in batch.items.items():
                    db.executemany(
                        "DELETE FROM items WHERE part = ? AND key = ?", [(part, k) for k in changes.gone]
                    )
                    db.executemany(UPSERT_ITEM, items[part])
                db.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in batch.uploads.gone])
                db.executemany(UPSERT_UPLOAD, uploads)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            self.version = VERSION

    def _open(self, write: bool = False) -> sqlite3.Connection:
        """The connection (the first write reopens it to write, in WAL mode)."""
        if self._db is None:
            raise StateFileError(f"state file {self.path} is closed")
        if write and not self._writable:
            self._db.close()
            self._db = self._connect()
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._writable = True
        return self._db

    def _set_up(self, db: sqlite3.Connection) -> None:
        """Make the file format 2, within the open transaction (a version-1 file's tables go:
        the caller writes everything it read back from them)."""
        if self.version == 1:
            db.execute("DROP TABLE documents")
            db.execute("DROP TABLE uploads")
        for statement in SCHEMA.split(";"):  # not executescript: it would commit first
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {VERSION}")

    def close(self) -> None:
        """Close the database, then let go of the lock."""
        try:
            if self._db is not None:
                self._db.close()
                self._db = None
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def _read_2(db: sqlite3.Connection) -> Saved:
    saved = Saved(meta={n: json.loads(d) for n, d in db.execute("SELECT name, doc FROM meta")})
    for part, key, doc in db.execute("SELECT part, key, doc FROM items ORDER BY rowid"):
        saved.items.setdefault(part, []).append((key, json.loads(doc)))
    rows = db.execute("SELECT id, tenant, media_type, expires, data FROM uploads ORDER BY rowid")
    saved.uploads = [Upload(i, bytes(d), m, t, e) for i, t, m, e, d in rows]
    return saved


def _read_1(db: sqlite3.Connection) -> Saved:
    docs = {name: json.loads(doc) for name, doc in db.execute("SELECT name, doc FROM documents")}
    rows = db.execute("SELECT id, tenant, media_type, data FROM uploads ORDER BY rowid")
    return Saved(
        meta={"clock": docs["clock"], "secret": docs["secret"]},
        items={
            "tasks": [(doc["id"], doc) for doc in docs["tasks"]],
            "faults": [(doc["id"], doc) for doc in docs["faults"]],
            "credentials": [("", doc) for doc in docs["credentials"]],
            "recipes": [(key, doc) for key, doc in docs["recipes"]],
        },
        uploads=[Upload(i, bytes(d), m, t) for i, t, m, d in rows],
    )


def _version_1(db: sqlite3.Connection, tables: set[str]) -> bool:
    """A file of the first format: its two tables, and its documents say version 1."""
    if tables != VERSION_1_TABLES:
        return False
    row = db.execute("SELECT doc FROM documents WHERE name = 'version'").fetchone()
    return row is not None and row[0] == "1"


def _lock(path: Path) -> int:
    """An exclusive lock on the file (made if missing), or StateFileError if another holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateFileError(f"cannot open state file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateFileError(
            f"state file {path} is in use by another tryon-mock server; give each server a file of its own"
        ) from None
    return fd
