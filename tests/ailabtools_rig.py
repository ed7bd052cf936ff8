"""What the AILabTools tests share: the contract's routes and the fields and files each try-on
endpoint documents; multipart submits and async queries of an in-process app (manual clock); and
the checks of an answer's public parameters (request_id, log_id, error_code, error_code_str,
error_msg, error_detail) for a success and for the contract's error, every code, message and
status read from the contract."""

from __future__ import annotations

import io
import os
import re
from functools import cache
from typing import Any

import httpx2
from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from mock_server.assets import asset_bytes
from tests.helpers import conforms, png_of

VENDOR = "ailabtools"
CONTRACT = contracts.load(VENDOR)
KEY = CONTRACT.default_credentials[0]["api_key"]
HEADER = "ailabapi-api-key"
HEADERS = {HEADER: KEY}
QUERY_ID = "query-async-task-result"
QUERY = CONTRACT.endpoint(QUERY_ID).paths[0]
PATHS = {e.id: e.paths[0] for e in CONTRACT.endpoints if e.kind == "submit"}
REFINER, PLAIN, PRO, PREMIUM = (
    "try-on-clothes-refiner",
    "try-on-clothes",
    "try-on-clothes-pro",
    "try-on-clothes-premium",
)
OPS = {op.endpoint: op for op in CONTRACT.operations.values()}
LIFE = CONTRACT.lifecycle
TASK_ID = re.compile(r"^[0-9]{13}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The text fields and file parts each endpoint documents (required ones).
TEXT = {
    REFINER: {"task_type": "async", "gender": "woman"},
    PLAIN: {"task_type": "async", "clothes_type": "upper_body"},
    PRO: {"task_type": "async"},
    PREMIUM: {"task_type": "async"},
}
FILES = {
    REFINER: {"person_image": "person.png", "top_garment": "top.png", "coarse_image": "coarse.png"},
    PLAIN: {"person_image": "person.png", "clothes_image": "top.png"},
    PRO: {"person_image": "person.png", "top_garment": "top.png"},
    PREMIUM: {"person_image": "person.png", "top_garment": "top.png"},
}
OUTPUT_ENDPOINTS = (REFINER, PRO, PREMIUM)  # answer output.image_url + usage


# -- helpers -------------------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


@cache
def noise_png(side: int) -> bytes:
    """An uncompressible PNG: its size is about 3 * side * side bytes."""
    return png_bytes(Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)))


def file_part(value: str | bytes, name: str = "image.png") -> tuple[str, bytes, str]:
    data = asset_bytes(value) if isinstance(value, str) else value
    kind = "image/gif" if name.endswith(".gif") else "image/png"
    return (name, data, kind)


def files_of(endpoint: str, **override: str | bytes | None) -> dict[str, tuple[str, bytes, str]]:
    chosen: dict[str, str | bytes | None] = {**FILES[endpoint], **override}
    return {
        field: file_part(value, value if isinstance(value, str) else f"{field}.png")
        for field, value in chosen.items()
        if value is not None
    }


def submit(
    client: TestClient,
    endpoint: str,
    text: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    return client.post(
        PATHS[endpoint],
        data=TEXT[endpoint] if text is None else text,
        files=files_of(endpoint) if files is None else files,
        headers=HEADERS if headers is None else headers,
    )


def query(client: TestClient, task_id: str | None, headers: dict[str, str] | None = None) -> httpx2.Response:
    params = {} if task_id is None else {"task_id": task_id}
    return client.get(QUERY, params=params, headers=HEADERS if headers is None else headers)


def advance(client: TestClient, seconds: float) -> None:
    client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


def assert_public_ok(response: httpx2.Response) -> dict[str, Any]:
    """A 200 answer with the public parameters of a success."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert (body["error_code"], body["error_code_str"], body["error_msg"]) == (0, "", "")
    assert body["error_detail"] == {"status_code": 200, "code": "", "code_message": "", "message": ""}
    return body


def assert_error(
    response: httpx2.Response, error: ErrorCode, endpoint: str = PRO, message: str | None = None
) -> dict[str, Any]:
    """The contract's error in the AILabTools envelope, with every public parameter."""
    assert response.status_code == error.http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = conforms(endpoint, response, VENDOR)
    detail = body["error_detail"]
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert (detail["status_code"], detail["code"], detail["code_message"]) == (
        error.http_status,
        error.code,
        error.message,
    )
    assert (body["error_code"], body["error_code_str"]) == (error.http_status, error.code)
    assert body["error_msg"] == detail["message"]
    assert detail["message"].startswith(error.message), detail["message"]
    if message is not None:
        assert detail["message"] == message
    return body


def task_of(
    client: TestClient,
    endpoint: str = PRO,
    text: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    response = submit(client, endpoint, text, files, headers)
    body = assert_public_ok(response)
    conforms(endpoint, response, VENDOR)
    assert body["task_type"] == "async"
    assert TASK_ID.match(body["task_id"]), body["task_id"]
    return str(body["task_id"])


def done(client: TestClient, endpoint: str = PRO) -> float:
    """Advance past the whole run of an operation; the seconds advanced."""
    op = OPS[endpoint]
    total = op.queue_seconds + op.run_seconds
    advance(client, total)
    return total


def result_url(body: dict[str, Any], endpoint: str) -> str:
    if OPS[endpoint].answer["result"] == "data.image":
        return str(body["data"]["image"])
    return str(body["output"]["image_url"])


def download(client: Any, url: str) -> Image.Image:
    return png_of(client.get(url))


def still_serving(client: TestClient) -> None:
    task_of(client, PRO)


# vendor-docs/002, "Querying Async Task Results", "Example": the layout every answer has.
QUERY_EXAMPLE: dict[str, Any] = {
    "error_code": 0,
    "error_code_str": "",
    "error_msg": "",
    "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    "task_status": 0,
    "output": {"task_status": "", "image_url": ""},
    "usage": {"image_count": 0},
}
