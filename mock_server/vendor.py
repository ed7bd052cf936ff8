"""``Vendor``: the request pipeline every vendor shares, and what a vendor module supplies to it.

For each request: read the body (bounded in size and time), authenticate (the vendor's scheme,
giving the tenant), check the endpoint's required headers and the media type its body must be
declared as, decide the fault (header, rule or magic input), run the vendor's handler, render any
vendor error in the vendor's own envelope, journal the exchange, and log its line (``access_log``,
when that logger is on). A vendor module supplies
``authenticate``, ``error_response`` and its handlers, each marked with ``@handles``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import FunctionType
from typing import ClassVar, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts.model import Contract, Endpoint
from contracts.vocabulary import EndpointKind
from mock_server import access_log, faults, limits, network
from mock_server.body import BodyRefused, read_body
from mock_server.call import Call, first_values
from mock_server.errors import VendorError
from mock_server.faults import Fault, FaultSpecError
from mock_server.state import MockState
from mock_server.store.journal import ANONYMOUS, BODY_LIMIT, Entry, body_text, header_text, params_kept
from mock_server.store.rules import Rule

Handler = Callable[[Call], Awaitable[Response]]
RouteEndpoint = Callable[[Request], Awaitable[Response]]
H = TypeVar("H", bound=Callable[..., Awaitable[Response]])
_MARKS: dict[object, tuple[tuple[str, ...], EndpointKind | None]] = {}


def handles(*endpoint_ids: str, kind: EndpointKind | None = None) -> Callable[[H], H]:
    """Mark a vendor method as the handler of these endpoints of its contract (by id), or of
    every endpoint of one ``kind``."""

    def mark(method: H) -> H:
        _MARKS[method] = (endpoint_ids, kind)
        return method

    return mark


class Vendor:
    """A vendor module: its contract, its auth scheme, its envelope and its handlers."""

    contract: ClassVar[Contract]

    def __init__(self, state: MockState) -> None:
        self.state = state

    async def authenticate(self, call: Call) -> str:
        """The caller's tenant; raise VendorError for a missing or unknown credential."""
        raise NotImplementedError

    def error_response(self, call: Call, failure: VendorError) -> Response:
        """The vendor's answer for ``failure`` (its error row, detail and schema violation)."""
        raise NotImplementedError

    def claims(self, request: Request) -> bool:
        """Whether a request to an unknown path looks like this vendor's (by its credentials)."""
        return False

    def handlers(self) -> dict[str, Handler]:
        """Endpoint id -> the method marked ``@handles`` for it, in the contract's order of
        endpoints (the order their routes are matched in)."""
        found: dict[str, Handler] = {}
        for name in dir(type(self)):
            method = getattr(type(self), name, None)
            mark = _MARKS.get(method) if isinstance(method, FunctionType) else None
            if mark is None:
                continue
            ids, kind = mark
            if kind is not None:
                ids = (*ids, *(e.id for e in self.contract.endpoints if e.kind == kind))
            found.update(dict.fromkeys(ids, getattr(self, name)))
        return {e.id: found[e.id] for e in self.contract.endpoints if e.id in found}

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

    def fallback(self) -> RouteEndpoint:
        """Answers unknown paths and methods under the vendor's base path, in its envelope."""
        unknown = Endpoint(
            id="unknown", kind="unknown", method="*", paths=(self.contract.base_path + "/",), responses={}
        )

        async def handler(call: Call) -> Response:
            raise call.fail("route.unknown")

        return self._wrap(unknown, handler)

    # -- the pipeline ----------------------------------------------------------------------------

    def _wrap(self, endpoint: Endpoint, handler: Handler) -> RouteEndpoint:
        state, vendor = self.state, self

        async def run(request: Request) -> Response:
            call = Call(
                request,
                state,
                vendor.contract,
                endpoint,
                request_id=state.ids.uuid(),
                task_id=request.path_params.get("task_id"),
                headers=first_values(request.scope["headers"]),
            )
            entry = _entry(call)
            try:
                response = await vendor._answer(call, handler, entry)
                entry.status = response.status_code
            finally:
                entry.tenant = call.tenant
                reset = call.fault is not None and call.fault.network == "reset"
                entry.status = entry.status or (network.RESET_STATUS if reset else 500)
                entry.fault = call.fault.as_dict() if call.fault else None
                entry.task_id = call.task_id
                params = call.params  # a large request's cut, as its body is not kept either
                if params is not None and entry.body_bytes + len(entry.query) > BODY_LIMIT:
                    params = params_kept(params, call.body)
                entry.params = params
                entry.tasks = call.shown
                await state.store.journal.record(entry)
                if access_log.LOGGER.isEnabledFor(access_log.INFO):
                    access_log.log(entry)
            if call.fault and call.fault.network == "truncate":
                return network.Truncated(response)
            return response

        return run

    async def _answer(self, call: Call, handler: Handler, entry: Entry) -> Response:  # noqa: C901 - one flat pipeline, no coroutine per step
        try:
            scope, settings = call.request.scope, self.state.settings
            declared = call.headers.get("content-length", "")
            receive = call.request.receive
            call.body = await read_body(
                scope, receive, declared, settings.max_body_bytes, settings.body_timeout
            )
            entry.body, entry.body_bytes = body_text(call.body), len(call.body)
            call.tenant = await self.authenticate(call)
            endpoint = call.endpoint
            if call.contract.name in call.state.limited:
                await limits.check_rate(call)
            if endpoint.headers or endpoint.request_media_types:
                _check_headers(call)
            fault = self._header_fault(call)
            if fault is None:  # then a rule (counted as it fires), then a magic input
                rule = await self.state.store.faults.pick(
                    self.contract.name, call.tenant, endpoint.id, endpoint.kind
                )
                fault = self._rule_or_marker_fault(call, rule)
            call.fault = fault
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.network == "reset":
                    await network.reset(scope, receive)
                    return Response(status_code=network.RESET_STATUS)
                if fault.error and fault.at == endpoint.kind:
                    raise VendorError(fault.error)
            return await handler(call)
        except VendorError as failure:
            entry.error = failure.error.id
            return self.error_response(call, failure)
        except BodyRefused as refused:
            unread = call.fail(refused.trigger)
            entry.error = unread.error.id
            return self.error_response(call, unread)
        except FaultSpecError as exc:
            return JSONResponse(
                {"mock_error": str(exc)}, status_code=400, headers={"X-Mock-Error": "bad-fault"}
            )

    def _header_fault(self, call: Call) -> Fault | None:
        """The fault the ``X-Mock-Fault`` header asks for, which wins over rules and markers."""
        header = call.headers.get(faults.HEADER)
        return faults.parse_header(header, self.contract, call.endpoint.kind) if header else None

    def _rule_or_marker_fault(self, call: Call, rule: Rule | None) -> Fault | None:
        """The fault of the rule that fired, else of a magic input in the body."""
        kind = call.endpoint.kind
        if rule is not None:
            return faults.build(rule.spec.fault, self.contract, kind, source=rule.id)
        if b"mock-error" in call.body:
            return faults.find_marker([call.body.decode("utf-8", "replace")], self.contract, kind)
        return None


def _check_headers(call: Call) -> None:
    """The endpoint's required headers, each with its required value; then a body declared
    (Content-Type) as one of the media types the endpoint takes, parameters such as charset and
    case aside (an empty body is left to the body checks)."""
    endpoint = call.endpoint
    for name, value in endpoint.headers.items():
        if call.headers.get(name.lower()) != value:
            raise call.fail("header.missing")
    if endpoint.request_media_types and call.body:
        declared = call.headers.get("content-type", "").partition(";")[0].strip().lower()
        if declared not in endpoint.request_media_types:
            raise call.fail("header.content_type")


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
