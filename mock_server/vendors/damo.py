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
from mock_server import submission
from mock_server.answers import json_response
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.tasks import SUCCEEDED, Task
from mock_server.timestamps import timestamp_problem
from mock_server.vendor import Vendor, handles
from mock_server.vendors import aliyun_gateway as gateway

SUCCESS_MESSAGE = "success"
STAGES = ("RELEASE", "PRE", "TEST")
ECHOED = ("model_image", "tops_image", "pants_image")
TOPS_ALIAS = ("tops_image", "ops_image")  # what clients send, and the field table's spelling


class Damo(Vendor):
    contract = contracts.load("damo")

    def claims(self, request: Request) -> bool:
        return gateway.appcode(request.headers) is not None or "x-ca-key" in request.headers

    # -- the gateway ---------------------------------------------------------------------------

    async def authenticate(self, call: Call) -> str:
        headers = call.headers
        if headers.get("x-ca-stage", STAGES[0]).upper() not in STAGES:
            raise call.fail("route.unknown")
        credentials = self.state.store.credentials
        code = gateway.appcode(headers)
        if code is not None:
            credential = await credentials.get(self.contract.name, code)
            if credential is None or "appcode" not in credential.fields:
                raise call.fail("auth.invalid")
            if credential.strict and headers.get("authorization") != f"APPCODE {code}":
                raise call.fail("auth.invalid")  # the documented form: one space, nothing after
            return credential.tenant
        key = headers.get("x-ca-key")
        if not key:
            raise call.fail("auth.missing")
        credential = await credentials.get(self.contract.name, key)
        if credential is None or "app_secret" not in credential.fields:
            raise call.fail("auth.invalid_key")
        await self._verify(call, key, credential.fields["app_secret"])
        return credential.tenant

    async def _verify(self, call: Call, key: str, secret: str) -> None:
        headers, nonces = call.headers, self.state.store.nonces
        provided = headers.get("x-ca-signature", "")
        if not provided:
            raise call.fail("auth.empty_signature")
        clocks = (call.now, time.time())
        stamp = headers.get("x-ca-timestamp")
        problem = timestamp_problem(stamp, clocks) if stamp is not None else None
        if problem:
            raise call.fail(problem)
        nonce = headers.get("x-ca-nonce")
        if nonce and await nonces.seen(key, nonce, clocks):
            raise call.fail("auth.nonce_used")
        md5 = headers.get("content-md5")
        if md5 is not None and (not call.body or md5 != gateway.content_md5(call.body)):
            raise call.fail("auth.bad_md5")
        text = gateway.string_to_sign(call.request.method, call.path, headers, call.fields())
        method = headers.get("x-ca-signature-method", gateway.DEFAULT_METHOD)
        expected = gateway.signature(secret, text, method) if method in gateway.ALGORITHMS else ""
        if not expected or not hmac.compare_digest(expected.encode(), provided.encode()):
            raise call.fail("auth.bad_signature", text)
        if nonce:
            taken = await nonces.take(key, nonce, clocks)
            if taken == "used":  # a request with it got in first
                raise call.fail("auth.nonce_used")
            if taken == "full":  # remembering it would mean forgetting a live one
                raise call.fail("auth.nonces_full")

    def error_response(self, call: Call, failure: VendorError) -> Response:
        error = failure.error
        message = error.text(failure.detail)
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

    @handles("submit")
    async def submit(self, call: Call) -> Response:
        data = self._data(call)
        call.params = call.json_object()
        op = self.contract.operation_at(call.endpoint.id)
        items = [_with_tops(item) for item in data["task_list"]]
        result_key = self.state.ids.hex(32)
        tasks = await submission.submit(
            call,
            op,
            items,
            task_id=result_key,
            counts=[int(data.get("inference_num", 1))] * len(items),  # JSON may say 2.0
            extras=[{"echo": {k: item[k] for k in ECHOED if item.get(k)}} for item in items],
        )
        return await self._batch(call, result_key, tasks, polled=False)

    @handles("query")
    async def query(self, call: Call) -> Response:
        result_key = self._data(call)["result_key"]
        call.task_id = result_key
        tasks = await call.find_batch(result_key)
        if not tasks:
            raise call.fail("task.unknown")
        return await self._batch(call, result_key, tasks, polled=True)

    async def _batch(self, call: Call, result_key: str, tasks: list[Task], polled: bool) -> Response:
        task_list = []
        for task in tasks:
            view = await call.poll(task) if polled else call.show(task, task.as_submitted(call.now))
            item: dict[str, Any] = {**task.extra["echo"], "status": view.status}
            if view.stage == SUCCEEDED:
                item["results"] = await call.result_urls(task, view)
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
