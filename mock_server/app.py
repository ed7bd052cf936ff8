"""``create_app(settings)``: the vendors' routes and the admin API on one Starlette app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server import admin, scenario
from mock_server.exchange import Vendor
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.vendors import VENDORS

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def create_app(settings: Settings | None = None) -> Starlette:
    state = MockState(settings or Settings())
    vendors = [cls(state) for name, cls in VENDORS.items() if name in state.contracts]
    routes = admin.Admin(state).routes()
    for vendor in vendors:
        routes.extend(vendor.routes())
    routes.extend(_fallbacks(vendors))
    app = Starlette(routes=routes)
    app.state.mock = state
    if state.settings.scenario:
        scenario.apply(state, scenario.load(state.settings.scenario))
    return app


def _fallbacks(vendors: list[Vendor]) -> list[Route]:
    """One catch-all per base path. Vendors that share a base path split its unknown paths by
    whose credentials the request carries; the first registered answers the rest."""
    by_base: dict[str, list[Vendor]] = {}
    for vendor in vendors:
        by_base.setdefault(vendor.contract.base_path, []).append(vendor)
    return [
        Route(base + "/{rest:path}", _dispatch(group), methods=METHODS) for base, group in by_base.items()
    ]


def _dispatch(group: list[Vendor]) -> Callable[[Request], Awaitable[Response]]:
    answers = [(vendor, vendor.fallback()) for vendor in group]

    async def run(request: Request) -> Response:
        answer = next((a for v, a in answers if v.claims(request)), answers[0][1])
        return await answer(request)

    return run
