"""``create_app(settings)``: the vendors' routes and the admin API on one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from mock_server import admin, scenario
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.vendors import VENDORS


def create_app(settings: Settings | None = None) -> Starlette:
    state = MockState(settings or Settings())
    vendors = [VENDORS[name](state) for name in state.contracts if name in VENDORS]
    routes = admin.Admin(state).routes()
    for vendor in vendors:
        routes.extend(vendor.routes())
    routes.extend(vendor.fallback() for vendor in vendors)
    app = Starlette(routes=routes)
    app.state.mock = state
    if state.settings.scenario:
        scenario.apply(state, scenario.load(state.settings.scenario))
    return app
