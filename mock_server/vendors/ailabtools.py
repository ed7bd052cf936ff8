"""AILabTools (ailabapi.com): the ``ailabapi-api-key`` header, multipart uploads, async tasks read
through the common query API, and the public parameters on every answer.

A query answers the whole layout of the vendor's example at every status (the Pro, Premium and
Refiner ``output`` and ``usage`` included, empty until the result exists), and a failed task's
error answer carries it too, so clients that read those fields never meet a missing key."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import contracts
from contracts.model import ErrorCode, Operation
from contracts.vocabulary import Situation
from mock_server import multipart, submission
from mock_server.answers import json_response
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.store.uploads import PREFIX as UPLOADS
from mock_server.store.uploads import Upload
from mock_server.tasks import FAILED, QUEUED, RUNNING, SUCCEEDED, Task
from mock_server.vendor import Vendor, handles

KEY_HEADER = "ailabapi-api-key"
ASYNC = "async"
# The query's integer task_status (0 queued, 1 processing, 2 success; 3, failed, is the official
# SDK's word, on the failed task's error answer), by task stage.
STAGE_CODES = {QUEUED: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 3}
FORM_LIMITS = multipart.Limits(parts=12, field_bytes=64 * 1024, file_bytes=32 * 1024 * 1024)
EMPTY = "Cannot be empty."
INVALID = "Invalid value."
FORM_SITUATIONS: dict[str, Situation] = {
    multipart.TOO_MANY_PARTS: "form.too_many_parts",
    multipart.FIELD_TOO_LARGE: "form.field_too_large",
    multipart.FILE_TOO_LARGE: "form.file_too_large",
}


class FailedTask(VendorError):
    """A failed task's error, answered with the query's task fields (``fields``) beside it."""

    def __init__(self, error: ErrorCode, fields: dict[str, Any]) -> None:
        super().__init__(error)
        self.fields = fields


class AILabTools(Vendor):
    contract = contracts.load("ailabtools")

    def claims(self, request: Request) -> bool:
        return KEY_HEADER in request.headers

    # -- auth and envelope -------------------------------------------------------------------

    async def authenticate(self, call: Call) -> str:
        key = call.headers.get(KEY_HEADER, "").strip()
        if not key:
            raise call.fail("auth.missing")
        credential = await self.state.store.credentials.get(self.contract.name, key)
        if credential is None:
            raise call.fail("auth.invalid")
        return credential.tenant

    def error_response(self, call: Call, failure: VendorError) -> Response:
        error, detail = failure.error, failure.detail
        if failure.violation is not None:  # the field, and whether it was missing or wrong
            field = failure.violation.pointer.strip("/").split("/")[0]
            empty = failure.violation.keyword in ("required", "pattern")
            detail = f"{field}: {EMPTY if empty else INVALID}"
        message = f"{error.message} - {detail}" if detail else error.message
        body = self._public(call, error.http_status, str(error.code), error.message, message)
        if isinstance(failure, FailedTask):
            body.update(failure.fields)
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

    @handles(kind="submit")
    async def submit(self, call: Call) -> Response:
        op = next(o for o in self.contract.operations.values() if o.endpoint == call.endpoint.id)
        doc = await self._form(call, op)
        call.validate(doc, op.request_schema)
        task_id = f"{int(call.now * 1000)}.{self.state.ids.uuid()}"
        await submission.submit(call, op, [doc], task_id=task_id)
        return json_response({**self._public(call), "task_type": ASYNC, "task_id": task_id})

    async def _form(self, call: Call, op: Operation) -> dict[str, str]:
        """The multipart form as a flat document: text fields, and each file part stored as an
        upload of this tenant and given by its URL on the mock. Only a file part fills an image
        field: a text value there counts as missing, as on the live service."""
        try:
            form = multipart.parse(call.headers.get("content-type", ""), call.body, FORM_LIMITS)
        except multipart.MultipartError as exc:
            situation = FORM_SITUATIONS.get(exc.kind, "body.invalid")
            raise call.fail(situation, f"{exc.name}: {INVALID}" if exc.name else "") from None
        image_fields = {item.pointer.strip("/") for item in op.images}
        doc = {name: value for name, value in form.fields.items() if name not in image_fields}
        digests: dict[str, str] = {}
        for name, part in form.files.items():
            digest = hashlib.sha256(part.data).hexdigest()
            # the same bytes from the same tenant are one upload: stored once, inspected once; keyed
            # by the mock's secret, as its id is all it takes to read it
            secret, named = self.state.store.recipes.secret, f"{call.tenant}:{digest}".encode()
            upload_id = hmac.new(secret, named, hashlib.sha256).hexdigest()[:24]
            upload = await self.state.store.uploads.put(
                Upload(id=upload_id, data=part.data, media_type=part.content_type, tenant=call.tenant)
            )
            doc[name] = f"{call.base_url}{UPLOADS}{upload.id}"
            digests[name] = "sha256:" + digest
        call.params = {**doc, **digests}
        return doc

    # -- query -------------------------------------------------------------------------------

    @handles("query-async-task-result")
    async def query(self, call: Call) -> Response:
        task_id = call.request.query_params.get("task_id", "")
        if not task_id:
            raise call.fail("query.missing", f"task_id: {EMPTY}")
        call.task_id = task_id
        task = await call.find(task_id)
        if task is None:
            raise call.fail("task.unknown")
        view = await call.poll(task)
        urls = await call.result_urls(task, view) if view.stage == SUCCEEDED else []
        fields = {"task_status": STAGE_CODES[view.stage], **self._result(task, view.status, urls)}
        if view.stage == FAILED and view.error is not None:
            raise FailedTask(view.error, fields)
        return json_response({**self._public(call), **fields})

    def _result(self, task: Task, status: str, urls: list[str]) -> dict[str, Any]:
        """The result fields at any status: Try on Clothes' ``data.image`` once there is one; the
        others' ``output`` and ``usage`` always, as the example shows them (``""`` and 0 before)."""
        op: Operation = self.contract.operations[task.operation]
        if op.answer.get("result") == "data.image":
            return {"data": {"image": urls[0]}} if urls else {}
        output = {"task_status": status, "image_url": urls[0] if urls else ""}
        return {"output": output, "usage": {"image_count": len(urls)}}
