"""One request to a vendor endpoint, and the pipeline every vendor shares.

For each request: read the body (bounded), authenticate (the vendor's scheme, giving the
tenant), check the endpoint's required headers, decide the fault (header, rule or magic input),
run the vendor's handler, render any vendor error in the vendor's own envelope, and journal the
exchange. A vendor module supplies only ``authenticate``, ``error_response`` and its handlers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contracts.model import Contract, Endpoint, ErrorCode
from mock_server import faults, network
from mock_server.faults import Fault, FaultSpecError
from mock_server.journal import ANONYMOUS, Entry, body_text, header_text
from mock_server.protocol import body_timed_out, whole_answer
from mock_server.state import MockState
from mock_server.tasks import Task, TaskView

_NOT_PARSED = object()


class VendorError(Exception):
    """Answer this request with a documented vendor error."""

    def __init__(self, error: ErrorCode, **details: Any) -> None:
        super().__init__(error.id)
        self.error = error
        self.details = details


class BodyRefused(Exception):
    """The body could not be read; ``trigger`` names the vendor error that answers it."""

    trigger = "body.invalid"


class BodyTooLarge(BodyRefused):
    trigger = "body.too_large"


class BodyTooSlow(BodyRefused):
    """The body did not arrive within the read deadline (a slow-drip client)."""


MAX_DEPTH = 100  # nesting of arrays and objects a request body may have


def parse_json(raw: bytes) -> Any:
    """JSON from a request body; ValueError for anything that is not: NaN and Infinity (Python
    reads them, JSON has none) and nesting deeper than ``MAX_DEPTH`` included."""
    try:
        doc = orjson.loads(raw)  # the fast path; what it refuses gets the standard library's word
    except orjson.JSONDecodeError:
        try:
            doc = json.loads(raw, parse_constant=_no_constant)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(doc) > MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(doc: Any) -> int:
    """How deep arrays and objects nest in ``doc`` (walked without recursion)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def first_values(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as text by name, keeping each name's first value (read from the end, so the
    first assignment is the last)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(raw)}


