"""Keeping a state file (``mock_server.state_file``) current: tasks, credentials, fault rules,
uploads, result recipes and the mock clock survive a restart of the server.

The in-memory store stays the truth while the server runs. Its parts note what changes (a mark
per change, the only work a request pays); every ``INTERVAL`` a ``Saver`` takes the changes on the
event loop (documents of what changed, no more) and writes them in one transaction in a worker
thread. So the cost follows the change, not the size of the state, and a ``kill -9`` loses at
most what changed in the last interval and the write under way. The server saves a last time when
it stops; a write that fails is tried again, folded into the next.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio

from mock_server.state import MockState
from mock_server.state_file import VERSION, Batch, Saved, StateFile, StateFileError
from mock_server.store.changes import Changes
from mock_server.store.recipes import Recipe

INTERVAL = 0.5  # seconds between two looks for changes
log = logging.getLogger("tryon_mock.persistence")


class Saver:
    """Writes what changed in one state to its file."""

    def __init__(self, state: MockState, file: StateFile) -> None:
        self.state, self.file = state, file
        self._written: dict[str, Any] = {}  # the meta documents as last handed to the file
        self._pending = Batch()  # what a failed write held
        self._failing = False
        self.restored = f"state file {file.path}: new"  # what start-up found in it, in words

    async def take(self) -> Batch:
        """What changed since the last take (the first take: everything), as documents."""
        store, clock = self.state.store, self.state.clock
        recipes = await store.recipes.changes()
        batch = Batch(
            items={
                "tasks": await store.tasks.changes(),
                "faults": await store.faults.changes(),
                "credentials": await store.credentials.changes(),
                "recipes": Changes({k: r.to_doc() for k, r in recipes.put.items()}, recipes.gone),
            },
            uploads=await store.uploads.changes(),
        )
        # a real-time clock is not resumed: its reading is worth no write
        now = clock.now() if clock.speed != 1 else None
        meta = {"clock": {"now": now, "speed": clock.speed}, "secret": store.recipes.secret.hex()}
        batch.meta = {name: doc for name, doc in meta.items() if self._written.get(name) != doc}
        self._written.update(batch.meta)
        return batch

    async def save(self) -> None:
        """Write what changed (off the event loop); a failed write is kept for the next."""
        batch, self._pending = self._pending, Batch()
        batch.then(await self.take())
        if not batch:
            return
        try:
            await anyio.to_thread.run_sync(self.file.write, batch)
        except Exception as exc:  # the disk is full or gone: keep serving, try again
            if not self._failing:
                log.warning("cannot write state file %s (%s); trying again", self.file.path, exc)
            self._failing, self._pending = True, batch
            return
        if self._failing:
            log.warning("state file %s written again", self.file.path)
        self._failing = False

    async def run(self, interval: float = INTERVAL) -> None:
        """Save every ``interval`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.save()

    def close(self) -> None:
        self.file.close()


async def restore(state: MockState, saved: Saved) -> None:
    """Put what a file holds into a fresh state (its credentials are added to the configured ones);
    what belongs to a vendor this server does not serve stays out (and stays in the file)."""
    store, served, items = state.store, state.contracts, saved.items
    clock = saved.meta.get("clock")
    if clock is not None and clock["speed"] != 1:  # a real-time clock goes on from now
        state.clock.resume(clock["now"], clock["speed"])
    credentials: dict[str, list[dict[str, str]]] = {}
    for _, cred in items.get("credentials", []):
        if cred["vendor"] in served:
            credentials.setdefault(cred["vendor"], []).append({**cred["fields"], "tenant": cred["tenant"]})
    await store.credentials.load(credentials)
    await store.tasks.restore((doc for _, doc in items.get("tasks", [])), served)
    if "secret" in saved.meta:
        recipes = [(key, Recipe.from_doc(doc)) for key, doc in items.get("recipes", [])]
        await store.recipes.restore(bytes.fromhex(saved.meta["secret"]), recipes)
    await store.faults.restore((doc for _, doc in items.get("faults", [])), served)
    await store.uploads.restore(saved.uploads)


async def open_into(state: MockState, path: str | Path) -> Saver:
    """Open (or create) the state file, load what it holds into ``state``, and write what start-up
    put there (configured credentials; for a new or version-1 file, everything, in the current
    format). StateFileError, with the file closed, if it cannot be used."""
    file = StateFile(path)
    saver = Saver(state, file)
    try:
        with _collector_paused():
            saved = file.read()
            # A file of this format holds what it holds: changes are noted from before it comes
            # back (which is no change). Anything else is written whole, in this format.
            first = await saver.take() if file.version == VERSION else Batch()
            await restore(state, saved)
            if saved.meta or saved.items or saved.uploads:
                saver.restored = await _restored(state, file.path)
            first.then(await saver.take())
        await anyio.to_thread.run_sync(file.write, first)
    except StateFileError:
        file.close()
        raise
    except (KeyError, TypeError, ValueError) as exc:
        file.close()
        raise StateFileError(f"state file {path} cannot be read back ({exc!r}); it is left as it is") from exc
    except (sqlite3.Error, OSError) as exc:
        file.close()
        raise StateFileError(f"cannot write state file {path}: {exc}") from exc
    except BaseException:
        file.close()
        raise
    return saver


async def _restored(state: MockState, path: Path) -> str:
    """What a fresh state holds once a file came back into it, in words for the start-up."""
    store = state.store
    tasks, tenants = await store.tasks.count(), len(await store.tasks.tenants())
    counts = [
        _counted(tasks, "task") + (f" of {_counted(tenants, 'tenant')}" if tasks else ""),
        _counted(len(await store.faults.rules()), "fault rule"),
        _counted(len(await store.uploads.all()), "upload"),
    ]
    return f"state file {path}: restored {', '.join(counts)}"


def _counted(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a file's rows become objects: they all live on, and each
    collection would walk the ones made so far again (at 30,000 tasks, two thirds of the time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
