"""The tasks of every tenant, in memory: each tenant's tasks of each vendor bounded (oldest evicted
first), their progress changed only here, and those ended longer ago than retention forgotten."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from contracts.model import Contract, ErrorCode
from contracts.vocabulary import Place
from mock_server.bounded import Bounded
from mock_server.store.changes import Changes, Tracker
from mock_server.tasks import UNREAD, Progress, Task, TaskView

Shelf = tuple[str, str]  # tenant, vendor


class MemoryTasks:
    """Tasks by tenant and vendor, at most ``per_tenant`` of each (oldest evicted first);
    ``on_forget`` hears of every task that leaves (evicted, expired, cleared)."""

    def __init__(self, per_tenant: int = 10_000, on_forget: Callable[[Task], None] | None = None) -> None:
        self.per_tenant = per_tenant
        self._on_forget = on_forget
        self._shelves: dict[Shelf, Bounded[str, Task]] = {}
        self._progress: dict[str, Progress] = {}
        self._by_id: dict[str, Task] = {}
        self._groups: dict[tuple[str, str, str], list[Task]] = {}
        self._tracker = Tracker()

    async def add(self, task: Task) -> None:
        shelf = self._shelves.get((task.tenant, task.vendor))
        if shelf is None:
            shelf = Bounded(self.per_tenant, on_evict=lambda _, old: self._forget(old))
            self._shelves[(task.tenant, task.vendor)] = shelf
        self._by_id[task.id] = task
        if task.group is not None:
            self._groups.setdefault((task.tenant, task.vendor, task.group), []).append(task)
        shelf.put(task.id, task)
        self._tracker.mark(task.id)

    async def get(self, tenant: str, vendor: str, task_id: str, now: float, retention: float) -> Task | None:
        """A tenant's task of this vendor, unless it ended more than ``retention`` seconds ago."""
        shelf = self._shelves.get((tenant, vendor))
        task = shelf.get(task_id) if shelf is not None else None
        if task is None or self._expired(task, now, retention):
            return None
        return task

    async def group(self, tenant: str, vendor: str, group: str, now: float, retention: float) -> list[Task]:
        """The tasks of one batch, in submission order. A batch is kept whole until every one of
        its tasks is past retention, then forgotten whole ([])."""
        members = list(self._groups.get((tenant, vendor, group), []))
        if members and all(self._past(t, now, retention) for t in members):
            for task in members:
                self._drop(task)
            return []
        return members

    async def find(self, task_id: str) -> Task | None:
        """A task by id whatever its tenant (for presigned result links)."""
        return self._by_id.get(task_id)

    async def of(self, tenant: str, vendor: str | None, now: float, retention: float) -> list[Task]:
        """A tenant's tasks (of one vendor, or of all), each vendor's in submission order."""
        shelves = [s for (t, v), s in self._shelves.items() if t == tenant and vendor in (None, v)]
        return [
            task for shelf in shelves for task in shelf.values() if not self._expired(task, now, retention)
        ]

    async def look(self, task: Task, now: float) -> TaskView:
        """Where the task stands (no poll counted)."""
        return task.view(self._progress.get(task.id, UNREAD), now)

    async def poll(self, task: Task, now: float) -> TaskView:
        """One vendor query of the task: counted toward poll progression, then read."""
        progress = self._progress_of(task)
        progress.polls += 1
        self._tracker.mark(task.id)
        task.observe(progress, now)
        return task.view(progress, now)

    async def cancel(self, task: Task, now: float) -> bool:
        """Cancel the task if it is in a cancelable status now."""
        progress = self._progress_of(task)
        if task.view(progress, now).status not in task.lifecycle.cancelable:
            return False
        progress.canceled_at = now
        self._tracker.mark(task.id)
        return True

    async def take_fault(self, task: Task, place: Place) -> ErrorCode | None:
        """The fault the submit left for this kind of read, once."""
        fault = self._progress_of(task).faults.pop(place, None)
        if fault is not None:
            self._tracker.mark(task.id)
        return fault

    async def tenants(self) -> list[str]:
        return list(dict.fromkeys(tenant for tenant, _ in self._shelves))

    async def count(self) -> int:
        return len(self._by_id)

    async def clear(self, tenant: str | None = None) -> None:
        for (owner, vendor), shelf in list(self._shelves.items()):
            if tenant is None or owner == tenant:
                for task in shelf.values():
                    self._forget(task)
                del self._shelves[(owner, vendor)]

    async def changes(self) -> Changes[dict[str, Any]]:
        """The tasks added or changed (each with its progress, as a document) and the ids gone
        since the last call; the first call: every task (and from then on, changes are noted)."""
        return self._tracker.take(lambda: self._by_id, self._doc_of)

    async def restore(self, docs: Iterable[Mapping[str, Any]], contracts: Mapping[str, Contract]) -> None:
        """Put exported tasks back (those of vendors not in ``contracts`` stay out), not as changes."""
        for doc in docs:
            contract = contracts.get(doc["vendor"])
            if contract is None:
                continue
            task = Task.from_doc(doc, contract)
            await self.add(task)
            self._tracker.unmark(task.id)
            self._progress[task.id] = Progress.from_doc(doc, contract)

    def _doc(self, task: Task) -> dict[str, Any]:
        return {**task.to_doc(), **(self._progress.get(task.id) or task.start()).to_doc()}

    def _doc_of(self, task_id: str) -> dict[str, Any] | None:
        task = self._by_id.get(task_id)
        return None if task is None else self._doc(task)

    def _progress_of(self, task: Task) -> Progress:
        """The task's progress, to change: made at its first read that changes it (a submit
        makes none); a task forgotten meanwhile gets one that goes nowhere."""
        progress = self._progress.get(task.id)
        if progress is None:
            progress = task.start()
            if task.id in self._by_id:
                self._progress[task.id] = progress
        return progress

    def _past(self, task: Task, now: float, retention: float) -> bool:
        ended = task.view(self._progress.get(task.id, UNREAD), now).ended
        return ended is not None and now - ended > retention

    def _expired(self, task: Task, now: float, retention: float) -> bool:
        if not self._past(task, now, retention):
            return False
        self._drop(task)
        return True

    def _drop(self, task: Task) -> None:
        shelf = self._shelves.get((task.tenant, task.vendor))
        if shelf is not None and shelf.pop(task.id) is not None:
            self._forget(task)

    def _forget(self, task: Task) -> None:
        self._tracker.drop(task.id)
        self._by_id.pop(task.id, None)
        self._progress.pop(task.id, None)
        if self._on_forget is not None:
            self._on_forget(task)
        if task.group is None:
            return
        key = (task.tenant, task.vendor, task.group)
        members = [t for t in self._groups.get(key, []) if t is not task]
        if members:
            self._groups[key] = members
        else:
            self._groups.pop(key, None)
