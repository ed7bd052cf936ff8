"""The mock's own control surface, all under ``/_mock/``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import fields
from urllib.parse import parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import contracts
from mock_server import assets, faults, images, kinds, openapi, results, scenario
from mock_server.admin_input import (
    AdminError,
    body,
    credentials_doc,
    existing_tenant,
    fields_of,
    not_allowed,
    query,
    quota_setting,
    served_vendor,
    whole,
)
from mock_server.admission import Admission
from mock_server.answers import json_response
from mock_server.faults import FaultSpecError
from mock_server.results import OSS_ERRORS, gmt, oss_error
from mock_server.scenario import ScenarioError
from mock_server.state import MockState
from mock_server.store.credentials import CredentialError
from mock_server.store.rules import RuleLimit
from mock_server.store.uploads import Upload, UploadTooLarge
from mock_server.tasks import SUCCEEDED
from mock_server.timing import Timing

PREFIX = "/_mock"
TIMING_FIELDS = frozenset(f.name for f in fields(Timing))
SCENARIO_FIELDS = frozenset({"name", "description", "timing", "faults"})  # scenario.schema.json
# What clients anywhere may read: sample assets, uploads and result images (links they are given),
# health, contracts and OpenAPI documents. The rest controls the mock (``admission``).
PUBLIC = frozenset(
    {"/health", "/contracts", "/contracts/{vendor}", "/openapi/{vendor}.json", "/assets", "/assets/{name}"}
    | {"/uploads/{name}", "/results/{key}.png"}
)
RAW_BODY = frozenset({"/uploads"})  # control routes whose body is no JSON (an image)
MEDIA_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "BMP": "image/bmp",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
}


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
Endpoint = Callable[[Request], Awaitable[Response]]


def _guard(
    fn: Endpoint, methods: Collection[str], admission: Admission | None = None, json_body: bool = False
) -> Endpoint:
    """The endpoint, for its ``methods`` (405 for the others), behind ``admission`` for a control
    route, its errors as the admin API's."""
    allowed = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())

    async def run(request: Request) -> Response:
        if request.method not in allowed:
            return not_allowed(request, allowed)
        refused = admission.refusal(request, json_body) if admission else None
        if refused is not None:
            return refused
        try:
            return await fn(request)
        except (
            AdminError,
            FaultSpecError,
            RuleLimit,
            CredentialError,
            ScenarioError,
            UploadTooLarge,
            ValueError,
        ) as exc:
            status = exc.status if isinstance(exc, AdminError) else 400
            return JSONResponse({"error": str(exc)}, status_code=status)

    return run


