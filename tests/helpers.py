"""Helpers the tests import: the DashScope routes and key, sample asset links, a contract check
for answers, the shape of an answer (keys and value types), a DashScope caller, Aidge v2 signing
and a PNG reader. Fixtures live in conftest.py."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeAlias

import httpx
import httpx2
from PIL import Image
from starlette.testclient import TestClient

import contracts

SYNTHESIS = "/api/v1/services/aigc/image2image/image-synthesis"
PROCESS = "/api/v1/services/vision/image-process/process"
KEY = contracts.load("dashscope").default_credentials[0]["api_key"]

# What TestClient answers (httpx2) or a client of a real server on loopback answers (httpx).
AnyResponse: TypeAlias = httpx.Response | httpx2.Response


def asset(name: str) -> str:
    return f"http://testserver/_mock/assets/{name}"


def person_on(url: str, top: str = "top.png") -> dict[str, str]:
    """First-stage inputs: this person image with a sample top."""
    return {"person_image_url": url, "top_garment_url": asset(top)}


def refiner_on(coarse: str) -> dict[str, str]:
    """Refiner inputs: the sample person and top with this first-stage result."""
    return {**person_on(asset("person.png")), "coarse_image_url": coarse}


def conforms(
    endpoint_id: str, response: AnyResponse, vendor: str = "dashscope", schema: str | None = None
) -> dict[str, Any]:
    """The body, after checking it against the contract's schema for this endpoint and status
    (or the schema named, for vendors that answer errors with HTTP 200 too)."""
    contract = contracts.load(vendor)
    schema = schema or contract.endpoint(endpoint_id).response_schema(response.status_code)
    assert schema is not None, f"{endpoint_id} documents no {response.status_code} answer"
    body = response.json()
    problems = [e.message for e in contract.validator(schema).iter_errors(body)]
    assert not problems, f"{endpoint_id} {response.status_code} breaks {schema}: {problems}"
    assert isinstance(body, dict), f"{endpoint_id} {response.status_code} answered {body!r}, not an object"
    return body


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys kept, leaves replaced by their type name, lists by
    the shape of their first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


class DashScopeCaller:
    """Calls the DashScope routes of an in-process app as the official SDK does. Extra headers
    come as a mapping: their names (X-Mock-Fault, X-DashScope-...) are no Python keywords."""

    def __init__(self, client: TestClient, key: str = KEY) -> None:
        self.client = client
        self.key = key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "X-DashScope-Async": "enable", **extra}

    def submit(
        self,
        model: str = "aitryon",
        inputs: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        if inputs is None:
            inputs = {"person_image_url": asset("person.png"), "top_garment_url": asset("top.png")}
        body: dict[str, Any] = {"model": model, "input": inputs}
        if parameters is not None:
            body["parameters"] = parameters
        return self.client.post(SYNTHESIS, json=body, headers=self.headers(**(headers or {})))

    def task_id(
        self,
        model: str = "aitryon",
        inputs: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        response = self.submit(model, inputs, parameters, headers)
        assert response.status_code == 200, response.text
        task_id = conforms("image-synthesis", response)["output"]["task_id"]
        assert isinstance(task_id, str)
        return task_id

    def query(self, task_id: str, headers: Mapping[str, str] | None = None) -> httpx2.Response:
        return self.client.get(f"/api/v1/tasks/{task_id}", headers=self.headers(**(headers or {})))

    def policy(self, model: str = "aitryon") -> dict[str, Any]:
        """An upload policy for DashScope's temporary storage (the ``data`` of getPolicy)."""
        response = self.client.get(
            "/api/v1/uploads", params={"action": "getPolicy", "model": model}, headers=self.headers()
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = conforms("uploads-policy", response)["data"]
        return data

    def upload(
        self,
        policy: Mapping[str, Any],
        data: bytes,
        name: str = "person.png",
        headers: Mapping[str, str] | None = None,
        **changes: str,
    ) -> httpx2.Response:
        """The PostObject form the dashscope SDK sends to the policy's upload host (``changes``
        replace its fields)."""
        form = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": f"{policy['upload_dir']}/{name}",
            "x-oss-object-acl": policy["x_oss_object_acl"],
            "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200",
            "x-oss-content-type": "image/png",
            **changes,
        }
        path = httpx2.URL(policy["upload_host"]).path
        return self.client.post(path, data=form, files={"file": (name, data)}, headers=dict(headers or {}))

    def output(self, task_id: str) -> dict[str, Any]:
        response = self.query(task_id)
        assert response.status_code == 200, response.text
        output = conforms("task-query", response)["output"]
        assert isinstance(output, dict)
        return output

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


def v2_signed(app_key: str, secret: str, stamp: str | None = None, sign: str | None = None) -> dict[str, str]:
    """The query parameters of an Aidge call signed the way the official v2 samples sign
    (HMAC-SHA256 of secret + millisecond timestamp, upper-case hex), written from the recipe."""
    stamp = stamp or str(int(time.time() * 1000))
    digest = hmac.new(secret.encode(), (secret + stamp).encode(), hashlib.sha256).hexdigest().upper()
    return {
        "partner_id": "aidge",
        "sign_method": "sha256",
        "sign_ver": "v2",
        "app_key": app_key,
        "timestamp": stamp,
        "sign": sign or digest,
    }


def png_of(answer: AnyResponse) -> Image.Image:
    """The PNG a result link answered (after checking it is one)."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    image.load()
    assert image.format == "PNG"
    return image


def rgb_colours(im: Image.Image) -> list[tuple[int, tuple[int, ...]]]:
    """(pixel count, (r, g, b)) for every colour of the image, converted to RGB."""
    colours = im.convert("RGB").getcolors(im.width * im.height)
    assert colours is not None  # an image has no more colours than pixels
    counted: list[tuple[int, tuple[int, ...]]] = []
    for n, colour in colours:
        assert isinstance(colour, tuple)  # RGB colours are tuples; Pillow types single bands' too
        counted.append((n, colour))
    return counted


class QuietHandler(BaseHTTPRequestHandler):
    """A loopback image server's handler for tests: it logs nothing, and ``answer`` sends bytes."""

    def answer(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass
