"""The mock's mutable state, behind one small interface per part: the seam a shared store (say
Redis, for several workers and replicas) implements beside the in-memory one.

Every part is read and changed only through these methods; nobody reaches into a part's insides.
Each method is a coroutine, so that an implementation may talk to a server; the memory parts
answer without suspending. Where a vendor is atomic the interface is too: ``Nonces.take`` accepts
a nonce once (or says there is no room to remember it), ``Quotas.take`` spends only units that
are left, ``RateWindows.allow`` counts and decides in one step, ``FaultRules.pick`` counts a rule's
firing with its decision, ``Tasks.poll`` counts a poll with its read, and ``Credentials.load``
keeps a batch whole or not at all.

The parts a state file keeps (tasks, fault rules, credentials, uploads, recipes) say what changed
since they were last asked (``changes``: the first call returns everything, and turns the noting
on), and take back what was saved (``restore``, which is no change).

What stays per process is not here: caches of image facts and verdicts, drawn result images and
shared timelines (each is rebuilt from what is here), and the clock's reading (``clock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.model import Contract, ErrorCode
from contracts.vocabulary import Place
from mock_server.store.changes import Changes
from mock_server.store.credentials import Credential, MemoryCredentials
from mock_server.store.journal import Entry, MemoryJournal
from mock_server.store.nonces import Clocks, MemoryNonces, Taken
from mock_server.store.quotas import Key as QuotaKey
from mock_server.store.quotas import MemoryQuotas
from mock_server.store.rates import Key as RateKey
from mock_server.store.rates import MemoryRates
from mock_server.store.recipes import MemoryRecipes, Recipe
from mock_server.store.rules import MemoryRules, Rule, RuleSpec
from mock_server.store.tasks import MemoryTasks
from mock_server.store.timings import MemoryTimings
from mock_server.store.uploads import MemoryUploads, Upload
from mock_server.tasks import Task, TaskView
from mock_server.timing import Timing


class Tasks(Protocol):
    async def add(self, task: Task) -> None: ...
    async def get(
        self, tenant: str, vendor: str, task_id: str, now: float, retention: float
    ) -> Task | None: ...
    async def group(
        self, tenant: str, vendor: str, group: str, now: float, retention: float
    ) -> list[Task]: ...
    async def find(self, task_id: str) -> Task | None: ...
    async def of(self, tenant: str, vendor: str | None, now: float, retention: float) -> list[Task]: ...
    async def look(self, task: Task, now: float) -> TaskView: ...
    async def poll(self, task: Task, now: float) -> TaskView: ...
    async def cancel(self, task: Task, now: float) -> bool: ...
    async def take_fault(self, task: Task, place: Place) -> ErrorCode | None: ...
    async def tenants(self) -> list[str]: ...
    async def count(self) -> int: ...
    async def clear(self, tenant: str | None = None) -> None: ...
    async def changes(self) -> Changes[dict[str, Any]]: ...
    async def restore(self, docs: Iterable[Mapping[str, Any]], contracts: Mapping[str, Contract]) -> None: ...


class Journal(Protocol):
    async def record(self, entry: Entry) -> None: ...
    async def query(
        self,
        tenant: str | None = None,
        vendor: str | None = None,
        endpoint: str | None = None,
        since: int = 0,
        limit: int | None = None,
    ) -> list[Entry]: ...
    async def clear(self, tenant: str | None = None) -> None: ...
    async def last_seq(self) -> int: ...
    async def size(self) -> int: ...


class Nonces(Protocol):
    async def seen(self, key: str, nonce: str, clocks: Clocks) -> bool: ...
    async def take(self, key: str, nonce: str, clocks: Clocks) -> Taken: ...


class FaultRules(Protocol):
    async def add(self, spec: RuleSpec) -> Rule: ...
    async def replace(self, scope: str | None, specs: Iterable[RuleSpec]) -> list[Rule]: ...
    async def pick(self, vendor: str, tenant: str, endpoint: str, kind: str) -> Rule | None: ...
    async def rules(self, tenant: str | None = None) -> list[Rule]: ...
    async def clear(self, tenant: str | None = None) -> None: ...
    async def changes(self) -> Changes[dict[str, Any]]: ...
    async def restore(self, docs: Iterable[Mapping[str, Any]], vendors: Iterable[str]) -> None: ...


class Quotas(Protocol):
    async def left(self, key: QuotaKey, defaults: Mapping[str, int]) -> int: ...
    async def take(self, key: QuotaKey, units: int, defaults: Mapping[str, int]) -> bool: ...
    async def set(self, key: QuotaKey, units: int) -> None: ...
    async def listing(self, tenant: str | None = None) -> list[dict[str, object]]: ...
    async def clear(self, tenant: str | None = None) -> None: ...


class RateWindows(Protocol):
    async def allow(self, key: RateKey, now: float, limit: int, per: float) -> bool: ...
    async def clear(self, tenant: str | None = None) -> None: ...


class Credentials(Protocol):
    limit: int  # credentials per vendor

    async def load(self, doc: Any) -> list[str]:
        """Register a batch all or nothing: a batch with a bad entry, or more new keys than a
        vendor has room for, changes nothing (CredentialError)."""
        ...

    async def get(self, vendor: str, key: str) -> Credential | None: ...
    async def forget(self, tenant: str) -> int: ...
    async def listing(self) -> dict[str, list[dict[str, Any]]]: ...
    async def changes(self) -> Changes[dict[str, Any]]: ...


class Uploads(Protocol):
    max_file: int

    async def put(self, upload: Upload) -> Upload: ...
    async def get(self, upload_id: str) -> Upload | None: ...
    async def all(self) -> list[Upload]: ...
    async def clear(self, tenant: str | None = None) -> None: ...
    async def changes(self) -> Changes[Upload]: ...
    async def restore(self, uploads: list[Upload]) -> None: ...


class Timings(Protocol):
    async def get(self, tenant: str | None) -> Timing: ...
    async def set(self, tenant: str | None, timing: Timing) -> None: ...
    async def clear(self, tenant: str | None = None) -> None: ...


class Recipes(Protocol):
    @property
    def secret(self) -> bytes: ...

    async def add(self, key: str, recipe: Recipe) -> None: ...
    async def get(self, key: str) -> Recipe | None: ...
    async def drop(self, key: str) -> None: ...
    async def clear(self) -> None: ...
    async def changes(self) -> Changes[Recipe]: ...
    async def restore(self, secret: bytes, recipes: list[tuple[str, Recipe]]) -> None: ...


@dataclass(frozen=True)
class Store:
    """Every mutable part of one mock's state."""

    tasks: Tasks
    journal: Journal
    nonces: Nonces
    faults: FaultRules
    quotas: Quotas
    rates: RateWindows
    credentials: Credentials
    uploads: Uploads
    timings: Timings
    recipes: Recipes

    async def reset(self, tenant: str | None = None) -> None:
        """Forget one tenant's tasks, journal, fault rules, uploads, quotas, rate windows and
        timing, or everyone's (then result recipes too). Credentials stay."""
        await self.tasks.clear(tenant)
        await self.journal.clear(tenant)
        await self.faults.clear(tenant)
        await self.uploads.clear(tenant)
        await self.quotas.clear(tenant)
        await self.rates.clear(tenant)
        await self.timings.clear(tenant)
        if tenant is None:
            await self.recipes.clear()


def memory(
    contracts: Mapping[str, Contract],
    *,
    timing: Timing,
    seed: int | None,
    tasks_per_tenant: int,
    journal_per_tenant: int,
    nonces_per_key: int,
    nonces_in_all: int,
    on_forget: Callable[[Task], None] | None = None,
) -> Store:
    """The in-memory store: one process's state, bounded part by part."""
    return Store(
        tasks=MemoryTasks(per_tenant=tasks_per_tenant, on_forget=on_forget),
        journal=MemoryJournal(per_tenant=journal_per_tenant),
        nonces=MemoryNonces(per_key=nonces_per_key, in_all=nonces_in_all),
        faults=MemoryRules(seed=seed),
        quotas=MemoryQuotas(),
        rates=MemoryRates(),
        credentials=MemoryCredentials(contracts),
        uploads=MemoryUploads(),
        timings=MemoryTimings(timing),
        recipes=MemoryRecipes(),
    )
