"""``create_app(settings)``: the vendors' routes and the admin API on one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mock_server import admin, persistence, scenario
from mock_server.exchange import Vendor
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.vendors import VENDORS

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def create_app(settings: Settings | None = None) -> Starlette:
    state = MockState(settings or Settings())
    vendors = [cls(state) for name, cls in VENDORS.items() if name in state.contracts]
    routes = [route for vendor in vendors for route in vendor.routes()]  # the hot paths match first
    routes += admin.Admin(state).routes()
    routes.append(_fallback(vendors))
    app = Starlette(routes=routes)
    app.state.mock = state
    if state.settings.state_file:
        app.state.state_file = persistence.open_into(state, state.settings.state_file)
    if state.settings.scenario:
        scenario.apply(state, scenario.load(state.settings.scenario))
    return app


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
