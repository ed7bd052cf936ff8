"""DashScope (Alibaba Cloud Model Studio): Bearer API keys, the ``{code, message, request_id}``
envelope, async image-synthesis tasks, the task API, and synchronous image-process."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import Operation, resolve_pointer
from mock_server import limits, submission
from mock_server.answers import json_response
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.state import MockState
from mock_server.store.recipes import Recipe
from mock_server.store.uploads import Upload, UploadTooLarge
from mock_server.tasks import FAILED, SUCCEEDED, Task, TaskView
from mock_server.vendor import Vendor, handles
from mock_server.vendors import dashscope_uploads as uploads

BEARER = "bearer "
LIST_TIME = "%Y%m%d%H%M%S"
DAY = 86400.0
LEGACY_RESULT = "refiner_result"
OSS_UPLOAD = "oss-upload"


class DashScope(Vendor):
    contract = contracts.load("dashscope")

    def __init__(self, state: MockState) -> None:
        super().__init__(state)
        # the upload form authenticate read, for the call's handler (an entry goes with its call)
        self._posted: WeakKeyDictionary[Call, uploads.Posted] = WeakKeyDictionary()

    # -- envelope and auth -------------------------------------------------------------------

    def claims(self, request: Request) -> bool:
        return request.headers.get("authorization", "").lower().startswith(BEARER)

    async def authenticate(self, call: Call) -> str:
        if call.endpoint.id == OSS_UPLOAD:  # the upload host: the signed policy says who
            posted = uploads.posted(call, self.state.store.recipes.secret)
            self._posted[call] = posted  # the handler's, without reading the form again
            return posted.tenant
        header = call.headers.get("authorization", "")
        if not header.lower().startswith(BEARER) or not header[len(BEARER) :].strip():
            raise call.fail("auth.missing")
        credential = await self.state.store.credentials.get(self.contract.name, header[len(BEARER) :].strip())
        if credential is None:
            raise call.fail("auth.invalid")
        return credential.tenant

    def error_response(self, call: Call, failure: VendorError) -> Response:
        error = failure.error
        if call.endpoint.id == OSS_UPLOAD:  # OSS answers for itself, in XML
            message = error.message.replace("%s", failure.detail)
            request_id = uploads.request_id(call)
            host_id = call.headers.get("host", "")
            xml = uploads.error_xml(str(error.code), message, request_id, host_id)
            headers = {"x-oss-request-id": request_id}
            return Response(xml, error.http_status, headers, media_type=call.endpoint.content_type)
        body = {"code": str(error.code), "message": error.message, "request_id": call.request_id}
        return self._json(call, body, error.http_status)

    def _json(self, call: Call, body: dict[str, Any], status: int = 200) -> Response:
        return json_response(body, status, call.endpoint.content_type, {"x-request-id": call.request_id})

    # -- service endpoints -------------------------------------------------------------------

    def _operation(self, call: Call) -> tuple[Operation, dict[str, Any]]:
        doc = call.json_object()
        op = self.contract.operations.get(doc["model"])
        if op is None:
            raise call.fail("operation.unknown")
        if op.endpoint != call.endpoint.id:
            raise call.fail("operation.wrong_endpoint")
        call.validate(doc, op.request_schema)
        call.params = doc
        return op, doc

    @handles("image-synthesis")
    async def submit(self, call: Call) -> Response:
        op, doc = self._operation(call)
        extra = {"request_id": call.request_id}
        [task] = await submission.submit(call, op, [doc], task_id=self.state.ids.uuid(), extras=[extra])
        view = task.as_submitted(call.now)
        output = {"task_status": view.status, "task_id": task.id}
        return self._json(call, {"output": output, "request_id": call.request_id})

    @handles("image-process")
    async def process(self, call: Call) -> Response:
        for name, value in self._async_header().items():
            if call.headers.get(name.lower()) == value:
                raise call.fail("header.forbidden")
        op, doc = self._operation(call)
        decision = await submission.decide(call, op, [doc])
        item = op.images[0]
        url = resolve_pointer(doc, item.pointer)
        facts = decision.checks[0].facts.get(item.pointer)
        present = facts.garments if facts and facts.garments is not None else None
        parts = resolve_pointer(doc, op.parts_pointer or "") or []
        expires = call.now + await self.state.result_ttl(self.contract, call.tenant)
        results = self.state.results
        parsing: list[str | None] = []
        crops: list[str | None] = []
        boxes: list[list[int] | None] = []
        for index, part in enumerate(parts):
            if present is not None and part not in present:
                parsing.append(None)
                crops.append(None)
                boxes.append(None)
                continue
            keys = (f"{call.request_id}-parsing-{index}", f"{call.request_id}-crop-{index}")
            recipe = Recipe(kind="parsing", base=url, part=part, host=call.own_host, tenant=call.tenant)
            box = await results.parse(keys, recipe)
            parsing.append(results.url(call.base_url, keys[0], expires))
            crops.append(results.url(call.base_url, keys[1], expires))
            boxes.append(list(box))
        return self._json(
            call,
            {
                "output": {"parsing_img_url": parsing, "crop_img_url": crops, "bbox": boxes},
                "usage": {"image_count": 1},
                "request_id": call.request_id,
            },
        )

    def _async_header(self) -> dict[str, str]:
        submit = next(e for e in self.contract.endpoints if e.kind == "submit")
        return dict(submit.headers)

    # -- temporary storage -------------------------------------------------------------------

    @handles("uploads-policy")
    async def upload_policy(self, call: Call) -> Response:
        fields = call.fields()
        call.validate(fields, "upload-policy.request.schema.json")
        model = fields["model"]
        if model not in self.contract.operations:
            raise call.fail("operation.unknown")
        if call.contract.name in call.state.limited:
            await limits.check_rate(call, model)
        secret, upload_id = self.state.store.recipes.secret, self.state.ids.capability_uuid()
        data = uploads.policy(call, secret, self.contract, model, upload_id)
        return self._json(call, {"request_id": call.request_id, "data": data})

    @handles(OSS_UPLOAD)
    async def oss_upload(self, call: Call) -> Response:
        posted = self._posted.pop(call)  # authenticate read and checked the form
        objects = self.contract.object_urls
        assert objects is not None
        upload_id = f"{objects.scheme}://{posted.key}"
        store = self.state.store.uploads
        kept = await store.get(upload_id)
        if posted.forbid_overwrite and kept is not None and (kept.expires or math.inf) > call.now:
            raise call.fail("upload.exists")
        expires = call.now + objects.ttl_seconds
        upload = Upload(upload_id, posted.data, posted.media_type, posted.tenant, expires)
        try:
            await store.put(upload)
        except UploadTooLarge:
            raise call.fail("upload.too_large") from None
        call.params = {"key": posted.key, "model": posted.model, "bytes": len(posted.data)}
        etag = '"' + hashlib.md5(posted.data).hexdigest().upper() + '"'  # OSS's ETag: the MD5 of the object
        request_id = uploads.request_id(call)
        return Response(status_code=posted.status, headers={"ETag": etag, "x-oss-request-id": request_id})

    # -- task endpoints ----------------------------------------------------------------------

    def _task_id(self, call: Call) -> str:
        call.task_id = call.request.path_params.get("task_id", "")
        return call.task_id

    @handles("task-query")
    async def query(self, call: Call) -> Response:
        task_id = self._task_id(call)
        task = await call.find(task_id)
        if task is None:
            unknown = {"task_id": task_id, "task_status": self.contract.lifecycle.unknown or ""}
            call.unknown(task_id, unknown["task_status"])
            return self._json(call, {"request_id": call.request_id, "output": unknown})
        view = await call.poll(task)
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": view.status,
            "submit_time": self._time(view.submitted),
        }
        if view.scheduled is not None:
            output["scheduled_time"] = self._time(view.scheduled)
        if view.ended is not None:
            output["end_time"] = self._time(view.ended)
        body: dict[str, Any] = {"request_id": call.request_id, "output": output}
        if view.stage == SUCCEEDED:
            url = (await call.result_urls(task, view))[0]
            op = self.contract.operations[task.operation]
            legacy = self.state.option(self.contract, LEGACY_RESULT) == "results"
            if LEGACY_RESULT in op.options and legacy:
                output["results"] = {"image_url": url}
            else:
                output["image_url"] = url
            body["usage"] = {"image_count": task.results}
        elif view.stage == FAILED and view.error is not None:
            output["code"] = str(view.error.code)
            output["message"] = view.error.message
        return self._json(call, body)

    @handles("task-cancel")
    async def cancel(self, call: Call) -> Response:
        task = await call.find(self._task_id(call))
        if task is None:
            raise call.fail("task.not_cancelable")
        if not await self.state.store.tasks.cancel(task, call.now):
            raise call.fail("task.not_cancelable")
        return self._json(call, {"request_id": call.request_id})

    @handles("task-list")
    async def list_tasks(self, call: Call) -> Response:
        q = call.request.query_params
        try:
            page_no = int(q.get("page_no") or 1)
            page_size = int(q.get("page_size") or 10)
            end = self._parse_list_time(q.get("end_time")) or call.now
            start = self._parse_list_time(q.get("start_time")) or end - DAY
        except ValueError:
            raise call.fail("list.invalid") from None
        if page_no < 1 or not 1 <= page_size <= 100 or end < start or end - start > DAY:
            raise call.fail("list.invalid")
        retention = await self.state.retention(self.contract, call.tenant)
        rows = []
        for task in await self.state.store.tasks.of(call.tenant, self.contract.name, call.now, retention):
            view = await call.look(task)
            if not start <= task.created <= end:
                continue
            if q.get("task_id") and q["task_id"] != task.id:
                continue
            if q.get("model_name") and q["model_name"] != task.operation:
                continue
            if q.get("status") and q["status"] != view.status:
                continue
            rows.append(self._list_row(task, view))
        rows.reverse()
        page = rows[(page_no - 1) * page_size : page_no * page_size]
        return self._json(
            call,
            {
                "request_id": call.request_id,
                "total": len(rows),
                "total_page": math.ceil(len(rows) / page_size),
                "page_no": page_no,
                "page_size": page_size,
                "data": page,
            },
        )

    def _list_row(self, task: Task, view: TaskView) -> dict[str, Any]:
        uid = str(int(hashlib.sha256(task.tenant.encode()).hexdigest()[:15], 16))
        endpoint = self.contract.endpoint(self.contract.operations[task.operation].endpoint)
        service = endpoint.paths[0].removeprefix(self.contract.base_path + "/services/")
        row: dict[str, Any] = {
            "api_key_id": uid[:5],
            "caller_parent_id": uid,
            "caller_uid": uid,
            "gmt_create": _ms(task.created),
            "model_name": task.operation,
            "region": "cn-beijing",
            "request_id": task.extra.get("request_id", ""),
            "start_time": _ms(view.scheduled or task.created),
            "status": view.status,
            "task_id": task.id,
            "user_api_unique_key": f"apikey:v1:{service.replace('/', ':')}:{task.operation}",
        }
        if view.ended is not None:
            row["end_time"] = _ms(view.ended)
        return row

    # -- time formats ------------------------------------------------------------------------

    def _zone(self) -> timezone:
        return _zone(self.contract.time_zone)

    def _time(self, epoch: float) -> str:
        return _time_text(epoch, self.contract.time_zone)

    def _parse_list_time(self, text: str | None) -> float | None:
        if not text:
            return None
        return datetime.strptime(text, LIST_TIME).replace(tzinfo=self._zone()).timestamp()


@lru_cache(maxsize=16)
def _zone(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


@lru_cache(maxsize=65_536)  # a task's submit, schedule and end times are read on every poll
def _time_text(epoch: float, offset: str) -> str:
    return datetime.fromtimestamp(epoch, _zone(offset)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _ms(epoch: float) -> int:
    return int(epoch * 1000)