def json_response(
    body: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """Compact JSON, UTF-8, with exactly the content type the vendor sends (and ``headers``
    before it, in Starlette's order)."""
    try:
        data = orjson.dumps(body)
    except TypeError:  # a lone surrogate a client sent (and the answer echoes): its JSON escape
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
    raw.append((b"content-length", b"%d" % len(data)))
    raw.append((b"content-type", content_type.encode("latin-1")))
    return Prepared(data, status, raw)


class Prepared(Response):
    """A response whose body and header lines are already bytes: what Starlette's ``Response``
    would send, without its rendering and header checks on every answer."""

    def __init__(self, body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.body, self.status_code, self.raw_headers = body, status_code, raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = whole_answer(scope)  # served by the mock's protocol: the answer in one write
        if whole is None or not whole(scope, self.status_code, self.raw_headers, self.body):
            await super().__call__(scope, receive, send)


@dataclass
class Call:
    """What a handler gets: the request, its parsed parts, and where it stands."""

    request: Request
    state: MockState
    contract: Contract
    endpoint: Endpoint
    request_id: str
    body: bytes = b""
    tenant: str | None = None
    fault: Fault | None = None
    task_id: str | None = None
    scratch: dict[str, Any] = field(default_factory=dict)  # what a vendor module works out once per call
    params: Any = None  # a submit's parameters as the vendor module read them (journaled)
    shown: list[dict[str, Any]] = field(default_factory=list)  # the tasks the answer shows (journaled)
    _json: Any = field(default=_NOT_PARSED, repr=False)
    _headers: dict[str, str] | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The request headers by lower-case name, each name's first value (as Starlette's
        ``Headers.get`` reads them), decoded once: a handler looks several up."""
        if self._headers is None:
            self._headers = first_values(self.request.scope["headers"])
        return self._headers

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
    def own_host(self) -> str:
        return self.headers.get("host", "")

    def json(self) -> Any:
        """The body as JSON; a vendor error (trigger ``body.invalid``) when it is not."""
        if self._json is _NOT_PARSED:
            try:
                self._json = parse_json(self.body)
            except ValueError:
                self._json = None
                raise VendorError(self.contract.trigger("body.invalid")) from None
        if self._json is None:
            raise VendorError(self.contract.trigger("body.invalid"))
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
        """Raise the vendor's error for the first violation of a request schema, if any."""
        if self.contract.is_valid(schema_file, doc):
            return
        error = self.contract.request_error(self.contract.validators[schema_file].iter_errors(doc))
        if error:
            raise VendorError(error)

    def poll(self, task: Task) -> TaskView:
        """One vendor query of ``task``: counts toward its progression and is journaled."""
        return self.show(task, task.poll(self.now))

    def show(self, task: Task, view: TaskView) -> TaskView:
        """Note in the journal that this answer shows ``task`` as ``view``."""
        self.shown.append({"id": task.id, "status": view.status, "stage": view.stage})
        return view

    def fail(self, situation: str, **details: Any) -> VendorError:
        return VendorError(self.contract.trigger(situation), **details)

    def raise_deferred(self, task: Task) -> None:
        """Answer with a fault an earlier submit left for this kind of call on this task."""
        error = task.take_fault(self.endpoint.kind)
        if error is not None:
            self.fault = Fault(error=error, at=self.endpoint.kind, source="deferred")
            raise VendorError(error)

    def marked_item(self, items: Sequence[Any]) -> int:
        """Which item of a batch a task fault hits: the one carrying the magic marker when the
        fault came from one, else the first."""
        if self.fault is not None and self.fault.source == "marker":
            for i, item in enumerate(items):
                if faults.find_marker(faults.strings(item), self.contract, self.endpoint.kind):
                    return i
        return 0

    def deferred_faults(self) -> dict[str, ErrorCode]:
        """Faults injected at this submit that show later: on the task or on its next reads."""
        f = self.fault
        if f is None or f.error is None or f.at in (None, self.endpoint.kind):
            return {}
        return {f.at: f.error}


Handler = Callable[[Call], Awaitable[Response]]


class Vendor:
    """A vendor module: its contract, its auth scheme, its envelope and its handlers."""

    contract: Contract

    def __init__(self, state: MockState) -> None:
        self.state = state

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def authenticate(self, call: Call) -> str:
        """The caller's tenant; raise VendorError for a missing or unknown credential."""
        raise NotImplementedError

    def error_response(self, call: Call, error: ErrorCode, **details: Any) -> Response:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        routes = []
        for endpoint_id, handler in self.handlers().items():
            endpoint = self.contract.endpoint(endpoint_id)
            for path in endpoint.paths:
                routes.append(
                    Route(
                        path,
                        self._wrap(endpoint, handler),
                        methods=[endpoint.method],
                        name=f"{self.contract.name}:{endpoint_id}:{path}",
                    )
                )
        return routes

    def claims(self, request: Request) -> bool:
        """Whether a request to an unknown path looks like this vendor's (by its credentials)."""
        return False

    def fallback(self) -> Callable[[Request], Awaitable[Response]]:
        """Answers unknown paths and methods under the vendor's base path, in its envelope."""
        unknown = Endpoint(
            id="unknown", kind="unknown", method="*", paths=(self.contract.base_path + "/",), responses={}
        )

        async def handler(call: Call) -> Response:
            raise call.fail("route.unknown")

        return self._wrap(unknown, handler)

    def _wrap(self, endpoint: Endpoint, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        state, vendor = self.state, self

        async def run(request: Request) -> Response:
            call = Call(
                request,
                state,
                vendor.contract,
                endpoint,
                request_id=state.ids.uuid(),
                task_id=request.path_params.get("task_id"),
            )
            entry = _entry(call)
            try:
                response = await vendor._answer(call, handler, entry)
                entry.status = response.status_code
            finally:
                entry.tenant = call.tenant or ANONYMOUS
                reset = call.fault is not None and call.fault.network == "reset"
                entry.status = entry.status or (network.RESET_STATUS if reset else 500)
                entry.fault = call.fault.as_dict() if call.fault else None
                entry.task_id = call.task_id
                entry.params = call.params
                entry.tasks = call.shown or None
                state.journal.record(entry)
            if call.fault and call.fault.network == "truncate":
                return network.Truncated(response)
            return response

        return run

    async def _answer(self, call: Call, handler: Handler, entry: Entry) -> Response:
        try:
            call.body = await _read_body(call, self.state.settings.max_body_bytes)
            entry.body, entry.body_bytes = body_text(call.body), len(call.body)
            call.tenant = self.authenticate(call)
            for name, value in call.endpoint.headers.items():
                if call.headers.get(name.lower()) != value:
                    raise call.fail("header.missing", header=name)
            call.fault = self._fault(call)
            if call.fault:
                if call.fault.delay:
                    await asyncio.sleep(call.fault.delay)
                if call.fault.network == "reset":
                    await network.reset(call.request.scope, call.request.receive)
                    return Response(status_code=network.RESET_STATUS)
                if call.fault.error and call.fault.at == call.endpoint.kind:
                    raise VendorError(call.fault.error)
            return await handler(call)
        except VendorError as exc:
            entry.error = exc.error.id
            return self.error_response(call, exc.error, **exc.details)
        except BodyRefused as exc:
            error = self.contract.trigger(exc.trigger)
            entry.error = error.id
            return self.error_response(call, error)
        except FaultSpecError as exc:
            return JSONResponse(
                {"mock_error": str(exc)}, status_code=400, headers={"X-Mock-Error": "bad-fault"}
            )

    def _fault(self, call: Call) -> Fault | None:
        header = call.headers.get(faults.HEADER)
        kind = call.endpoint.kind
        if header:
            return faults.parse_header(header, self.contract, kind)
        rule = self.state.faults.pick(self.contract, call.tenant, call.endpoint.id, kind)
        if rule:
            return rule
        if b"mock-error" in call.body:
            text = call.body.decode("utf-8", "replace")
            return faults.find_marker([text], self.contract, kind)
        return None


def _entry(call: Call) -> Entry:
    req = call.request
    return Entry(
        seq=0,
        time=call.now,
        tenant=ANONYMOUS,
        vendor=call.contract.name,
        endpoint=call.endpoint.id,
        method=req.method,
        path=call.path,
        query=call.query,
        headers=header_text(call.headers.items()),
        body=None,
        body_bytes=0,
        received=time.time(),
    )


async def _read_body(call: Call, limit: int) -> bytes:
    """The whole body, refusing one over ``limit`` bytes or one the protocol cut short at its
    deadline (a slow drip)."""
    request = call.request
    declared = call.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    receive = request.receive  # the ASGI messages themselves: no async generator per request
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if body_timed_out(request.scope):
        raise BodyTooSlow
    return b"".join(chunks)
