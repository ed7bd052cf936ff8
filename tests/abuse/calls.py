"""The abuse suite's valid request to every vendor endpoint (a submit on the sample images the
mock serves itself, or a read of an unknown task), authenticated as a tenant with the vendor's
simplest scheme, as a ``Call`` that can go out through httpx or a raw socket; the endpoint lists
the tests are parametrized over; and the vendor's task read that follows a submit up."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

import contracts
from contracts.model import Endpoint
from mock_server.assets import asset_bytes
from mock_server.testing import MockServer, Tenant
from tests.helpers import v2_signed

MB = 1024 * 1024
SMALL_LIMIT = 2 * MB  # max_body_bytes of the main server: the chunked 100 MB case stays fast
BODY_TIMEOUT = 1.0  # body_timeout of the main server: the slow drip ends after this
HUNDRED_MB = 100 * MB
TASK_ID = "abuse-0000-unknown-task"

VENDORS = contracts.vendor_names()


def all_endpoints() -> list[tuple[str, Endpoint]]:
    return [(v, e) for v in VENDORS for e in contracts.load(v).endpoints]


def _param(vendor: str, endpoint: Endpoint) -> Any:
    return pytest.param(vendor, endpoint.id, id=f"{vendor}:{endpoint.id}")


def reads_body(endpoint: Endpoint) -> bool:
    """Whether the endpoint takes its request from the body (JSON or multipart); the others
    (GETs, DashScope's cancel) answer as if no body came."""
    return endpoint.method == "POST" and bool(endpoint.request_schema or endpoint.carrier_fields)


def is_multipart(endpoint: Endpoint) -> bool:
    return endpoint.request_content_type.startswith("multipart/")


ENDPOINTS = [_param(v, e) for v, e in all_endpoints()]
READERS = [_param(v, e) for v, e in all_endpoints() if reads_body(e)]
IGNORERS = [_param(v, e) for v, e in all_endpoints() if not reads_body(e)]
JSON_READERS = [_param(v, e) for v, e in all_endpoints() if reads_body(e) and not is_multipart(e)]
MULTIPART = [_param(v, e) for v, e in all_endpoints() if is_multipart(e)]

# -- valid requests, one per endpoint --------------------------------------------------------------

AILAB_TEXT = {
    "try-on-clothes-refiner": {"task_type": "async", "gender": "woman"},
    "try-on-clothes": {"task_type": "async", "clothes_type": "upper_body"},
    "try-on-clothes-pro": {"task_type": "async"},
    "try-on-clothes-premium": {"task_type": "async"},
}
AILAB_FILES = {
    "try-on-clothes-refiner": {
        "person_image": "person.png",
        "top_garment": "top.png",
        "coarse_image": "coarse.png",
    },
    "try-on-clothes": {"person_image": "person.png", "clothes_image": "top.png"},
    "try-on-clothes-pro": {"person_image": "person.png", "top_garment": "top.png"},
    "try-on-clothes-premium": {"person_image": "person.png", "top_garment": "top.png"},
}


def _aidge_items(asset: Callable[[str], str]) -> dict[str, Any]:
    items = [{"clothesList": [{"imageUrl": asset("top.png"), "type": "tops"}], "generateCount": 1}]
    return {"requestParams": json.dumps(items)}


# The JSON document of a valid request to each endpoint that reads a JSON body, on the sample
# images the mock serves itself; None for those that take no body.
JSON_DOCS: dict[tuple[str, str], Callable[[Callable[[str], str]], dict[str, Any]] | None] = {
    ("dashscope", "image-synthesis"): lambda a: {
        "model": "aitryon",
        "input": {"person_image_url": a("person.png"), "top_garment_url": a("top.png")},
    },
    ("dashscope", "image-process"): lambda a: {
        "model": "aitryon-parsing-v1",
        "input": {"image_url": a("person.png")},
        "parameters": {"clothes_type": ["upper"]},
    },
    ("dashscope", "task-query"): None,
    ("dashscope", "task-cancel"): None,
    ("dashscope", "task-list"): None,
    ("dashscope", "uploads-policy"): None,
    ("aidge", "tryon"): _aidge_items,
    ("aidge", "tryon-pro"): _aidge_items,
    ("aidge", "tryon-results"): lambda a: {"task_id": TASK_ID},
    ("aidge", "tryon-results-get"): None,
    ("aidge", "balance"): lambda a: {"apiPath": "/ai/virtual/tryon"},
    ("damo", "submit"): lambda a: {
        "data": {
            "fit_type": "HALF_BODY",
            "task_list": [{"model_image": a("person.png"), "tops_image": a("top.png")}],
        }
    },
    ("damo", "query"): lambda a: {"data": {"result_key": TASK_ID}},
    ("ailabtools", "query-async-task-result"): None,
}
QUERY_PARAMS = {
    ("dashscope", "uploads-policy"): {"action": "getPolicy", "model": "aitryon"},
    ("aidge", "tryon-results-get"): {"task_id": TASK_ID},
    ("ailabtools", "query-async-task-result"): {"task_id": TASK_ID},
}


@dataclass(frozen=True)
class Call:
    """One request, as bytes-level parts, so it can go out through httpx or a raw socket."""

    vendor: str
    endpoint: Endpoint
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def target(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")

    def with_headers(self, **changes: str | None) -> Call:
        """A copy with headers changed (case-insensitively); None removes one."""
        lowered = {k.lower() for k in changes}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in lowered}
        headers.update({k: v for k, v in changes.items() if v is not None})
        return replace(self, headers=headers)

    def with_body(self, body: bytes, content_type: str | None = "application/json") -> Call:
        return replace(self, body=body).with_headers(**{"Content-Type": content_type})


def credentials(vendor: str, tenant: Tenant) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query parameters) that authenticate as ``tenant`` with ``vendor``'s simplest
    scheme: DashScope's Bearer key, AILabTools' key header, DAMO's APPCODE, Aidge's v2 signature."""
    creds = tenant.credentials[vendor]
    if vendor == "dashscope":
        return {"Authorization": f"Bearer {creds['api_key']}"}, {}
    if vendor == "ailabtools":
        return {"ailabapi-api-key": creds["api_key"]}, {}
    if vendor == "damo":
        return {"Authorization": f"APPCODE {creds['appcode']}"}, {}
    if vendor == "aidge":
        return {}, v2_signed(creds["app_key"], creds["app_secret"])
    raise AssertionError(f"no credentials recipe for {vendor}")


def multipart_form(endpoint_id: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a valid AILabTools form, as httpx encodes it."""
    files = {
        name: (asset, asset_bytes(asset), "image/png") for name, asset in AILAB_FILES[endpoint_id].items()
    }
    request = httpx.Request("POST", "http://x/", data=AILAB_TEXT[endpoint_id], files=files)
    return request.headers["content-type"], request.read()


