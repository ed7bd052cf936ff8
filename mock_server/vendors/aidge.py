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

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import Operation
from contracts.vocabulary import Situation
from mock_server import submission
from mock_server.answers import json_response
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.image_checks import ImageCheck
from mock_server.store.quotas import Key as QuotaKey
from mock_server.tasks import FAILED, QUEUED, SUCCEEDED, Task
from mock_server.timestamps import timestamp_problem
from mock_server.vendor import Vendor, handles
from mock_server.vendors import aidge_signing as signing

API_PREFIX = "/rest"
TRIAL_HEADER = "x-iop-trial"
TASK_KEYS = ("task_id", "taskId")
SUCCESS = "success"
GATEWAY_OK = "0"
DEFAULT_COUNT = 4  # generateCount's documented default


class Aidge(Vendor):
    contract = contracts.load("aidge")

    def claims(self, request: Request) -> bool:
        return "app_key" in request.query_params

    # -- the gateway ---------------------------------------------------------------------------

    async def authenticate(self, call: Call) -> str:
        params = call.fields(with_json=True)
        credential = await self.state.store.credentials.get(self.contract.name, params.get("app_key", ""))
        if credential is None:
            raise call.fail("auth.invalid")
        problem = timestamp_problem(params.get("timestamp", ""), (call.now, time.time()))
        if problem:
            raise call.fail(problem)
        unsigned = call.json_fields()  # a JSON body's fields are never signed
        signed = {k: v for k, v in params.items() if k not in unsigned}
        path = call.path.removeprefix(API_PREFIX)
        if not signing.valid(credential.fields["app_secret"], path, signed, credential.strict):
            raise call.fail("auth.bad_signature")
        return credential.tenant

    def error_response(self, call: Call, failure: VendorError) -> Response:
        error, ids = failure.error, self._ids(call)
        if error.envelope == "gateway":
            body: dict[str, Any] = {
                "type": "ISV",
                "code": str(error.code),
                "message": error.message,
                "request_id": ids["request_id"],
            }
            return json_response(body, error.http_status)
        detail = _field(failure.violation.pointer) if failure.violation else failure.detail
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

    @handles("tryon", "tryon-pro")
    async def submit(self, call: Call) -> Response:
        op = self.contract.operation_at(call.endpoint.id)
        items = self._request_objects(call, op)
        call.params = items
        await self._rate_limit(call, op)
        counts = [
            len(item.get("modelImage") or []) or int(item.get("generateCount", DEFAULT_COUNT))
            for item in items
        ]
        quotas, key = self.state.store.quotas, self._quota_key(call, call.path.removeprefix(API_PREFIX))
        if await quotas.left(key, self.contract.quota) < sum(counts):
            raise call.fail("quota.exhausted")
        decision = await submission.decide(call, op, items, inspect=_not_flat_lay)
        if not await quotas.take(key, sum(counts), self.contract.quota):  # spent meanwhile
            raise call.fail("quota.exhausted")
        task_id = self.state.ids.uuid()
        extras = [{"clothes": [g["imageUrl"] for g in item["clothesList"]]} for item in items]
        await submission.store(call, op, items, decision, task_id=task_id, counts=counts, extras=extras)
        return self._ok(call, {"result": {"taskId": task_id}})

    def _request_objects(self, call: Call, op: Operation) -> list[dict[str, Any]]:
        params = call.fields(with_json=True)
        keys = call.endpoint.carrier_fields
        name = next((k for k in keys if params.get(k)), keys[0])
        try:
            decoded = json.loads(params.get(name, ""))
        except ValueError:
            raise call.fail("body.invalid", name) from None
        items = decoded if isinstance(decoded, list) else [decoded]
        if not items or not all(isinstance(i, dict) for i in items):
            raise call.fail("body.invalid", name)
        for item in items:
            call.validate_request(item, op)
        return items

    async def _rate_limit(self, call: Call, op: Operation) -> None:
        spec = op.answer.get("test_rate_limit")
        if not spec or self.state.option(self.contract, "pro_test_mode") != "on":
            return
        limit, per = spec.split("/")
        key = (self.contract.name, call.tenant, op.name)
        if not await self.state.store.rates.allow(key, call.now, int(limit), float(per)):
            raise call.fail("rate.limited")

    def _quota_key(self, call: Call, api: str) -> QuotaKey:
        pool = "trial" if call.headers.get(TRIAL_HEADER, "").lower() == "true" else "purchased"
        return (self.contract.name, call.tenant, api, pool)

    # -- results and balance -------------------------------------------------------------------

    @handles("tryon-results", "tryon-results-get")
    async def query(self, call: Call) -> Response:
        params = call.fields(with_json=True)
        task_id = next((params[k] for k in TASK_KEYS if params.get(k)), "")
        if not task_id:
            raise call.fail("body.invalid", TASK_KEYS[0])
        call.task_id = task_id
        tasks = await call.find_batch(task_id)
        if not tasks:
            raise call.fail("task.unknown", TASK_KEYS[0])
        layout = self.contract.operations[tasks[0].operation].answer.get("layout", "standard")
        views = []
        for task in tasks:
            views.append(await call.poll(task))
        stages = {v.stage for v in views}
        life = self.contract.lifecycle
        if stages <= {QUEUED}:
            status = life.phases[0].status
        elif not stages <= {SUCCEEDED, FAILED}:
            status = life.phases[-1].status
        else:
            status = life.succeeded if SUCCEEDED in stages else life.failed
        results = []
        for task, view in zip(tasks, views, strict=True):
            urls = await call.result_urls(task, view) if view.stage == SUCCEEDED else []
            results.append(self._sub_task(call, task, view.status, urls, layout))
        return self._ok(call, {"taskResult": results, "taskStatus": status, "taskId": task_id})

    def _sub_task(self, call: Call, task: Task, status: str, urls: list[str], layout: str) -> dict[str, Any]:
        if not urls:
            return {"taskStatus": status}
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

    @handles("balance")
    async def balance(self, call: Call) -> Response:
        api = call.fields(with_json=True).get("apiPath", "")
        if not api.startswith("/"):
            raise call.fail("body.invalid", "apiPath")
        left = await self.state.store.quotas.left(self._quota_key(call, api), self.contract.quota)
        ids = self._ids(call)
        return json_response(
            {"data": {"balance": left}, "success": self._typed(True), "code": GATEWAY_OK, **ids}
        )


def _not_flat_lay(op: Operation, item: dict[str, Any], checked: ImageCheck) -> Situation | None:
    """With ``inputQualityDetect`` on, a garment image that shows a person is refused."""
    if str(item.get("inputQualityDetect", "0")) != "1":
        return None
    for image in op.images:
        facts = checked.facts.get(image.pointer)
        if image.role == "garment" and facts is not None and (facts.persons or 0) > 0:
            return "image.not_flat_lay"
    return None


def _field(pointer: str) -> str:
    """``/clothesList/0/imageUrl`` -> ``clothesList[0].imageUrl``."""
    out = ""
    for part in pointer.strip("/").split("/"):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "requestParams"
