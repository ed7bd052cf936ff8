"""What the admin API takes, checked the same way on every route (README "Admin API", errors):

- a malformed request answers 400 naming what is wrong: a body that is no JSON object, a field or
  query parameter the route does not take (the ones it takes listed), a value of the wrong kind
  (``limit must be a whole number >= 1, not "abc"``);
- a vendor or a tenant that does not exist answers 404 naming it, with the ones that do;
- a method the route does not answer gets 405 with ``Allow``.

A tenant exists once credentials are registered for it, or while the mock holds something of it:
tasks, journal entries or fault rules (so a tenant whose credentials were forgotten can still be
read and reset). Filters of what the mock holds (``?tenant=`` on the journal, tasks, rules,
quotas, timing) name no tenant to change: they answer what there is, an empty list for a tenant
with nothing; a tenant to change (timing, faults, scenarios, quotas, uploads, reset) must exist.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server import kinds
from mock_server.state import MockState

SHOWN_TENANTS = 10  # an unknown tenant's answer names this many of those that exist


class AdminError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def route(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def not_allowed(request: Request, allowed: Collection[str]) -> Response:
    """405 for a method the route does not answer, with the ones it does in ``Allow``."""
    methods = sorted(allowed)
    return JSONResponse(
        {"error": f"{route(request)} is not answered: {request.url.path} takes {', '.join(methods)}"},
        status_code=405,
        headers={"Allow": ", ".join(methods)},
    )


def query(request: Request, names: Collection[str]) -> Mapping[str, str]:
    """The query parameters, each one the route takes."""
    params = request.query_params
    unknown = sorted(set(params) - set(names))
    if unknown:
        takes = f"it takes {', '.join(sorted(names))}" if names else "it takes none"
        raise AdminError(f"{route(request)} has no query parameter {', '.join(unknown)}: {takes}")
    return params


async def body(request: Request, fields: Collection[str] | None) -> dict[str, Any]:
    """The JSON object sent, each field one the route takes (``None``: fields checked by the
    caller); ``{}`` for no body."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise AdminError("the body must be JSON") from exc
    if not isinstance(doc, dict):
        raise AdminError("the body must be a JSON object")
    if fields is not None:
        fields_of(request, doc, fields)
    return doc


def fields_of(request: Request, doc: Mapping[str, Any], fields: Collection[str], what: str = "") -> None:
    """Refuse the fields of ``doc`` that are not ``fields``."""
    unknown = sorted(set(doc) - set(fields))
    if unknown:
        raise AdminError(
            f"{route(request)} takes no field {', '.join(unknown)}{what}: "
            f"its fields are {', '.join(sorted(fields))}"
        )


def whole(name: str, raw: str | None, low: int) -> int | None:
    """A query parameter that is a whole number, or None when it is absent or empty."""
    return None if not raw else kinds.parse_whole(name, raw, low)


def served_vendor(state: MockState, name: Any, field: str = "vendor") -> str:
    """A vendor the mock serves (404 naming it and the served ones otherwise)."""
    served = sorted(state.contracts)
    if not isinstance(name, str):
        raise kinds.KindError(field, kinds.one_of(served), name)
    if name not in state.contracts:
        raise AdminError(f"unknown vendor {name!r}: the vendors are {', '.join(served)}", 404)
    return name


async def existing_tenant(state: MockState, name: Any, field: str = "tenant") -> str:
    """A tenant that exists (the module's doc), else 404 naming it and some that do."""
    if not isinstance(name, str) or not name:
        raise kinds.KindError(field, "a tenant's name (a non-empty string)", name)
    store = state.store
    registered = sorted(
        {c["tenant"] for listed in (await store.credentials.listing()).values() for c in listed}
    )
    if name in registered or name in await store.tasks.tenants():
        return name
    if await store.journal.query(tenant=name, limit=1):
        return name
    if any(rule.spec.tenant == name for rule in await store.faults.rules(name)):
        return name
    shown = ", ".join(registered[:SHOWN_TENANTS]) + (
        f" and {len(registered) - SHOWN_TENANTS} more" if len(registered) > SHOWN_TENANTS else ""
    )
    raise AdminError(
        f"unknown tenant {name!r}: a tenant exists once credentials are registered for it "
        f"(POST /_mock/credentials); the registered ones are {shown or 'none'}",
        404,
    )


QUOTA_FIELDS = frozenset({"vendor", "tenant", "api", "pool", "left"})


async def quota_setting(state: MockState, request: Request) -> tuple[tuple[str, str, str, str], int]:
    """``POST /_mock/quota``'s ``{vendor, tenant, api, pool, left}``: the counter's key and units."""
    doc = await body(request, QUOTA_FIELDS)
    missing = ", ".join(sorted(QUOTA_FIELDS - set(doc)))
    if missing:
        raise AdminError(f"a quota is {{vendor, tenant, api, pool, left}}: {missing} missing")
    name = served_vendor(state, doc["vendor"])
    pools = sorted(state.contracts[name].quota)
    if not pools:
        counted = ", ".join(n for n, c in sorted(state.contracts.items()) if c.quota)
        raise AdminError(f"{name} counts no quota: the vendors that do are {counted or 'none'}")
    tenant = await existing_tenant(state, doc["tenant"])
    key = (name, tenant, kinds.text("api", doc["api"]), kinds.text("pool", doc["pool"], pools))
    return key, kinds.whole("left", doc["left"], 0)


async def credentials_doc(state: MockState, request: Request) -> Any:
    """``POST /_mock/credentials``'s ``{vendor: [credential, ...]}``, or the config file's shape
    around it, ``{"credentials": {...}}``; each vendor one the mock serves (the credentials
    themselves are the store's to check)."""
    doc: Any = await body(request, None)
    if "credentials" in doc:
        fields_of(request, doc, {"credentials"}, " beside credentials")
        doc = doc["credentials"]
    for name in doc if isinstance(doc, dict) else ():
        served_vendor(state, name)
    return doc
