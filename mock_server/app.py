"""``create_app(settings)``: the vendors' routes and the admin API on one Starlette app, its state
prepared (credentials, the state file, the scenario) before it answers anything."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from mock_server import admin, persistence, scenario
from mock_server.persistence import Saver
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.store import credentials
from mock_server.vendor import Vendor
from mock_server.vendors import VENDORS

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
T = TypeVar("T")


def create_app(settings: Settings | None = None) -> Starlette:
    state = MockState(settings or Settings())
    vendors = [cls(state) for name, cls in VENDORS.items() if name in state.contracts]
    hot = [route for vendor in vendors for route in vendor.routes()]  # matched first
    app = MockApp(routes=[*hot, *admin.Admin(state).routes(), _fallback(vendors)])
    app.take_exact(hot)
    app.state.mock = state
    saver = run_to_end(prepare(state))
    if saver is not None:
        app.state.saver = saver
    return app


async def prepare(state: MockState) -> Saver | None:
    """Fill a new state: the default and configured credentials, what the state file holds (the
    file kept open, and locked, by its saver), then the configured scenario."""
    settings, store = state.settings, state.store
    if settings.default_credentials:
        await store.credentials.load(credentials.defaults(state.contracts))
    await store.credentials.load(settings.credentials)
    saver = await persistence.open_into(state, settings.state_file) if settings.state_file else None
    try:
        if settings.scenario:
            await scenario.apply(state, scenario.load(settings.scenario))
    except BaseException:
        if saver is not None:
            saver.close()
        raise
    return saver


def run_to_end(work: Coroutine[Any, Any, T]) -> T:
    """Run start-up work to its end on an event loop of its own, in a worker thread: the same
    whether or not the caller runs a loop (a store that binds to a loop connects lazily)."""
    with ThreadPoolExecutor(1, thread_name_prefix="tryon-mock-start") as pool:
        return pool.submit(asyncio.run, work).result()


Endpoint = Callable[[Request], Awaitable[Response]]


class MockApp(Starlette):
    """Starlette, with the vendors' routes called straight away: fixed paths looked up in a
    dict, paths with parameters (a DashScope task) matched against the vendors' routes alone.
    The same endpoint Starlette's router would reach, without walking its middleware and whole
    route list. The admin API, unknown paths and a vendor path asked with the wrong method take
    Starlette's way. An exception escaping an endpoint reaches uvicorn, which answers the same
    plain 500 Starlette's error middleware would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exact: dict[tuple[str, str], Endpoint] = {}
        self.patterned: list[Route] = []

    def take_exact(self, routes: list[Route]) -> None:
        """Serve these routes first (the first route of a method and path wins, as in
        Starlette's router): fixed paths by lookup, the others by matching in order."""
        for route in routes:
            if "{" in route.path:
                self.patterned.append(route)
                continue
            for method in route.methods or ():
                self.exact.setdefault((method, route.path), route.endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        endpoint = self.exact.get((scope["method"], scope["path"]))
        if endpoint is None:
            endpoint = self._match(scope)
            if endpoint is None:
                await super().__call__(scope, receive, send)
                return
        else:
            scope["path_params"] = {}
        scope["app"] = self
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> Endpoint | None:
        """The first vendor route with parameters that matches path and method (its parameters
        go into the scope), or None."""
        for route in self.patterned:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                return route.endpoint
        return None


def _fallback(vendors: list[Vendor]) -> Route:
    """One catch-all for paths no route knows. Among the vendors whose base path starts the path
    (the longest first), the one whose credentials the request carries answers, in its own
    envelope; else the first of them; a path under no vendor gets a plain 404."""
    answers = [(vendor, vendor.fallback()) for vendor in vendors]
    answers.sort(key=lambda pair: -len(pair[0].contract.base_path))

    async def run(request: Request) -> Response:
        path = request.url.path
        under = [(v, a) for v, a in answers if path.startswith(v.contract.base_path + "/")]
        if not under:
            return PlainTextResponse("Not Found", status_code=404)
        answer = next((a for v, a in under if v.claims(request)), under[0][1])
        return await answer(request)

    return Route("/{rest:path}", run, methods=METHODS)
