"""Alibaba Cloud Marketplace "AI模特(虚拟换装)" by DAMO, behind the API Gateway.

The gateway authenticates (APPCODE or the AppKey/AppSecret signature) and answers its own errors
with an empty body and ``X-Ca-Error-Message``; the backend answers
``{code, data, message, requestId, success}``. A submission is a batch of sub-tasks that progress
and fail independently, read back by ``result_key``.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import ErrorCode, Operation
from mock_server.exchange import Call, Handler, Vendor, VendorError, json_response
from mock_server.tasks import SUCCEEDED, Task
from mock_server.vendors import aliyun_gateway as gateway

SUCCESS_MESSAGE = "success"
STAGES = ("RELEASE", "PRE", "TEST")
ECHOED = ("model_image", "tops_image", "pants_image")
TOPS_ALIAS = ("tops_image", "ops_image")  # what clients send, and the field table's spelling


class Damo(Vendor):
    contract = contracts.load("damo")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.nonces = gateway.Nonces()

    def handlers(self) -> dict[str, Handler]:
        return {"submit": self.submit, "query": self.query}

    def claims(self, request: Request) -> bool:
        return gateway.appcode(request.headers) is not None or "x-ca-key" in request.headers

    # -- the gateway ---------------------------------------------------------------------------

    def authenticate(self, call: Call) -> str:
        headers = call.headers
        if headers.get("x-ca-stage", STAGES[0]).upper() not in STAGES:
            raise call.fail("route.unknown")
        code = gateway.appcode(headers)
        if code is not None:
            credential = self.state.credentials.get(self.contract.name, code)
            if credential is None or "appcode" not in credential.fields:
                raise call.fail("auth.invalid")
            return credential.tenant
        key = headers.get("x-ca-key")
        if not key:
            raise call.fail("auth.missing")
        credential = self.state.credentials.get(self.contract.name, key)
        if credential is None or "app_secret" not in credential.fields:
            raise call.fail("auth.invalid_key")
        self._verify(call, key, credential.fields["app_secret"])
        return credential.tenant

    def _verify(self, call: Call, key: str, secret: str) -> None:
        headers = call.headers
        provided = headers.get("x-ca-signature", "")
        if not provided:
            raise call.fail("auth.empty_signature")
        clocks = (call.now, time.time())
        stamp = headers.get("x-ca-timestamp")
        problem = gateway.timestamp_problem(stamp, clocks) if stamp is not None else None
        if problem:
            raise call.fail(f"auth.{problem}")
        nonce = headers.get("x-ca-nonce")
        if nonce and self.nonces.used(key, nonce, clocks):
            raise call.fail("auth.nonce_used")
        md5 = headers.get("content-md5")
        if md5 is not None and (not call.body or md5 != gateway.content_md5(call.body)):
            raise call.fail("auth.bad_md5")
        incoming = gateway.Incoming(call.request.method, call.path, call.query, headers, call.body)
        text = gateway.string_to_sign(incoming)
        method = headers.get("x-ca-signature-method", gateway.DEFAULT_METHOD)
        expected = gateway.signature(secret, text, method) if method in gateway.ALGORITHMS else ""
        if not expected or not hmac.compare_digest(expected.encode(), provided.encode()):
            raise call.fail("auth.bad_signature", detail=text)
        if nonce:
            self.nonces.remember(key, nonce, clocks)

    def error_response(self, call: Call, error: ErrorCode, **details: Any) -> Response:
        message = error.text(str(details.get("detail", "")))
        if error.envelope == "gateway":
            headers = {"X-Ca-Error-Message": gateway.for_header(message)}
            if self.state.option(self.contract, "gateway_error_code") == "on":
                headers["X-Ca-Error-Code"] = str(error.code)
            return Response(b"", status_code=error.http_status, headers=self._ids(call, headers))
        body = {"code": str(error.code), "message": message, "requestId": _body_id(call), "success": False}
        return json_response(body, error.http_status, call.endpoint.content_type, self._ids(call))

    @staticmethod
    def _ids(call: Call, headers: dict[str, str] | None = None) -> dict[str, str]:
        return {"X-Ca-Request-Id": call.request_id.upper(), **(headers or {})}

    # -- the backend ---------------------------------------------------------------------------

    def _data(self, call: Call) -> dict[str, Any]:
        data: dict[str, Any] = call.json_object()["data"]
        return data

    def _operation(self, call: Call) -> Operation:
        return next(op for op in self.contract.operations.values() if op.endpoint == call.endpoint.id)

    async def submit(self, call: Call) -> Response:
        data = self._data(call)
        call.params = call.json_object()
        op = self._operation(call)
        items = [_with_tops(item) for item in data["task_list"]]
        for item in items:
            checked = await self.state.check_images(self.contract, op, item, call.own_host, call.tenant)
            if checked.error is not None:
                raise VendorError(checked.error)
        pending = call.deferred_faults()
        failure = pending.pop("task", None)
        result_key = self.state.ids.hex(32)
        tasks = self.state.new_batch(
            self.contract,
            op,
            items,
            batch_id=result_key,
            tenant=call.tenant or "",
            own_host=call.own_host,
            counts=[int(data.get("inference_num", 1))] * len(items),  # JSON may say 2.0
            failure=failure,
            failing=call.marked_item(items),
            pending=pending,
        )
        for task, item in zip(tasks, items, strict=True):
            task.extra["echo"] = {k: item[k] for k in ECHOED if item.get(k)}
        call.task_id = result_key
        return self._batch(call, result_key, tasks, polled=False)

    async def query(self, call: Call) -> Response:
        result_key = self._data(call)["result_key"]
        call.task_id = result_key
        retention = self.state.retention(self.contract, call.tenant)
        tasks = self.state.tasks.group(call.tenant or "", result_key, call.now, retention)
        if not tasks:
            raise call.fail("task.unknown")
        call.raise_deferred(tasks[0])
        return self._batch(call, result_key, tasks, polled=True)

    def _batch(self, call: Call, result_key: str, tasks: list[Task], polled: bool) -> Response:
        task_list = []
        for task in tasks:
            view = call.poll(task) if polled else call.show(task, task.view(call.now))
            item: dict[str, Any] = {**task.extra["echo"], "status": view.status}
            if view.stage == SUCCEEDED:
                item["results"] = self.state.result_urls(task, call.base_url, self.contract)
            task_list.append(item)
        code: int | str = 0 if self.state.option(self.contract, "success_code") == "number" else "0"
        body = {
            "code": code,
            "data": {"result_key": result_key, "task_list": task_list},
            "message": SUCCESS_MESSAGE,
            "requestId": _body_id(call),
            "success": True,
        }
        return json_response(body, 200, call.endpoint.content_type, self._ids(call))


def _with_tops(item: dict[str, Any]) -> dict[str, Any]:
    """A sub-task with its top garment under ``tops_image``, whichever spelling it came in."""
    tops = next((item[k] for k in TOPS_ALIAS if item.get(k)), "")
    return {**item, "tops_image": tops}


def _body_id(call: Call) -> str:
    return call.request_id.replace("-", "")
