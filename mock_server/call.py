"""``Call``: one request to a vendor endpoint as a handler sees it: the request and its parsed
parts, the caller's tenant, the fault decided for it, and the engine's ways to read tasks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from contracts.model import Contract, Endpoint, Operation
from contracts.vocabulary import Situation, place_of
from mock_server.errors import VendorError, Violation
from mock_server.faults import Fault
from mock_server.json_body import parse_json
from mock_server.request_params import FORM, query_and_form
from mock_server.state import MockState
from mock_server.store.journal import ANONYMOUS
from mock_server.tasks import UNKNOWN, Task, TaskView
from mock_server.timing import Timing

_NOT_PARSED = object()


def first_values(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as text by name, keeping each name's first value (read from the end, so the
    first assignment is the last)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(raw)}


@dataclass(eq=False)  # a call is itself: hashable by identity (a vendor may key per-call data by it)
class Call:
    """What a handler gets. ``tenant`` is the authenticated caller's (``ANONYMOUS`` only before
    authentication, which every handler runs after)."""

    request: Request
    state: MockState
    contract: Contract
    endpoint: Endpoint
    request_id: str
    body: bytes = b""
    tenant: str = ANONYMOUS
    fault: Fault | None = None
    task_id: str | None = None
    params: Any = None  # a submit's parameters as the vendor module read them (journaled)
    shown: list[dict[str, Any]] | None = None  # the tasks the answer shows (journaled)
    _json: Any = field(default=_NOT_PARSED, repr=False)
    # the request headers by lower-case name, each name's first value (as Starlette's
    # ``Headers.get`` reads them), decoded once by the pipeline: a handler looks several up
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    _fields: dict[bool, dict[str, str]] | None = field(default=None, repr=False)
    _timing: Timing | None = field(default=None, repr=False)

    # -- the request -----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.state.clock.now()

    @property
    def base_url(self) -> str:
        public = self.state.settings.public_url
        if public:
            return public.rstrip("/")
        scope = self.request.scope
        host = self.headers.get("host")
        if not host:  # as Starlette's base_url: the server's address
            server_host, port = scope.get("server") or ("localhost", 80)
            host = f"{server_host}:{port}"
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")

    @property
    def path(self) -> str:
        """The request path (from the scope: cheaper than building Starlette's URL)."""
        path: str = self.request.scope["path"]
        return path

    @property
    def query(self) -> str:
        """The raw query string."""
        query: bytes = self.request.scope["query_string"]
        return query.decode("latin-1")

    @property
    def resolves_stored(self) -> bool:
        """Whether the request may name files of the vendor's own storage: unless the vendor asks
        for a header that says so and it is absent."""
        objects = self.contract.object_urls
        if objects is None or objects.resolve_header is None:
            return True
        name, value = objects.resolve_header
        return self.headers.get(name.lower(), "").lower() == value.lower()

    @property
    def own_host(self) -> str:
        return self.headers.get("host", "")

    def fields(self, with_json: bool = False) -> dict[str, str]:
        """The query's parameters, then a urlencoded form body's, or (``with_json``) a JSON object
        body's, kept as JSON text where they are not strings; the first value of a name wins."""
        if self._fields is None:
            self._fields = {}
        found = self._fields.get(with_json)
        if found is None:
            found = query_and_form(self.query, self.headers.get("content-type", ""), self.body)
            for key, value in self.json_fields().items() if with_json else ():
                found.setdefault(str(key), value if isinstance(value, str) else json.dumps(value))
            self._fields[with_json] = found
        return found

    def json_fields(self) -> dict[str, Any]:
        """A JSON object body's fields ({} for a form, an empty body, or one that is no object)."""
        if not self.body.strip() or self.headers.get("content-type", "").lower().startswith(FORM):
            return {}
        try:
            doc = self.json()
        except VendorError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def json(self) -> Any:
        """The body as JSON; a vendor error (trigger ``body.invalid``) when it is not."""
        if self._json is _NOT_PARSED:
            try:
                self._json = parse_json(self.body)
            except ValueError:
                self._json = None
        if self._json is None:
            raise self.fail("body.invalid")
        return self._json

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object that passes the endpoint's request schema, or the vendor's
        error for what is wrong (``body.empty`` where the vendor has one, ``body.invalid``, or
        the contract's ``request_errors`` rule)."""
        if not self.body.strip() and "body.empty" in self.contract.triggers:
            raise self.fail("body.empty")
        doc = self.json()
        if not isinstance(doc, dict):
            raise self.fail("body.invalid")
        if self.endpoint.request_schema:
            self.validate(doc, self.endpoint.request_schema)
        return doc

    def validate(self, doc: Any, schema_file: str) -> None:
        """Raise the vendor's error for the first violation of a request schema, if any: the one
        way a schema violation becomes a vendor error (the vendor's envelope may name the field
        from the error's ``violation``)."""
        if self.contract.is_valid(schema_file, doc):
            return
        found = self.contract.request_violation(self.contract.validators[schema_file].iter_errors(doc))
        if found:
            error, keyword, pointer = found
            raise VendorError(error, violation=Violation(keyword, pointer))

    def validate_request(self, doc: Any, operation: Operation) -> None:
        """``validate`` a request document of ``operation``: against its request schema, then
        against what each of its options adds for the value the server runs with."""
        chosen = self.state.settings.options.get(self.contract.name, {})
        for schema_file in self.contract.request_schemas(operation, chosen):
            self.validate(doc, schema_file)

    def fail(self, situation: Situation, detail: str = "") -> VendorError:
        return VendorError(self.contract.trigger(situation, self.endpoint), detail)

    # -- tasks -----------------------------------------------------------------------------------

    async def timing(self) -> Timing:
        """The caller's timing profile (read once per call)."""
        if self._timing is None:
            self._timing = await self.state.store.timings.get(self.tenant)
        return self._timing

    async def find(self, task_id: str) -> Task | None:
        """The caller's task of this vendor, while it is kept. A fault its submit left for this
        kind of call is raised instead, once (the answer of the first such call)."""
        timing = self._timing or await self.timing()  # one read of the store per call
        retention = timing.retention(self.contract.retention_seconds)
        task = await self.state.store.tasks.get(self.tenant, self.contract.name, task_id, self.now, retention)
        if task is not None and task.faults:
            await self._raise_deferred(task)
        return task

    async def find_batch(self, batch_id: str) -> list[Task]:
        """The caller's batch of this vendor, while it is kept ([] once it is not); a fault its
        submit left for this kind of call is raised instead, once (it rides on the first task)."""
        timing = self._timing or await self.timing()  # one read of the store per call
        retention = timing.retention(self.contract.retention_seconds)
        tasks = await self.state.store.tasks.group(
            self.tenant, self.contract.name, batch_id, self.now, retention
        )
        if tasks and tasks[0].faults:
            await self._raise_deferred(tasks[0])
        return tasks

    async def poll(self, task: Task) -> TaskView:
        """One vendor query of ``task``: counts toward its progression and is journaled."""
        return self.show(task, await self.state.store.tasks.poll(task, self.now))

    async def look(self, task: Task) -> TaskView:
        """Where ``task`` stands now (no poll counted, nothing journaled)."""
        return await self.state.store.tasks.look(task, self.now)

    def show(self, task: Task, view: TaskView) -> TaskView:
        """Note in the journal that this answer shows ``task`` as ``view``."""
        if self.shown is None:
            self.shown = []
        self.shown.append({"id": task.id, "status": view.status, "stage": view.stage})
        return view

    def unknown(self, task_id: str, status: str) -> None:
        """Note in the journal that this answer shows ``task_id`` as not known to the vendor (a
        forgotten task, or none of the caller's), in the vendor's ``status`` word."""
        if self.shown is None:
            self.shown = []
        self.shown.append({"id": task_id, "status": status, "stage": UNKNOWN})

    async def _raise_deferred(self, task: Task) -> None:
        place = place_of(self.endpoint.kind)
        if place is None:
            return
        error = await self.state.store.tasks.take_fault(task, place)
        if error is not None:
            self.fault = Fault(error=error, at=place, source="deferred")
            raise VendorError(error)

    async def result_urls(self, task: Task, view: TaskView) -> list[str]:
        """The links to a finished task's result images, valid for the tenant's result TTL."""
        timing = self._timing or await self.timing()  # one read of the store per call
        ttl = timing.result_ttl(self.contract.result_ttl_seconds)
        urls = self.state.results.task_urls(task, view, self.base_url, ttl)
        shown = next((s for s in reversed(self.shown or []) if s["id"] == task.id), None)
        if shown is not None:  # the journal keeps the whole links the answer gives
            shown["links"] = urls
        return urls
