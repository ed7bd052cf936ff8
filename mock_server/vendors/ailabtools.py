"""AILabTools (ailabapi.com): the ``ailabapi-api-key`` header, multipart uploads, async tasks read
through the common query API, and the public parameters on every answer."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import ErrorCode, Operation
from mock_server import multipart
from mock_server.exchange import Call, Handler, Vendor, VendorError, json_response
from mock_server.tasks import FAILED, QUEUED, RUNNING, SUCCEEDED, Task
from mock_server.uploads import PREFIX as UPLOADS
from mock_server.uploads import Upload

KEY_HEADER = "ailabapi-api-key"
ASYNC = "async"
# The query's integer task_status (0 queued, 1 processing, 2 success), by task stage.
STAGE_CODES = {QUEUED: 0, RUNNING: 1, SUCCEEDED: 2}
FORM_LIMITS = multipart.Limits(parts=12, field_bytes=64 * 1024, file_bytes=32 * 1024 * 1024)
EMPTY = "Cannot be empty."
INVALID = "Invalid value."


class AILabTools(Vendor):
    contract = contracts.load("ailabtools")

    def handlers(self) -> dict[str, Handler]:
        submits: dict[str, Handler] = {
            e.id: self.submit for e in self.contract.endpoints if e.kind == "submit"
        }
        return {**submits, "query-async-task-result": self.query}

    def claims(self, request: Request) -> bool:
        return KEY_HEADER in request.headers

    # -- auth and envelope -------------------------------------------------------------------

    def authenticate(self, call: Call) -> str:
        key = call.headers.get(KEY_HEADER, "").strip()
        if not key:
            raise call.fail("auth.missing")
        credential = self.state.credentials.get(self.contract.name, key)
        if credential is None:
            raise call.fail("auth.invalid")
        return credential.tenant

    def error_response(self, call: Call, error: ErrorCode, **details: Any) -> Response:
        detail = str(details.get("detail", ""))
        message = f"{error.message} - {detail}" if detail else error.message
        body = self._public(call, error.http_status, str(error.code), error.message, message)
        return json_response(body, error.http_status)

    @staticmethod
    def _public(
        call: Call, status: int = 200, code: str = "", summary: str = "", message: str = ""
    ) -> dict[str, Any]:
        """The public parameters every answer carries (current and legacy fields together)."""
        return {
            "request_id": call.request_id,
            "log_id": call.request_id.replace("-", "")[:16],
            "error_code": 0 if status == 200 else status,
            "error_code_str": code,
            "error_msg": message,
            "error_detail": {
                "status_code": status,
                "code": code,
                "code_message": summary,
                "message": message,
            },
        }

    # -- submit ------------------------------------------------------------------------------

    async def submit(self, call: Call) -> Response:
        op = next(o for o in self.contract.operations.values() if o.endpoint == call.endpoint.id)
        doc = await self._form(call, op)
        found = self.contract.request_violation(self.contract.violations(op.request_schema, doc))
        if found:
            error, keyword, pointer = found
            field = pointer.strip("/").split("/")[0]
            raise VendorError(
                error, detail=f"{field}: {EMPTY if keyword in ('required', 'pattern') else INVALID}"
            )
        checked = await self.state.check_images(self.contract, op, doc, call.own_host, call.tenant)
        pending = call.deferred_faults()
        failure = pending.pop("task", None)
        if failure is None and checked.error is not None:
            if checked.error.can_occur(call.endpoint.kind):
                raise VendorError(checked.error)
            failure = checked.error
        task_id = f"{int(call.now * 1000)}.{self.state.ids.uuid()}"
        self.state.new_task(
            self.contract,
            op,
            task_id=task_id,
            tenant=call.tenant or "",
            doc=doc,
            own_host=call.own_host,
            error=failure,
            pending=pending,
        )
        call.task_id = task_id
        return json_response({**self._public(call), "task_type": ASYNC, "task_id": task_id})

    async def _form(self, call: Call, op: Operation) -> dict[str, str]:
        """The multipart form as a flat document: text fields, and each file part stored as an
        upload of this tenant and given by its URL on the mock. Only a file part fills an image
        field: a text value there counts as missing, as on the live service."""
        try:
            form = multipart.parse(call.headers.get("content-type", ""), call.body, FORM_LIMITS)
        except multipart.MultipartError as exc:
            situation = {
                multipart.TOO_MANY_PARTS: "form.too_many_parts",
                multipart.FIELD_TOO_LARGE: "form.field_too_large",
                multipart.FILE_TOO_LARGE: "form.file_too_large",
            }.get(exc.kind, "body.invalid")
            raise call.fail(situation, detail=f"{exc.name}: {INVALID}" if exc.name else "") from None
        image_fields = {item.pointer.strip("/") for item in op.images}
        doc = {name: value for name, value in form.fields.items() if name not in image_fields}
        digests: dict[str, str] = {}
        for name, part in form.files.items():
            digest = hashlib.sha256(part.data).hexdigest()
            # the same bytes from the same tenant are one upload: stored once, inspected once
            upload_id = hashlib.sha256(f"{call.tenant}:{digest}".encode()).hexdigest()[:24]
            upload = self.state.uploads.put(
                Upload(id=upload_id, data=part.data, media_type=part.content_type, tenant=call.tenant)
            )
            doc[name] = f"{call.base_url}{UPLOADS}{upload.id}"
            digests[name] = "sha256:" + digest
        call.params = {**doc, **digests}
        return doc

    # -- query -------------------------------------------------------------------------------

    async def query(self, call: Call) -> Response:
        task_id = call.request.query_params.get("task_id", "")
        if not task_id:
            raise call.fail("query.missing", detail=f"task_id: {EMPTY}")
        call.task_id = task_id
        retention = self.state.retention(self.contract, call.tenant)
        task = self.state.tasks.get(call.tenant or "", task_id, call.now, retention)
        if task is None:
            raise call.fail("task.unknown")
        call.raise_deferred(task)
        view = call.poll(task)
        if view.stage == FAILED and view.error is not None:
            raise VendorError(view.error)
        body = {**self._public(call), "task_status": STAGE_CODES[view.stage]}
        body.update(self._result(task, view.status, view.stage == SUCCEEDED, call))
        return json_response(body)

    def _result(self, task: Task, status: str, done: bool, call: Call) -> dict[str, Any]:
        op: Operation = self.contract.operations[task.operation]
        urls = self.state.result_urls(task, call.base_url, self.contract) if done else []
        if op.answer.get("result") == "data.image":
            return {"data": {"image": urls[0]}} if done else {}
        output: dict[str, Any] = {"task_status": status}
        if done:
            output["image_url"] = urls[0]
            return {"output": output, "usage": {"image_count": len(urls)}}
        return {"output": output}
