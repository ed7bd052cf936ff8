"""What the Aidge tests share: the contract's names for the vendor's APIs and phases, a caller of
the routes of an in-process app as the official v2 HTTP samples call them, the checks of an
accepted and a refused answer against the contract (Aidge answers errors with HTTP 200 too), the
request objects the tests submit, and an independent implementation of the two signatures (hmac
and hashlib only) to check mock_server.vendors.aidge_signing against."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx2
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from tests.helpers import asset, conforms, v2_signed

VENDOR = "aidge"
CONTRACT = contracts.load(VENDOR)
CRED = CONTRACT.default_credentials[0]
APP_KEY, SECRET = CRED["app_key"], CRED["app_secret"]
LIFE = CONTRACT.lifecycle
SUBMITTED, RUNNING = LIFE.phases[0].status, LIFE.phases[-1].status
OPS = {op.endpoint: op for op in CONTRACT.operations.values()}
STD_OP, PRO_OP = OPS["tryon"], OPS["tryon-pro"]


def api_name(endpoint_id: str) -> str:
    """``/ai/virtual/tryon`` from the endpoint's ``/rest/ai/virtual/tryon``."""
    return CONTRACT.endpoint(endpoint_id).paths[0].removeprefix(CONTRACT.base_path)


STANDARD, PRO = api_name("tryon"), api_name("tryon-pro")
RESULTS, BALANCE = api_name("tryon-results"), api_name("balance")
ERROR_SCHEMA = "error.response.schema.json"
INVALID: Situation = "body.invalid"


# -- the caller ----------------------------------------------------------------------------------


class Aidge:
    """Calls the Aidge routes of an in-process app as the official v2 HTTP samples do: the six
    public parameters in the query string, a JSON body, and the ``x-iop-trial`` header."""

    def __init__(self, client: TestClient, app_key: str = APP_KEY, secret: str = SECRET) -> None:
        self.client = client
        self.app_key = app_key
        self.secret = secret

    def signed(self) -> dict[str, str]:
        return v2_signed(self.app_key, self.secret)

    def post(self, api: str, body: Any = None, trial: bool = True) -> httpx2.Response:
        return self.client.post(
            CONTRACT.base_path + api,
            params=self.signed(),
            json={} if body is None else body,
            headers={"x-iop-trial": "true" if trial else "false"},
        )

    def get(self, api: str, params: dict[str, str], trial: bool = True) -> httpx2.Response:
        return self.client.get(
            CONTRACT.base_path + api,
            params={**self.signed(), **params},
            headers={"x-iop-trial": "true" if trial else "false"},
        )

    def submit(
        self,
        items: Any,
        api: str = STANDARD,
        key: str = "requestParams",
        encode: bool = True,
        trial: bool = True,
    ) -> httpx2.Response:
        """``items`` JSON-encoded into a string (as all samples do), or sent as raw JSON."""
        return self.post(api, {key: json.dumps(items) if encode else items}, trial)

    def task_id(self, items: Any, api: str = STANDARD, **kwargs: Any) -> str:
        body = accepted(self.submit(items, api, **kwargs))
        return str(body["data"]["result"]["taskId"])

    def results(self, task_id: str) -> dict[str, Any]:
        body = accepted(self.post(RESULTS, {"task_id": task_id}), "tryon-results")
        assert body["data"]["taskId"] == task_id
        return body

    def balance(self, api: str = STANDARD, trial: bool = True) -> int:
        response = self.post(BALANCE, {"apiPath": api}, trial)
        body = conforms("balance", response, VENDOR)
        return int(body["data"]["balance"])

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()

    def finish(self, op: Any = STD_OP) -> None:
        self.advance(op.queue_seconds + op.run_seconds)


def accepted(response: httpx2.Response, endpoint_id: str = "tryon") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = conforms(endpoint_id, response, VENDOR)
    assert body["resCode"] in (200, "200"), body
    return body


def refused(response: httpx2.Response, error: ErrorCode, field: str | None = None) -> dict[str, Any]:
    """The answer is ``error`` in its own envelope; business errors name ``field`` when given."""
    assert response.status_code == error.http_status, response.text
    body: dict[str, Any] = conforms("tryon", response, VENDOR, schema=ERROR_SCHEMA)
    if error.envelope == "gateway":
        assert set(body) == {"type", "code", "message", "request_id"}, body
        assert (body["type"], body["code"], body["message"]) == ("ISV", error.code, error.message)
        return body
    assert (body["code"], body["data"]) == ("0", None), body
    assert body["resCode"] in (error.code, str(error.code)), body
    assert body["success"] in (False, "false"), body
    expected = f"{error.message}: {field}" if field else error.message
    assert body["resMessage"] == expected, body
    return body


def item(garment: str = "top.png", kind: str = "tops", **extra: Any) -> dict[str, Any]:
    return {"clothesList": [{"imageUrl": asset(garment), "type": kind}], **extra}


def suit(top: str = "top.png", bottom: str = "bottom.png", **extra: Any) -> dict[str, Any]:
    garments = [{"imageUrl": asset(top), "type": "tops"}, {"imageUrl": asset(bottom), "type": "bottoms"}]
    return {"clothesList": garments, **extra}


def sub_tasks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["data"]["taskResult"])


def standard_images(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list(sub["taskResult"]["result"]["imageList"])


def pro_images(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list(sub["taskResult"]["result"]["data"]["structData"]["imageList"])


@contextmanager
def caller(**options: str) -> Iterator[Aidge]:
    """A fresh in-process app (manual clock) with these Aidge options."""
    app = create_app(Settings(speed=0, seed=7, options={VENDOR: options}))
    with TestClient(app) as client:
        yield Aidge(client)


# -- an independent implementation ---------------------------------------------------------------


def ref_hmac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return "".join(f"{b:02X}" for b in digest)  # as the Java sample builds it, byte by byte


def ref_v2(secret: str, timestamp: str) -> str:
    return ref_hmac(secret, secret + timestamp)


def ref_iop(secret: str, api: str, params: Mapping[str, str], java: bool = False) -> str:
    """Python IOP SDK: every pair; Java IOP SDK: pairs with an empty name or value left out."""
    message = api
    for name in sorted(params):
        if name == "sign" or (java and not (name and params[name])):
            continue
        message += name + params[name]
    return ref_hmac(secret, message)
