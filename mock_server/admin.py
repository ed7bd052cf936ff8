"""The mock's own control surface, all under ``/_mock/``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import contracts
from mock_server import assets, faults, images, openapi, results, scenario
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

PREFIX = "/_mock"
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


class AdminError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


Endpoint = Callable[[Request], Awaitable[Response]]


def _guard(fn: Endpoint, admission: Admission | None = None, json_body: bool = False) -> Endpoint:
    """The endpoint, behind ``admission`` for a control route, its errors as the admin API's."""

    async def run(request: Request) -> Response:
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


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise AdminError("the body must be JSON") from exc
    if not isinstance(doc, dict):
        raise AdminError("the body must be a JSON object")
    return doc


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
        tenant = (await _body(request)).get("tenant") or request.query_params.get("tenant")
        await self.state.reset(tenant)
        return JSONResponse({"reset": tenant or "all"})

    async def journal(self, request: Request) -> Response:
        q = request.query_params
        entries = await self.store.journal.query(
            tenant=q.get("tenant"),
            vendor=q.get("vendor"),
            endpoint=q.get("endpoint"),
            since=int(q.get("since") or 0),
            limit=int(q["limit"]) if q.get("limit") else None,
        )
        return json_response({"entries": [e.as_dict() for e in entries]})  # echoes what clients sent

    async def tasks(self, request: Request) -> Response:
        q = request.query_params
        now = self.state.clock.now()
        tenants = [q["tenant"]] if q.get("tenant") else await self.store.tasks.tenants()
        rows = []
        for tenant in tenants:
            for task in await self.store.tasks.of(tenant, q.get("vendor") or None, now, float("inf")):
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
        if request.method == "POST":
            body = await _body(request)
            if "speed" in body:
                self.state.clock.set_speed(float(body["speed"]))
            if "advance" in body:
                self.state.clock.advance(float(body["advance"]))
            if "set" in body:
                self.state.clock.set(float(body["set"]))
        return JSONResponse(self.state.clock.snapshot())

    async def timing(self, request: Request) -> Response:
        body = await _body(request)
        tenant = body.pop("tenant", None) or request.query_params.get("tenant")
        if request.method == "POST":
            await self.state.set_timing(tenant, body)
        return JSONResponse((await self.state.timing(tenant)).as_dict())

    async def faults(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant")
        if request.method == "POST":
            raw = await request.body()
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                raise AdminError("the body must be a rule or a list of rules") from exc
            rules = doc if isinstance(doc, list) else [doc]
            if not all(isinstance(r, dict) for r in rules):
                raise AdminError("a rule is a JSON object")
            specs = [faults.parse_rule(r, self.state.contracts) for r in rules]
            made = [await self.store.faults.add(spec) for spec in specs]
            return JSONResponse({"rules": [r.as_dict() for r in made]}, status_code=201)
        if request.method == "DELETE":
            await self.store.faults.clear(tenant)
        return JSONResponse({"rules": [r.as_dict() for r in await self.store.faults.rules(tenant)]})

    async def scenarios(self, request: Request) -> Response:
        if request.method == "POST":
            doc = await _body(request)
            tenant = doc.pop("tenant", None) or request.query_params.get("tenant")
            await scenario.apply(self.state, doc, tenant)
            return JSONResponse({"applied": doc["name"], "tenant": tenant})
        return JSONResponse(
            {
                "scenarios": [
                    {"name": n, "description": scenario.load(n)["description"]} for n in scenario.names()
                ]
            }
        )

    async def scenario_load(self, request: Request) -> Response:
        name = request.path_params["name"]
        tenant = (await _body(request)).get("tenant") or request.query_params.get("tenant")
        await scenario.apply(self.state, scenario.load(name), tenant)
        return JSONResponse({"applied": name, "tenant": tenant})

    async def quota(self, request: Request) -> Response:
        """Read the quota counters, or set one: {vendor, tenant, api, pool, left}."""
        if request.method == "POST":
            body = await _body(request)
            try:
                key = (str(body["vendor"]), str(body["tenant"]), str(body["api"]), str(body["pool"]))
                left = int(body["left"])
            except (KeyError, TypeError, ValueError) as exc:
                raise AdminError("a quota is {vendor, tenant, api, pool, left}") from exc
            if key[0] not in self.state.contracts:
                raise AdminError(f"no vendor {key[0]!r}", 404)
            await self.store.quotas.set(key, left)
        return JSONResponse({"quota": await self.store.quotas.listing(request.query_params.get("tenant"))})

    async def credentials(self, request: Request) -> Response:
        if request.method == "POST":
            tenants = await self.store.credentials.load(await _body(request))
            return JSONResponse({"tenants": tenants}, status_code=201)
        if request.method == "DELETE":
            tenant = request.query_params.get("tenant")
            if not tenant:
                raise AdminError("DELETE /_mock/credentials needs ?tenant=")
            return JSONResponse({"forgotten": await self.store.credentials.forget(tenant)})
        return JSONResponse(await self.store.credentials.listing())

    async def contract_list(self, request: Request) -> Response:
        return JSONResponse({"contracts": sorted(self.state.contracts)})

    async def contract(self, request: Request) -> Response:
        name = request.path_params["vendor"]
        if name not in self.state.contracts:
            raise AdminError(f"no vendor {name!r}", 404)
        return JSONResponse(contracts.loading.bundle(name))

    async def openapi_document(self, request: Request) -> Response:
        name = request.path_params["vendor"]
        if name not in self.state.contracts:
            raise AdminError(f"no vendor {name!r}", 404)
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
                tenant=request.query_params.get("tenant"),
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
                _guard(fn, None if path in PUBLIC else admission, json_body=path not in RAW_BODY),
                methods=methods,
            )
            for path, fn, methods in table
        ]