def upload_form(server: MockServer, headers: dict[str, str]) -> tuple[str, bytes]:
    """(Content-Type, body) of a valid DashScope upload form: a fresh policy's fields and a file
    (the form carries the upload's credentials)."""
    params = {"action": "getPolicy", "model": "aitryon"}
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        answer = http.get("/api/v1/uploads", params=params, headers=headers)
    answer.raise_for_status()
    policy = answer.json()["data"]
    fields = {
        "OSSAccessKeyId": policy["oss_access_key_id"],
        "Signature": policy["signature"],
        "policy": policy["policy"],
        "key": f"{policy['upload_dir']}/person.png",
        "success_action_status": "200",
    }
    files = {"file": ("person.png", asset_bytes("person.png"), "image/png")}
    request = httpx.Request("POST", "http://x/", data=fields, files=files)
    return request.headers["content-type"], request.read()


def valid_call(server: MockServer, tenant: Tenant, vendor: str, endpoint_id: str) -> Call:
    """A well-formed, authenticated request to the endpoint (a submit on sample images; a read
    of an unknown task)."""
    contract = contracts.load(vendor)
    endpoint = contract.endpoint(endpoint_id)
    headers, params = credentials(vendor, tenant)
    headers.update(endpoint.headers)
    params.update(QUERY_PARAMS.get((vendor, endpoint_id), {}))
    path = re.sub(r"{[^}]+}", TASK_ID, endpoint.paths[0])
    call = Call(vendor, endpoint, endpoint.method, path, params, headers)
    if (vendor, endpoint_id) == ("dashscope", "oss-upload"):
        kind, body = upload_form(server, headers)
        return call.with_body(body, kind)
    if is_multipart(endpoint):
        kind, body = multipart_form(endpoint_id)
        return call.with_body(body, kind)
    doc = JSON_DOCS[(vendor, endpoint_id)]
    if doc is None:
        return call
    return call.with_body(json.dumps(doc(lambda name: f"{server.url}/_mock/assets/{name}")).encode())


def unauthenticated(call: Call) -> Call:
    """The call without any credential (no auth header, no signature parameters)."""
    return replace(call, params={k: v for k, v in call.params.items() if k in ("task_id",)}).with_headers(
        Authorization=None, **{"ailabapi-api-key": None}
    )


MARK = "X-Abuse-Mark"  # a header that singles a call out in the journal


# -- following a submit up ---------------------------------------------------------------------------

TASK_POINTERS = {
    "dashscope": "/output/task_id",
    "aidge": "/data/result/taskId",
    "damo": "/data/result_key",
    "ailabtools": "/task_id",
}


def query_of(server: MockServer, tenant: Tenant, vendor: str, task_id: str) -> Call:
    """The vendor's task read, for ``task_id``."""
    query = next(e for e in contracts.load(vendor).endpoints if e.kind == "query")
    call = valid_call(server, tenant, vendor, query.id)
    return replace(
        call,
        path=call.path.replace(TASK_ID, task_id),
        params={k: v.replace(TASK_ID, task_id) for k, v in call.params.items()},
        body=call.body.replace(TASK_ID.encode(), json.dumps(task_id)[1:-1].encode()),
    )
