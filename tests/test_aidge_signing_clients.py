"""Aidge's two request signatures through a real server: the IOP Python client (lazop-sdk), a v2
JSON client written from the official samples' recipe, and IOP-signed forms built by hand, with
every way a signature, key or timestamp can be wrong."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from lazop_sdk import LazopClient, LazopRequest

from contracts.model import ErrorCode
from mock_server.testing import Tenant
from tests.aidge_rig import (
    BALANCE,
    CONTRACT,
    ERROR_SCHEMA,
    LIFE,
    PRO,
    RESULTS,
    STANDARD,
    VENDOR,
    ref_iop,
    ref_v2,
)
from tests.helpers import v2_signed

MINUTE_MS = 60_000


# -- clients of a real server --------------------------------------------------------------------


def asset(tenant: Tenant, name: str) -> str:
    return f"{tenant.server.url}/_mock/assets/{name}"


def stamp_now(offset_ms: int = 0) -> str:
    return str(int(time.time() * 1000) + offset_ms)


class V2Client:
    """A JSON client written from the official samples' recipe (sign_ver=v2)."""

    def __init__(self, http: httpx.Client, url: str, app_key: str, secret: str) -> None:
        self.http = http
        self.url = url
        self.app_key = app_key
        self.secret = secret

    def query(self, timestamp: str | None = None, sign: str | None = None) -> dict[str, str]:
        return v2_signed(self.app_key, self.secret, timestamp or stamp_now(), sign)

    def post(
        self, api: str, body: dict[str, Any], trial: bool = True, query: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.http.post(
            f"{self.url}/rest{api}",
            params=query or self.query(),
            json=body,
            headers={"x-iop-trial": "true" if trial else "false"},
        )

    def get(self, api: str, params: dict[str, str], trial: bool = True) -> httpx.Response:
        return self.http.get(
            f"{self.url}/rest{api}",
            params={**self.query(), **params},
            headers={"x-iop-trial": "true" if trial else "false"},
        )


class IopForm:
    """IOP-signed form posts built by hand, for what lazop-sdk cannot send (empty values,
    tampered fields, stale timestamps)."""

    def __init__(self, http: httpx.Client, url: str, app_key: str, secret: str) -> None:
        self.http = http
        self.url = url
        self.app_key = app_key
        self.secret = secret

    def params(self, api_params: dict[str, str], timestamp: str | None = None) -> dict[str, str]:
        return {
            "app_key": self.app_key,
            "sign_method": "sha256",
            "timestamp": timestamp or stamp_now(),
            "partner_id": "iop-sdk-python-20250910",
            **api_params,
        }

    def post(self, api: str, params: dict[str, str]) -> httpx.Response:
        return self.http.post(f"{self.url}/rest{api}", data=params)

    def signed(self, api: str, api_params: dict[str, str], java: bool = False, **kw: Any) -> httpx.Response:
        params = self.params(api_params, **kw)
        return self.post(api, {**params, "sign": ref_iop(self.secret, api, params, java)})


@pytest.fixture
def cred(tryon_mock: Tenant) -> dict[str, str]:
    return tryon_mock.credentials[VENDOR]


@pytest.fixture
def v2(tryon_mock: Tenant, http: httpx.Client, cred: dict[str, str]) -> V2Client:
    return V2Client(http, tryon_mock.server.url, cred["app_key"], cred["app_secret"])


@pytest.fixture
def iop(tryon_mock: Tenant, http: httpx.Client, cred: dict[str, str]) -> IopForm:
    return IopForm(http, tryon_mock.server.url, cred["app_key"], cred["app_secret"])


def lazop(tenant: Tenant, secret: str | None = None, app_key: str | None = None) -> LazopClient:
    cred = tenant.credentials[VENDOR]
    return LazopClient(
        tenant.server.url + CONTRACT.base_path,
        app_key or cred["app_key"],
        secret or cred["app_secret"],
    )


def body_of(response: httpx.Response, schema: str | None = None, endpoint_id: str = "tryon") -> Any:
    """The JSON body after checking it against the contract (the error schema when named)."""
    assert response.status_code == 200, response.text
    body = response.json()
    chosen = schema or CONTRACT.endpoint(endpoint_id).response_schema(200)
    assert chosen is not None
    problems = [e.message for e in CONTRACT.validator(chosen).iter_errors(body)]
    assert not problems, f"{endpoint_id} breaks {chosen}: {problems}"
    return body


def assert_gateway(response: httpx.Response | dict[str, Any], error: ErrorCode) -> None:
    """The IOP gateway's own envelope for ``error``, with HTTP 200."""
    assert error.envelope == "gateway" and error.http_status == 200
    if isinstance(response, httpx.Response):
        assert response.status_code == error.http_status, response.text
        body = body_of(response, ERROR_SCHEMA)
    else:
        body = response
        problems = [e.message for e in CONTRACT.validator(ERROR_SCHEMA).iter_errors(body)]
        assert not problems, problems
    assert set(body) == {"type", "code", "message", "request_id"}, body
    assert (body["type"], body["code"], body["message"]) == ("ISV", error.code, error.message)
    assert body["request_id"]


def tryon_items(tenant: Tenant, count: int = 2) -> list[dict[str, Any]]:
    garment = {"imageUrl": asset(tenant, "top.png"), "type": "tops"}
    return [{"clothesList": [garment], "viewType": "mixed", "inputQualityDetect": 0, "generateCount": count}]


def images_of(data: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [sub["taskResult"]["result"]["imageList"] for sub in data["taskResult"]]


# -- lazop-sdk (IOP signature over a form body) ---------------------------------------------------


def test_lazop_sdk_submits_and_polls(tryon_mock: Tenant) -> None:
    tryon_mock.timing(VENDOR, progress="polls:2")
    client = lazop(tryon_mock)
    submit = LazopRequest(STANDARD)
    submit.add_api_param("requestParams", json.dumps(tryon_items(tryon_mock)))
    answer = client.execute(submit)
    assert (answer.code, answer.body["resCode"], answer.body["success"]) == ("0", 200, True)
    task_id = answer.body["data"]["result"]["taskId"]

    statuses = []
    for method in ("POST", "GET"):
        query = LazopRequest(RESULTS, method)
        query.add_api_param("task_id", task_id)
        answer = client.execute(query)
        assert answer.code == "0", answer.body
        data = answer.body["data"]
        assert data["taskId"] == task_id
        statuses.append(data["taskStatus"])
    assert statuses == [LIFE.phases[-1].status, LIFE.succeeded]
    assert [len(images) for images in images_of(data)] == [2]

    balance = LazopRequest(BALANCE)
    balance.add_api_param("apiPath", STANDARD)
    left = client.execute(balance).body["data"]["balance"]
    assert left == CONTRACT.quota["purchased"] - 2, "no x-iop-trial header: the purchased pool"
    entries = tryon_mock.journal(VENDOR)
    assert [e["error"] for e in entries] == [None] * 4


def test_lazop_sdk_with_a_wrong_secret_or_key_gets_the_gateway_answer(tryon_mock: Tenant) -> None:
    query = LazopRequest(BALANCE)
    query.add_api_param("apiPath", STANDARD)
    wrong = lazop(tryon_mock, secret="not-the-secret").execute(query)
    assert_gateway(wrong.body, CONTRACT.trigger("auth.bad_signature"))
    assert (wrong.type, wrong.code) == ("ISV", CONTRACT.trigger("auth.bad_signature").code)
    unknown = lazop(tryon_mock, app_key="no-such-app-key").execute(query)
    assert_gateway(unknown.body, CONTRACT.trigger("auth.invalid"))


# -- the v2 JSON client ---------------------------------------------------------------------------


def test_a_v2_json_client_submits_polls_and_reads_its_balance(tryon_mock: Tenant, v2: V2Client) -> None:
    tryon_mock.timing(VENDOR, progress="polls:2")
    body = body_of(v2.post(STANDARD, {"requestParams": json.dumps(tryon_items(tryon_mock, 3))}))
    task_id = body["data"]["result"]["taskId"]
    answers = [
        v2.post(RESULTS, {"task_id": task_id}),
        v2.get(RESULTS, {"task_id": task_id}),
        v2.post(RESULTS, {"taskId": task_id}),
        v2.get(RESULTS, {"taskId": task_id}),
    ]
    datas = [body_of(a, endpoint_id="tryon-results")["data"] for a in answers]
    assert [d["taskId"] for d in datas] == [task_id] * 4
    assert [d["taskStatus"] for d in datas] == [LIFE.phases[-1].status] + [LIFE.succeeded] * 3
    assert [len(images) for images in images_of(datas[-1])] == [3]

    trial = body_of(v2.post(BALANCE, {"apiPath": STANDARD}), endpoint_id="balance")
    purchased = body_of(v2.post(BALANCE, {"apiPath": STANDARD}, trial=False), endpoint_id="balance")
    assert trial["data"]["balance"] == CONTRACT.quota["trial"] - 3
    assert purchased["data"]["balance"] == CONTRACT.quota["purchased"]

    pro = body_of(v2.post(PRO, {"requestParams": json.dumps(tryon_items(tryon_mock, 1)[0])}))
    assert pro["data"]["result"]["taskId"] != task_id


def test_a_v2_sign_in_lower_case_is_accepted(v2: V2Client) -> None:
    stamp = stamp_now()
    query = v2.query(stamp, ref_v2(v2.secret, stamp).lower())
    body_of(v2.post(BALANCE, {"apiPath": STANDARD}, query=query), endpoint_id="balance")


def test_a_v2_wrong_secret_fails(tryon_mock: Tenant, v2: V2Client) -> None:
    stamp = stamp_now()
    query = v2.query(stamp, ref_v2("not-the-secret", stamp))
    assert_gateway(
        v2.post(BALANCE, {"apiPath": STANDARD}, query=query), CONTRACT.trigger("auth.bad_signature")
    )


def test_a_v2_sign_with_a_tampered_timestamp_fails(v2: V2Client) -> None:
    stamp = stamp_now()
    query = v2.query(str(int(stamp) + 1), ref_v2(v2.secret, stamp))
    assert_gateway(
        v2.post(BALANCE, {"apiPath": STANDARD}, query=query), CONTRACT.trigger("auth.bad_signature")
    )


def test_an_unknown_app_key_fails(v2: V2Client) -> None:
    query = {**v2.query(), "app_key": "no-such-app-key"}
    assert_gateway(v2.post(BALANCE, {"apiPath": STANDARD}, query=query), CONTRACT.trigger("auth.invalid"))
    missing = {k: v for k, v in v2.query().items() if k != "app_key"}
    assert_gateway(v2.post(BALANCE, {"apiPath": STANDARD}, query=missing), CONTRACT.trigger("auth.missing"))


@pytest.mark.parametrize("minutes", [-16, 16, -60 * 24])
def test_a_timestamp_out_of_the_window_is_stale(v2: V2Client, iop: IopForm, minutes: int) -> None:
    error = CONTRACT.trigger("auth.stale")
    stamp = stamp_now(minutes * MINUTE_MS)
    assert_gateway(v2.post(BALANCE, {"apiPath": STANDARD}, query=v2.query(stamp)), error)
    assert_gateway(iop.signed(BALANCE, {"apiPath": STANDARD}, timestamp=stamp), error)


@pytest.mark.parametrize("minutes", [-14, 14])
def test_a_timestamp_within_the_window_is_accepted(v2: V2Client, iop: IopForm, minutes: int) -> None:
    stamp = stamp_now(minutes * MINUTE_MS)
    body_of(v2.post(BALANCE, {"apiPath": STANDARD}, query=v2.query(stamp)), endpoint_id="balance")
    body_of(iop.signed(BALANCE, {"apiPath": STANDARD}, timestamp=stamp), endpoint_id="balance")


@pytest.mark.parametrize("stamp", ["yesterday", "1700000000000.5", "-1700000000000", "1" * 17, " "])
def test_a_timestamp_that_is_no_number_is_refused(v2: V2Client, iop: IopForm, stamp: str) -> None:
    error = CONTRACT.trigger("auth.bad_timestamp")
    assert_gateway(v2.post(BALANCE, {"apiPath": STANDARD}, query=v2.query(stamp)), error)
    assert_gateway(iop.signed(BALANCE, {"apiPath": STANDARD}, timestamp=stamp), error)


# -- IOP signatures built by hand ----------------------------------------------------------------


def test_iop_python_and_java_signs_are_both_accepted(iop: IopForm) -> None:
    api_params = {"apiPath": STANDARD, "access_token": "", "debug": ""}
    python = iop.signed(BALANCE, api_params)
    java = iop.signed(BALANCE, api_params, java=True)
    for response in (python, java):
        assert body_of(response, endpoint_id="balance")["data"]["balance"] == CONTRACT.quota["purchased"]
    # The two differ, so each was checked on its own.
    params = iop.params(api_params)
    assert ref_iop(iop.secret, BALANCE, params) != ref_iop(iop.secret, BALANCE, params, java=True)


def test_an_iop_sign_in_lower_case_is_accepted(iop: IopForm) -> None:
    params = iop.params({"apiPath": STANDARD})
    sign = ref_iop(iop.secret, BALANCE, params).lower()
    body_of(iop.post(BALANCE, {**params, "sign": sign}), endpoint_id="balance")


def test_an_iop_parameter_changed_after_signing_fails(tryon_mock: Tenant, iop: IopForm) -> None:
    error = CONTRACT.trigger("auth.bad_signature")
    params = iop.params({"requestParams": json.dumps(tryon_items(tryon_mock, 1))})
    sign = ref_iop(iop.secret, STANDARD, params)
    tampered = {**params, "requestParams": json.dumps(tryon_items(tryon_mock, 8)), "sign": sign}
    assert_gateway(iop.post(STANDARD, tampered), error)
    added = {**params, "x_extra": "1", "sign": sign}
    assert_gateway(iop.post(STANDARD, added), error)
    # Signed for another API path.
    assert_gateway(iop.post(PRO, {**params, "sign": sign}), error)
    # The untouched request goes through.
    body = body_of(iop.post(STANDARD, {**params, "sign": sign}))
    assert body["resCode"] == 200


def test_an_iop_wrong_secret_or_missing_sign_fails(iop: IopForm) -> None:
    error = CONTRACT.trigger("auth.bad_signature")
    params = iop.params({"apiPath": STANDARD})
    assert_gateway(iop.post(BALANCE, {**params, "sign": ref_iop("not-the-secret", BALANCE, params)}), error)
    assert_gateway(iop.post(BALANCE, params), error)
