"""DashScope's temporary storage: the upload policy (``GET /api/v1/uploads?action=getPolicy``) and
the upload host it names, an OSS PostObject form the mock checks as OSS would.

The policy is OSS's: Base64 of a JSON document with an ``expiration`` and ``conditions``, signed
``Base64(HMAC-SHA1(secret, policy))``. The mock's secret and access key id derive from its result
secret (shared by every worker of one state). The policy also names the uploading tenant and
model (``x-mock-tenant``, ``x-mock-model``): the signature vouches for them, so the upload host
needs no memory of the policies it gave out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from typing import Any, NamedTuple

from contracts.model import Contract, Operation
from mock_server import multipart
from mock_server.call import Call

DIR_ROOT = "dashscope-instant"
TENANT_CONDITION, MODEL_CONDITION = "x-mock-tenant", "x-mock-model"
FORM_LIMITS = multipart.Limits(parts=24, field_bytes=128 * 1024, file_bytes=64 * 1024 * 1024)
STATUSES = {"200": 200, "201": 201, "204": 204}
MB = 1024 * 1024


class Posted(NamedTuple):
    """A PostObject form that passed the policy: who uploaded what, under which key."""

    tenant: str
    model: str
    key: str
    data: bytes
    media_type: str
    status: int
    forbid_overwrite: bool


def _key(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, purpose, hashlib.sha256).digest()


def access_key_id(secret: bytes) -> str:
    return "LTAI5t" + _key(secret, b"oss-access-key-id").hex()[:18]


def sign(secret: bytes, policy: str) -> str:
    digest = hmac.new(_key(secret, b"oss-access-key-secret"), policy.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def max_bytes(operation: Operation | None) -> int:
    """The model's file limit: its largest documented image size (5 MB for the try-on models)."""
    sizes = [item.limits.max_bytes for item in operation.images if item.limits.max_bytes] if operation else []
    return max(sizes, default=100 * MB)


def policy(call: Call, secret: bytes, contract: Contract, model: str, upload_id: str) -> dict[str, Any]:
    """The ``data`` of a getPolicy answer for the caller and ``model``."""
    objects = contract.object_urls
    assert objects is not None
    seconds = int(objects.policy_seconds)
    limit = max_bytes(contract.operations.get(model))
    now = call.now
    folder = _key(secret, b"tenant:" + call.tenant.encode()).hex()[:32]
    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    upload_dir = f"{DIR_ROOT}/{folder}/{day}/{upload_id}"
    expiration = datetime.fromtimestamp(now + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    document = {
        "expiration": expiration,
        "conditions": [
            {"bucket": objects.bucket},
            ["content-length-range", 0, limit],
            ["starts-with", "$key", upload_dir],
            {"x-oss-object-acl": "private"},
            {"x-oss-forbid-overwrite": "true"},
            {TENANT_CONDITION: call.tenant},
            {MODEL_CONDITION: model},
        ],
    }
    encoded = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    host_path = next(e for e in contract.endpoints if e.id == "oss-upload").paths[0]
    return {
        "policy": encoded,
        "signature": sign(secret, encoded),
        "upload_dir": upload_dir,
        "upload_host": call.base_url + host_path,
        "expire_in_seconds": seconds,
        "max_file_size_mb": math.ceil(limit / MB),
        "capacity_limit_mb": 999999999,
        "oss_access_key_id": access_key_id(secret),
        "x_oss_object_acl": "private",
        "x_oss_forbid_overwrite": "true",
    }


def posted(call: Call, secret: bytes) -> Posted:
    """The upload a PostObject form makes, once OSS's checks pass; the vendor error of the first
    that fails: the form, the access key id, the signature, the policy, its expiry and conditions."""
    fields, file = _form(call)
    if not _same(fields["OSSAccessKeyId"], access_key_id(secret)):
        raise call.fail("upload.bad_key_id")
    if not _same(fields["Signature"], sign(secret, fields["policy"])):
        raise call.fail("upload.bad_signature")
    try:
        document = json.loads(base64.b64decode(fields["policy"], validate=True))
        expires = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        conditions = document["conditions"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise call.fail("upload.bad_policy") from None
    if call.now >= expires.timestamp():
        raise call.fail("upload.expired")
    named = _conditions(call, conditions, fields, len(file.data))
    return Posted(
        tenant=named.get(TENANT_CONDITION, ""),
        model=named.get(MODEL_CONDITION, ""),
        key=fields["key"],
        data=file.data,
        media_type=fields.get("x-oss-content-type") or file.content_type or "application/octet-stream",
        status=STATUSES.get(fields.get("success_action_status", ""), 204),
        forbid_overwrite=fields.get("x-oss-forbid-overwrite", named.get("x-oss-forbid-overwrite")) == "true",
    )


def _same(sent: str, expected: str) -> bool:
    """A constant-time comparison that takes any text a form may hold (not only ASCII)."""
    return hmac.compare_digest(sent.encode(), expected.encode())


def _form(call: Call) -> tuple[dict[str, str], multipart.FilePart]:
    """The form's fields and its file; the error for a form OSS cannot read."""
    try:
        form = multipart.parse(call.headers.get("content-type", ""), call.body, FORM_LIMITS)
    except multipart.MultipartError as exc:
        too_large = exc.kind == multipart.FILE_TOO_LARGE
        raise call.fail("upload.too_large" if too_large else "upload.malformed") from None
    fields, file = form.fields, form.files.get("file")
    if file is None or not all(fields.get(k) for k in ("OSSAccessKeyId", "Signature", "policy", "key")):
        raise call.fail("upload.malformed")
    return fields, file


def _conditions(call: Call, conditions: list[Any], fields: dict[str, str], size: int) -> dict[str, str]:
    """The policy's named values, once the form meets each of its conditions."""
    named: dict[str, str] = {}
    for condition in conditions:
        if isinstance(condition, dict):
            named.update({str(k): str(v) for k, v in condition.items()})
        elif condition[0] == "starts-with" and not fields["key"].startswith(condition[2]):
            raise call.fail("upload.condition_failed", json.dumps(condition))
        elif condition[0] == "content-length-range" and not condition[1] <= size <= condition[2]:
            raise call.fail("upload.too_large")
    for name in ("x-oss-object-acl", "x-oss-forbid-overwrite"):
        if name in fields and fields[name] != named.get(name, fields[name]):
            raise call.fail("upload.condition_failed", json.dumps({name: named[name]}))
    return named


def request_id(call: Call) -> str:
    """The call's id as OSS writes its request ids (24 upper-case hex digits)."""
    return call.request_id.replace("-", "").upper()[:24]


def error_xml(code: str, message: str, request_id: str, host_id: str) -> bytes:
    """OSS's error document."""

    def text(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{text(code)}</Code>\n  <Message>{text(message)}</Message>\n"
        f"  <RequestId>{text(request_id)}</RequestId>\n  <HostId>{text(host_id)}</HostId>\n</Error>\n"
    ).encode()
