"""Aidge (AIDC) virtual try-on, standard and pro, behind its IOP-style gateway.

Parameters come from the query string, a form body or a JSON body, merged; ``requestParams``
(or ``paramJson``) holds the request objects as a JSON string or as JSON. Every answer is HTTP
200: the gateway's ``code`` "0" with the business ``resCode`` beside it, or the gateway's own
``{type, code, message, request_id}``. Each request object is a sub-task of the submitted task.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import ErrorCode, Operation
from mock_server.exchange import Call, Handler, Vendor, VendorError, json_response, parse_json
from mock_server.tasks import FAILED, QUEUED, SUCCEEDED, Task
from mock_server.vendors import aidge_signing as signing

API_PREFIX = "/rest"
TRIAL_HEADER = "x-iop-trial"
TASK_KEYS = ("task_id", "taskId")
SUCCESS = "success"
GATEWAY_OK = "0"
WINDOW = 15 * 60.0  # seconds a timestamp may be off (undocumented; as the Alibaba Cloud gateway)
DEFAULT_COUNT = 4  # generateCount's documented default
FORM = "application/x-www-form-urlencoded"


class Aidge(Vendor):
    contract = contracts.load("aidge")

    def handlers(self) -> dict[str, Handler]:
        return {
            "tryon": self.submit,
            "tryon-pro": self.submit,
            "tryon-results": self.query,
            "tryon-results-get": self.query,
            "balance": self.balance,
        }

    def claims(self, request: Request) -> bool:
        return "app_key" in request.query_params

    # -- the gateway ---------------------------------------------------------------------------

    def authenticate(self, call: Call) -> str:
        params = self._params(call)
        call.scratch["params"] = params
        credential = self.state.credentials.get(self.contract.name, params.get("app_key", ""))
        if credential is None:
            raise call.fail("auth.invalid")
        stamp = params.get("timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 16:
            raise call.fail("auth.bad_timestamp")
        if all(abs(int(stamp) / 1000 - now) > WINDOW for now in (call.now, time.time())):
            raise call.fail("auth.stale")
        signed = {k: v for k, v in params.items() if k not in call.scratch.get("json_keys", ())}
        api_path = call.path.removeprefix(API_PREFIX)
        if not signing.valid(credential.fields["app_secret"], api_path, signed):
            raise call.fail("auth.bad_signature")
        return credential.tenant

    def _params(self, call: Call) -> dict[str, str]:
        """Query string, then form or JSON body fields (the first value of a name wins). JSON
        fields are kept as JSON text when they are not strings, and are never signed."""
        params: dict[str, str] = {}
        for key, value in parse_qsl(call.query, keep_blank_values=True):
            params.setdefault(key, value)
        kind = call.headers.get("content-type", "").lower()
        if kind.startswith(FORM):
            for key, value in parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True):
                params.setdefault(key, value)
        elif call.body.strip():
            try:
                doc = parse_json(call.body)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                call.scratch["json_keys"] = set(doc)
                for key, value in doc.items():
                    params.setdefault(str(key), value if isinstance(value, str) else json.dumps(value))
        return params

    def error_response(self, call: Call, error: ErrorCode, **details: Any) -> Response:
        ids = self._ids(call)
        if error.envelope == "gateway":
            body: dict[str, Any] = {
                "type": "ISV",
                "code": str(error.code),
                "message": error.message,
                "request_id": ids["request_id"],
            }
            return json_response(body, error.http_status)
        detail = str(details.get("detail", ""))
        message = f"{error.message}: {detail}" if detail else error.message
        body = {
            "code": GATEWAY_OK,
            "data": None,
            "requestId": ids["_trace_id_"],
            "success": self._typed(False),
            "resCode": self._typed(error.code),
            "resMessage": message,
            **ids,
        }
        return json_response(body, error.http_status)

    def _ids(self, call: Call) -> dict[str, str]:
        raw = call.request_id.replace("-", "")
        return {"request_id": raw[:25], "_trace_id_": raw[:30]}

    def _typed(self, value: Any) -> Any:
        """success and resCode as real types, or as the standard sample's strings."""
        if self.state.option(self.contract, "value_types") == "real":
            return value
        return str(value).lower() if isinstance(value, bool) else str(value)

    def _ok(self, call: Call, data: dict[str, Any]) -> Response:
        ids = self._ids(call)
        return json_response(
            {
                "code": GATEWAY_OK,
                "data": data,
                "requestId": ids["_trace_id_"],
                "success": self._typed(True),
                "resCode": self._typed(200),
                "resMessage": SUCCESS,
                **ids,
            }
        )

    # -- submit --------------------------------------------------------------------------------

    async def submit(self, call: Call) -> Response:
        op = next(o for o in self.contract.operations.values() if o.endpoint == call.endpoint.id)
        items = self._request_objects(call, op)
        call.params = items
        self._rate_limit(call, op)
        counts = [
            len(item.get("modelImage") or []) or int(item.get("generateCount", DEFAULT_COUNT))
            for item in items
        ]
        api = call.path.removeprefix(API_PREFIX)
        key = (self.contract.name, call.tenant or "", api, self._pool(call))
        if self.state.quotas.left(key, self.contract.quota) < sum(counts):
            raise call.fail("quota.exhausted")
        for item in items:
            await self._check(call, op, item)
        if not self.state.quotas.take(key, sum(counts), self.contract.quota):  # spent meanwhile
            raise call.fail("quota.exhausted")
        pending = call.deferred_faults()
        failure = pending.pop("task", None)
        task_id = self.state.ids.uuid()
        tasks = self.state.new_batch(
            self.contract,
            op,
            items,
            batch_id=task_id,
            tenant=call.tenant or "",
            own_host=call.own_host,
            counts=counts,
            failure=failure,
            failing=call.marked_item(items),
            pending=pending,
        )
        for task, item in zip(tasks, items, strict=True):
            task.extra["clothes"] = [g["imageUrl"] for g in item["clothesList"]]
        call.task_id = task_id
        return self._ok(call, {"result": {"taskId": task_id}})

    def _request_objects(self, call: Call, op: Operation) -> list[dict[str, Any]]:
        params: dict[str, str] = call.scratch["params"]
        keys = call.endpoint.carrier_fields
        name = next((k for k in keys if params.get(k)), keys[0])
        try:
            decoded = json.loads(params.get(name, ""))
        except ValueError:
            raise call.fail("body.invalid", detail=name) from None
        items = decoded if isinstance(decoded, list) else [decoded]
        if not items or not all(isinstance(i, dict) for i in items):
            raise call.fail("body.invalid", detail=name)
        for item in items:
            found = self.contract.request_violation(self.contract.violations(op.request_schema, item))
            if found:
                error, _, pointer = found
                raise VendorError(error, detail=_field(pointer))
        return items

    def _rate_limit(self, call: Call, op: Operation) -> None:
        spec = op.answer.get("test_rate_limit")
        if not spec or self.state.option(self.contract, "pro_test_mode") != "on":
            return
        limit, per = spec.split("/")
        key = (self.contract.name, call.tenant or "", op.name)
        if not self.state.rates.allow(key, call.now, int(limit), float(per)):
            raise call.fail("rate.limited")

    async def _check(self, call: Call, op: Operation, item: dict[str, Any]) -> None:
        checked = await self.state.check_images(self.contract, op, item, call.own_host, call.tenant)
        if checked.error is not None:
            raise VendorError(checked.error)
        if str(item.get("inputQualityDetect", "0")) == "1":
            for image in op.images:
                facts = checked.facts.get(image.pointer)
                if image.role == "garment" and facts is not None and (facts.persons or 0) > 0:
                    raise call.fail("image.not_flat_lay")

    def _pool(self, call: Call) -> str:
        return "trial" if call.headers.get(TRIAL_HEADER, "").lower() == "true" else "purchased"

    # -- results and balance -------------------------------------------------------------------

    async def query(self, call: Call) -> Response:
        params: dict[str, str] = call.scratch["params"]
        task_id = next((params[k] for k in TASK_KEYS if params.get(k)), "")
        if not task_id:
            raise call.fail("body.invalid", detail=TASK_KEYS[0])
        call.task_id = task_id
        retention = self.state.retention(self.contract, call.tenant)
        tasks = self.state.tasks.group(call.tenant or "", task_id, call.now, retention)
        if not tasks:
            raise call.fail("task.unknown", detail=TASK_KEYS[0])
        call.raise_deferred(tasks[0])
        layout = self.contract.operations[tasks[0].operation].answer.get("layout", "standard")
        views = [call.poll(t) for t in tasks]
        stages = {v.stage for v in views}
        life = self.contract.lifecycle
        if stages <= {QUEUED}:
            status = life.phases[0].status
        elif not stages <= {SUCCEEDED, FAILED}:
            status = life.phases[-1].status
        else:
            status = life.succeeded if SUCCEEDED in stages else life.failed
        results = [
            self._sub_task(call, task, view.status, view.stage == SUCCEEDED, layout)
            for task, view in zip(tasks, views, strict=True)
        ]
        return self._ok(call, {"taskResult": results, "taskStatus": status, "taskId": task_id})

    def _sub_task(self, call: Call, task: Task, status: str, done: bool, layout: str) -> dict[str, Any]:
        if not done:
            return {"taskStatus": status}
        urls = self.state.result_urls(task, call.base_url, self.contract)
        clothes: list[str] = task.extra["clothes"]
        if layout != "pro":
            standard = [{"imageUrl": u, "clothes": clothes[0]} for u in urls]
            return {"taskResult": {"result": {"imageList": standard}}, "taskStatus": status}
        usage = json.dumps({"usage": len(urls)}, separators=(",", ":"))
        images: list[dict[str, Any]] = [{"imageUrl": u, "clothes": clothes} for u in urls]
        result = {
            "data": {
                "message": [],
                "usageMap": usage,
                "structData": {"code": 200, "imageList": images, "usageMap": usage},
            },
            "success": True,
            "requestId": self._ids(call)["_trace_id_"],
        }
        return {"taskResult": {"result": result, "usage": 1, "usageMap": usage}, "taskStatus": status}

    async def balance(self, call: Call) -> Response:
        params: dict[str, str] = call.scratch["params"]
        api = params.get("apiPath", "")
        if not api.startswith("/"):
            raise call.fail("body.invalid", detail="apiPath")
        key = (self.contract.name, call.tenant or "", api, self._pool(call))
        ids = self._ids(call)
        left = self.state.quotas.left(key, self.contract.quota)
        return json_response(
            {"data": {"balance": left}, "success": self._typed(True), "code": GATEWAY_OK, **ids}
        )


def _field(pointer: str) -> str:
    """``/clothesList/0/imageUrl`` -> ``clothesList[0].imageUrl``."""
    out = ""
    for part in pointer.strip("/").split("/"):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "requestParams"