class Admin:
    """The admin routes over one mock's state."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.store = state.store

    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "vendors": sorted(self.state.contracts),
                "clock": self.state.clock.snapshot(),
                "tasks": await self.store.tasks.count(),
                "journal": await self.store.journal.size(),
            }
        )

    async def reset(self, request: Request) -> Response:
        given = query(request, {"tenant"}).get("tenant")
        named = (await body(request, {"tenant"})).get("tenant") or given
        who = None if named is None else await existing_tenant(self.state, named)
        await self.state.reset(who)
        return JSONResponse({"reset": who or "all"})

    async def journal(self, request: Request) -> Response:
        q = query(request, {"tenant", "vendor", "endpoint", "since", "limit"})
        entries = await self.store.journal.query(
            tenant=q.get("tenant"),
            vendor=served_vendor(self.state, q["vendor"]) if q.get("vendor") else None,
            endpoint=q.get("endpoint"),
            since=whole("since", q.get("since"), 0) or 0,
            limit=whole("limit", q.get("limit"), 1),
        )
        return json_response({"entries": [e.as_dict() for e in entries]})  # echoes what clients sent

    async def tasks(self, request: Request) -> Response:
        q = query(request, {"tenant", "vendor"})
        only = served_vendor(self.state, q["vendor"]) if q.get("vendor") else None
        now = self.state.clock.now()
        tenants = [q["tenant"]] if q.get("tenant") else await self.store.tasks.tenants()
        rows = []
        for tenant in tenants:
            for task in await self.store.tasks.of(tenant, only, now, float("inf")):
                view = await self.store.tasks.look(task, now)
                rows.append(
                    {
                        "id": task.id,
                        "tenant": task.tenant,
                        "vendor": task.vendor,
                        "operation": task.operation,
                        "status": view.status,
                        "stage": view.stage,
                        "created": task.created,
                        "ended": view.ended,
                        "polls": view.polls,
                        "error": view.error.id if view.error else None,
                        "group": task.group,
                        "results": [results.path(key) for key in results.result_keys(task)]
                        if view.stage == SUCCEEDED
                        else [],
                    }
                )
        return JSONResponse({"tasks": rows})

    async def clock(self, request: Request) -> Response:
        query(request, ())
        if request.method == "POST":
            doc = await body(request, {"speed", "advance", "set"})
            clock = self.state.clock
            if "speed" in doc:
                clock.set_speed(kinds.number("speed", doc["speed"], 0))
            if "advance" in doc:
                clock.advance(kinds.number("advance", doc["advance"], 0))
            if "set" in doc:
                clock.set(kinds.number("set", doc["set"]))  # forward only
        return JSONResponse(self.state.clock.snapshot())

    async def timing(self, request: Request) -> Response:
        given = query(request, {"tenant"}).get("tenant")
        doc = await body(request, {"tenant", *TIMING_FIELDS})
        named = doc.pop("tenant", None) or given
        if request.method == "POST":
            who = None if named is None else await existing_tenant(self.state, named)
            await self.state.set_timing(who, doc)
        return JSONResponse((await self.state.timing(named)).as_dict())

    async def faults(self, request: Request) -> Response:
        named = query(request, {"tenant"}).get("tenant")
        if request.method == "POST":
            raw = await request.body()
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                raise AdminError("the body must be a rule or a list of rules") from exc
            rules = doc if isinstance(doc, list) else [doc]
            if not all(isinstance(r, dict) for r in rules):
                raise AdminError("a rule is a JSON object")
            for rule in rules:
                fields_of(request, rule, faults.RULE_FIELDS | faults.FAULT_FIELDS, " in a rule")
                if rule.get("vendor") is not None:
                    served_vendor(self.state, rule["vendor"])
                if rule.get("tenant") is not None:
                    await existing_tenant(self.state, rule["tenant"])
            specs = [faults.parse_rule(r, self.state.contracts) for r in rules]
            made = [await self.store.faults.add(spec) for spec in specs]
            return JSONResponse({"rules": [r.as_dict() for r in made]}, status_code=201)
        if request.method == "DELETE":
            await self.store.faults.clear(None if named is None else await existing_tenant(self.state, named))
        return JSONResponse({"rules": [r.as_dict() for r in await self.store.faults.rules(named)]})

    async def scenarios(self, request: Request) -> Response:
        named = query(request, {"tenant"}).get("tenant")
        if request.method == "POST":
            doc = await body(request, {"tenant", *SCENARIO_FIELDS})
            named = doc.pop("tenant", None) or named
            who = None if named is None else await existing_tenant(self.state, named)
            await scenario.apply(self.state, doc, who)
            return JSONResponse({"applied": doc["name"], "tenant": who})
        return JSONResponse(
            {
                "scenarios": [
                    {"name": n, "description": scenario.load(n)["description"]} for n in scenario.names()
                ]
            }
        )

    async def scenario_load(self, request: Request) -> Response:
        name = request.path_params["name"]
        given = query(request, {"tenant"}).get("tenant")
        named = (await body(request, {"tenant"})).get("tenant") or given
        who = None if named is None else await existing_tenant(self.state, named)
        await scenario.apply(self.state, scenario.load(name), who)
        return JSONResponse({"applied": name, "tenant": who})

    async def quota(self, request: Request) -> Response:
        """Read the quota counters, or set one: {vendor, tenant, api, pool, left}."""
        named = query(request, {"tenant"}).get("tenant")
        if request.method == "POST":
            await self.store.quotas.set(*await quota_setting(self.state, request))
        return JSONResponse({"quota": await self.store.quotas.listing(named)})

    async def credentials(self, request: Request) -> Response:
        named = query(request, {"tenant"} if request.method == "DELETE" else ()).get("tenant")
        if request.method == "POST":
            tenants = await self.store.credentials.load(await credentials_doc(self.state, request))
            return JSONResponse({"tenants": tenants}, status_code=201)
        if request.method == "DELETE":
            if not named:
                raise AdminError("DELETE /_mock/credentials needs ?tenant=")
            forgotten = await self.store.credentials.forget(await existing_tenant(self.state, named))
            return JSONResponse({"forgotten": forgotten})
        return JSONResponse(await self.store.credentials.listing())

    async def contract_list(self, request: Request) -> Response:
        return JSONResponse({"contracts": sorted(self.state.contracts)})

    async def contract(self, request: Request) -> Response:
        name = served_vendor(self.state, request.path_params["vendor"])
        return JSONResponse(contracts.loading.bundle(name))

    async def openapi_document(self, request: Request) -> Response:
        name = served_vendor(self.state, request.path_params["vendor"])
        server = str(request.base_url).rstrip("/")
        return JSONResponse(openapi.document(self.state.contracts[name], server_url=server))

    async def asset_list(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "assets": [
                    {
                        "name": a.name,
                        "url": f"{base}{PREFIX}/assets/{a.name}",
                        "media_type": a.media_type,
                        "width": a.width,
                        "height": a.height,
                        "trips": a.trips,
                        "role": a.role,
                        "description": a.description,
                    }
                    for a in assets.ASSETS.values()
                ]
            }
        )

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets.ASSETS:
            raise AdminError(f"no asset {name!r}", 404)
        data = await anyio.to_thread.run_sync(assets.asset_bytes, name)
        return Response(data, media_type=assets.ASSETS[name].media_type)

    async def upload(self, request: Request) -> Response:
        owner = query(request, {"tenant"}).get("tenant")
        limit = self.store.uploads.max_file
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AdminError(f"an upload holds at most {limit} bytes", 413)
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise AdminError(f"an upload holds at most {limit} bytes", 413)
        if not data:
            raise AdminError("send the image bytes as the request body")
        facts = await anyio.to_thread.run_sync(images.inspect, bytes(data), limiter=self.state.images.decodes)
        ext = (facts.format or "bin").lower().replace("jpeg", "jpg")
        item = await self.store.uploads.put(
            Upload(
                id=self.state.ids.capability_hex(24),  # its link is all it takes to read it
                data=bytes(data),
                tenant=None if owner is None else await existing_tenant(self.state, owner),
                media_type=MEDIA_TYPES.get(facts.format or "", "application/octet-stream"),
            )
        )
        url = f"{str(request.base_url).rstrip('/')}{PREFIX}/uploads/{item.id}.{ext}"
        return JSONResponse(
            {
                "id": item.id,
                "url": url,
                "bytes": len(data),
                "format": facts.format,
                "width": facts.width,
                "height": facts.height,
            },
            status_code=201,
        )

    async def uploaded(self, request: Request) -> Response:
        item = await self.store.uploads.get(request.path_params["name"].split(".", 1)[0])
        if item is None:
            raise AdminError("no such upload", 404)
        return Response(item.data, media_type=item.media_type)

    async def result(self, request: Request) -> Response:
        key = request.path_params["key"]
        params = dict(parse_qsl(request.url.query))
        problem = self.state.results.link_problem(key, params)
        data = None if problem else await self.state.results.draw(key)
        if data is not None:
            return Response(data, media_type="image/png")
        problem = problem or "missing"
        extra = {"Key": f"{key}.png"}
        if problem == "expired":
            extra = {"Expires": gmt(int(params["Expires"])), "ServerTime": gmt(self.state.clock.now())}
        status, code, message = OSS_ERRORS[problem]
        rid = self.state.ids.hex(24).upper()
        return Response(oss_error(code, message, rid, **extra), status, media_type="application/xml")

    def routes(self) -> list[Route]:
        table: list[tuple[str, Endpoint, list[str]]] = [
            ("/health", self.health, ["GET"]),
            ("/reset", self.reset, ["POST"]),
            ("/journal", self.journal, ["GET"]),
            ("/tasks", self.tasks, ["GET"]),
            ("/clock", self.clock, ["GET", "POST"]),
            ("/timing", self.timing, ["GET", "POST"]),
            ("/faults", self.faults, ["GET", "POST", "DELETE"]),
            ("/scenarios", self.scenarios, ["GET", "POST"]),
            ("/scenarios/{name}", self.scenario_load, ["POST"]),
            ("/credentials", self.credentials, ["GET", "POST", "DELETE"]),
            ("/quota", self.quota, ["GET", "POST"]),
            ("/contracts", self.contract_list, ["GET"]),
            ("/contracts/{vendor}", self.contract, ["GET"]),
            ("/openapi/{vendor}.json", self.openapi_document, ["GET"]),
            ("/assets", self.asset_list, ["GET"]),
            ("/assets/{name}", self.asset, ["GET"]),
            ("/uploads", self.upload, ["POST"]),
            ("/uploads/{name}", self.uploaded, ["GET"]),
            ("/results/{key}.png", self.result, ["GET"]),
        ]
        admission = Admission(self.state.settings)
        return [
            Route(
                PREFIX + path,
                _guard(fn, methods, None if path in PUBLIC else admission, json_body=path not in RAW_BODY),
                methods=ALL_METHODS,
            )
            for path, fn, methods in table
        ]
