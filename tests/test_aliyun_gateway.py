"""The Alibaba Cloud API Gateway in front of the DAMO try-on API, driven over a real socket.

Requests are signed by the PyPI signer ``aliyun-api-gateway-python`` (0.1.0) and, for the
header-case and separator variants, by a small independent signer written here from the
string-to-sign in the vendor notes (A3). Expected statuses and texts come from the DAMO contract.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from aliyun_api_gateway import ApiGatewayClient, ApiGatewayRequest, ApiGatewayResponse, SignedRequest
from aliyun_api_gateway.transport import HttpTransport
from PIL import Image

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server.settings import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread

VENDOR = "damo"
CONTRACT = contracts.load(VENDOR)
SUBMIT = "/api/v1/tryon/submit"
QUERY = "/api/v1/tryon/query"
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
SIGNED_BY_SIGNER = ("x-ca-key", "x-ca-nonce", "x-ca-signature-method", "x-ca-timestamp")
MINUTE = 60.0


@pytest.fixture(scope="module")
def tryon_mock_server() -> Iterator[MockServer]:
    """A server of this module's own: the clock test moves its clock, which only goes forward,
    and that must not leak into other modules sharing the session server."""
    with serve_in_thread(Settings(host="127.0.0.1", port=0)) as server:
        yield server


# -- helpers ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    """An answer from either client, seen the same way."""

    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @classmethod
    def of(cls, response: ApiGatewayResponse | httpx.Response) -> Answer:
        if isinstance(response, httpx.Response):
            return cls(
                response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
            )
        return cls(response.status, {k.lower(): v for k, v in response.headers}, response.body)

    def json(self) -> Any:
        return json.loads(self.body)


def check_request_id(answer: Answer) -> str:
    request_id = answer.headers.get("x-ca-request-id", "")
    assert REQUEST_ID.match(request_id), f"X-Ca-Request-Id {request_id!r} is not an uppercase UUID"
    return request_id


def gateway_error(response: ApiGatewayResponse | httpx.Response, error: ErrorCode, detail: str = "") -> None:
    """The gateway's own answer: the row's status, an empty body, its text in X-Ca-Error-Message."""
    answer = Answer.of(response)
    assert error.envelope == "gateway"
    assert (answer.status, answer.headers.get("x-ca-error-message")) == (
        error.http_status,
        error.text(detail),
    ), answer.body
    assert answer.body == b""
    assert answer.headers.get("content-length") == "0"
    assert "x-ca-error-code" not in answer.headers  # classic instances send none (option off)
    check_request_id(answer)


def passed_gateway(response: ApiGatewayResponse | httpx.Response, trigger: Situation) -> Any:
    """Past the gateway: no gateway error, the backend's own error ``trigger`` in its envelope."""
    answer = Answer.of(response)
    assert "x-ca-error-message" not in answer.headers, answer.headers
    request_id = check_request_id(answer)
    body = answer.json()
    assert body["requestId"] == request_id.replace("-", "").lower()
    error = CONTRACT.trigger(trigger)
    assert (answer.status, body["code"], body["success"]) == (error.http_status, str(error.code), False)
    assert body["message"] == error.text()
    return body


def unsigned_text(text: str) -> str:
    """The string-to-sign as the gateway shows it back in a header."""
    return text.replace("\n", "#")


def asset(tenant: Tenant, name: str) -> str:
    return f"{tenant.server.url}/_mock/assets/{name}"


def submit_body(tenant: Tenant) -> dict[str, Any]:
    return {
        "data": {
            "fit_type": "HALF_BODY",
            "inference_num": 2,
            "task_list": [
                {"model_image": asset(tenant, "person.png"), "tops_image": asset(tenant, "top.png")}
            ],
        }
    }


def query_request(result_key: str = "0" * 32, **kwargs: Any) -> ApiGatewayRequest:
    return ApiGatewayRequest(
        method="POST", path=QUERY, json_body={"data": {"result_key": result_key}}, **kwargs
    )


class Recording(HttpTransport):
    """The signer's own transport, keeping what it sent."""

    def __init__(self) -> None:
        self.sent: list[SignedRequest] = []

    def send(self, request: SignedRequest, **kwargs: Any) -> ApiGatewayResponse:
        self.sent.append(request)
        return super().send(request, **kwargs)


def signer(tenant: Tenant, **kwargs: Any) -> ApiGatewayClient:
    cred = tenant.credentials[VENDOR]
    options: dict[str, Any] = {"app_key": cred["app_key"], "app_secret": cred["app_secret"], **kwargs}
    return ApiGatewayClient(tenant.server.url, **options)


def send_signed(
    http: httpx.Client, signed: SignedRequest, body: bytes | None = None, **headers: str
) -> httpx.Response:
    """A signed request sent by httpx, with its body or headers changed after signing."""
    merged = {**signed.headers}
    for field, value in headers.items():
        name = field.replace("_", "-")
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    content = signed.body if body is None else body
    return http.request(signed.method, signed.url, headers=merged, content=content or b"")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def hand_sign(secret: str, text: str, digest: Callable[..., Any] = hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), digest).digest()).decode()


def mock_now(tenant: Tenant) -> float:
    return float(tenant.server.admin("GET", "/clock").json()["now"])


# -- the flow --------------------------------------------------------------------------------------


def run_flow(tenant: Tenant, http: httpx.Client, call: Callable[[str, dict[str, Any]], Answer]) -> str:
    """Submit one sub-task with two results, query it twice (polls:2), download the results.
    Returns the result_key."""
    tenant.timing(VENDOR, progress="polls:2")
    submitted = call(SUBMIT, submit_body(tenant))
    body = passed_gateway_answer(submitted)
    result_key = body["data"]["result_key"]
    assert isinstance(result_key, str)
    assert re.fullmatch(r"[0-9a-f]{32}", result_key)
    assert [t["status"] for t in body["data"]["task_list"]] == ["WAITING"]

    first = passed_gateway_answer(call(QUERY, {"data": {"result_key": result_key}}))
    assert first["data"]["result_key"] == result_key
    assert [t["status"] for t in first["data"]["task_list"]] != ["SUCCESS"]
    assert all("results" not in t for t in first["data"]["task_list"])

    done = passed_gateway_answer(call(QUERY, {"data": {"result_key": result_key}}))
    tasks = done["data"]["task_list"]
    assert [t["status"] for t in tasks] == ["SUCCESS"]
    assert tasks[0]["model_image"] == asset(tenant, "person.png")
    assert tasks[0]["tops_image"] == asset(tenant, "top.png")
    urls = tasks[0]["results"]
    assert len(urls) == 2 and len(set(urls)) == 2
    for url in urls:
        assert url.startswith(tenant.server.url + "/")
        image = http.get(url)
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
        picture = Image.open(io.BytesIO(image.content))
        picture.load()
        assert picture.format == "PNG"
    return result_key


def passed_gateway_answer(answer: Answer) -> dict[str, Any]:
    assert "x-ca-error-message" not in answer.headers, answer.headers
    check_request_id(answer)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert isinstance(body, dict), body
    assert body["requestId"] == answer.headers["x-ca-request-id"].replace("-", "").lower()
    assert (body["success"], body["code"], body["message"]) == (True, 0, "success")
    return body


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_full_flow_with_the_signer(tryon_mock: Tenant, http: httpx.Client, method: str) -> None:
    transport = Recording()
    client = signer(tryon_mock, signature_method=method, transport=transport)

    def call(path: str, doc: dict[str, Any]) -> Answer:
        return Answer.of(client.send(ApiGatewayRequest(method="POST", path=path, json_body=doc)))

    result_key = run_flow(tryon_mock, http, call)

    journal = tryon_mock.journal(VENDOR)
    assert [(e["endpoint"], e["status"]) for e in journal] == [
        ("submit", 200),
        ("query", 200),
        ("query", 200),
    ]
    assert [e["task_id"] for e in journal] == [result_key] * 3
    assert len(transport.sent) == 3
    cred = tryon_mock.credentials[VENDOR]
    for entry, sent in zip(journal, transport.sent, strict=True):
        headers = entry["headers"]
        assert "authorization" not in headers
        for name, value in sent.headers.items():
            assert headers[name.lower()] == value, name
        assert headers["x-ca-key"] == cred["app_key"]
        assert headers["x-ca-signature-method"] == method
        assert headers["x-ca-signature-headers"] == "X-Ca-Key,X-Ca-Nonce,X-Ca-Signature-Method,X-Ca-Timestamp"
        assert headers["content-md5"] == md5(sent.body or b"")
        assert headers["x-ca-signature"] == hand_sign(
            cred["app_secret"], sent.string_to_sign, hashlib.sha1 if method == "HmacSHA1" else hashlib.sha256
        )
        assert entry["body"] == (sent.body or b"").decode()
    assert len({e["headers"]["x-ca-nonce"] for e in journal}) == 3


def test_full_flow_with_appcode(tryon_mock: Tenant, http: httpx.Client) -> None:
    """As the DAMO doc shows: APPCODE plus X-Ca-Nonce, here one nonce for both calls as
    third-party clients do (the APPCODE path does not check nonces)."""
    code = tryon_mock.credentials[VENDOR]["appcode"]
    nonce = str(uuid.uuid4())
    headers = {"Authorization": f"APPCODE {code}", "X-Ca-Nonce": nonce, "Content-Type": "application/json"}

    def call(path: str, doc: dict[str, Any]) -> Answer:
        return Answer.of(http.post(tryon_mock.server.url + path, json=doc, headers=headers))

    result_key = run_flow(tryon_mock, http, call)

    journal = tryon_mock.journal(VENDOR)
    assert [(e["endpoint"], e["status"]) for e in journal] == [
        ("submit", 200),
        ("query", 200),
        ("query", 200),
    ]
    assert [e["task_id"] for e in journal] == [result_key] * 3
    for entry in journal:
        assert entry["headers"]["authorization"] == f"APPCODE {code}"
        assert entry["headers"]["x-ca-nonce"] == nonce
        assert "x-ca-signature" not in entry["headers"]


# -- signature mismatch ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
@pytest.mark.parametrize(
    "query",
    [None, [("b", "2"), ("a", ""), ("b", "3"), ("c", "x y")]],
    ids=["no-query", "query"],
)
def test_wrong_secret_shows_the_string_to_sign(
    tryon_mock: Tenant, method: str, query: list[tuple[str, str]] | None
) -> None:
    stamp = str(int(time.time() * 1000))
    nonce = str(uuid.uuid4())
    wrong = signer(
        tryon_mock,
        app_secret="not-the-secret",
        signature_method=method,
        clock=lambda: int(stamp) / 1000,
        nonce_factory=lambda: nonce,
    )
    request = query_request(query=query)
    expected = wrong.sign(request, timestamp=stamp, nonce=nonce)
    if query:
        assert expected.canonical_resource == QUERY + "?a&b=2&c=x y"
    assert expected.string_to_sign.count("\n") == 9

    response = wrong.send(request)
    gateway_error(response, CONTRACT.trigger("auth.bad_signature"), unsigned_text(expected.string_to_sign))
    assert tryon_mock.journal(VENDOR) == []  # nothing booked to the tenant

    # the right secret, the same request: accepted (the backend answers for the unknown key)
    right = signer(tryon_mock, signature_method=method)
    passed_gateway(right.send(request), "task.unknown")


def test_unknown_signature_method(tryon_mock: Tenant, http: httpx.Client) -> None:
    signed = signer(tryon_mock).sign(query_request())
    response = send_signed(http, signed, X_Ca_Signature_Method="HmacMD5")
    text = signed.string_to_sign.replace("X-Ca-Signature-Method:HmacSHA256", "X-Ca-Signature-Method:HmacMD5")
    gateway_error(response, CONTRACT.trigger("auth.bad_signature"), unsigned_text(text))


# -- timestamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [-16, 16, -60 * 24])
def test_stale_timestamp(tryon_mock: Tenant, minutes: int) -> None:
    client = signer(tryon_mock, clock=lambda: time.time() + minutes * MINUTE)
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.stale"))


@pytest.mark.parametrize("minutes", [-14, 14])
def test_timestamp_within_the_window(tryon_mock: Tenant, minutes: int) -> None:
    client = signer(tryon_mock, clock=lambda: time.time() + minutes * MINUTE)
    passed_gateway(client.send(query_request()), "task.unknown")


@pytest.mark.parametrize(
    "stamp", ["not-a-number", "1795277965128.5", "-1795277965128", "1795277965128ms", "0x1A1B"]
)
def test_non_numeric_timestamp(tryon_mock: Tenant, http: httpx.Client, stamp: str) -> None:
    signed = signer(tryon_mock).sign(query_request())
    gateway_error(send_signed(http, signed, X_Ca_Timestamp=stamp), CONTRACT.trigger("auth.bad_timestamp"))


def test_non_ascii_digit_timestamp_is_invalid(tryon_mock: Tenant, http: httpx.Client) -> None:
    """'²' (Latin-1 byte 0xB2, as Starlette decodes header bytes) is not a number of
    milliseconds. BUG: str.isdigit() says it is, int() then raises and the mock answers 500."""
    signed = signer(tryon_mock).sign(query_request())
    headers = {k.encode("latin-1"): v.encode("latin-1") for k, v in signed.headers.items()}
    headers[b"X-Ca-Timestamp"] = b"\xb2"
    response = http.post(signed.url, headers=headers, content=signed.body or b"")
    gateway_error(response, CONTRACT.trigger("auth.bad_timestamp"))


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_numeric_timestamp_is_a_gateway_error(
    tryon_mock: Tenant, http: httpx.Client, digits: int
) -> None:
    """BUG: a numeric X-Ca-Timestamp too large for a float (OverflowError) or longer than Python's
    int-string limit (ValueError) crashes the mock with a 500 instead of a gateway answer."""
    signed = signer(tryon_mock).sign(query_request())
    response = send_signed(http, signed, X_Ca_Timestamp="9" * digits)
    answer = Answer.of(response)
    texts = {CONTRACT.trigger("auth.stale").text(), CONTRACT.trigger("auth.bad_timestamp").text()}
    assert (answer.status, answer.headers.get("x-ca-error-message") in texts) == (400, True), answer.body
    assert answer.body == b""
    check_request_id(answer)


# -- nonces ----------------------------------------------------------------------------------------


def test_reused_nonce(tryon_mock: Tenant) -> None:
    nonce = str(uuid.uuid4())
    client = signer(tryon_mock, nonce_factory=lambda: nonce)
    passed_gateway(client.send(query_request()), "task.unknown")
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.nonce_used"))
    # on the other endpoint too, and with another body: the nonce is the AppKey's
    gateway_error(
        client.send(ApiGatewayRequest(method="POST", path=SUBMIT, json_body={})),
        CONTRACT.trigger("auth.nonce_used"),
    )
    # a different nonce works again, once
    another = str(uuid.uuid4())
    other = signer(tryon_mock, nonce_factory=lambda: another)
    passed_gateway(other.send(query_request()), "task.unknown")
    gateway_error(other.send(query_request()), CONTRACT.trigger("auth.nonce_used"))
    passed_gateway(signer(tryon_mock).send(query_request()), "task.unknown")


# -- Content-MD5 -----------------------------------------------------------------------------------


def test_tampered_body(tryon_mock: Tenant, http: httpx.Client) -> None:
    signed = signer(tryon_mock).sign(query_request("a" * 32))
    tampered = json.dumps({"data": {"result_key": "b" * 32}}, separators=(",", ":")).encode()
    assert signed.body is not None and len(tampered) == len(signed.body)

    gateway_error(send_signed(http, signed, tampered), CONTRACT.trigger("auth.bad_md5"))

    fresh = md5(tampered)
    response = send_signed(http, signed, tampered, Content_MD5=fresh)
    old = signed.headers["Content-MD5"]
    assert signed.string_to_sign.count(old) == 1
    text = signed.string_to_sign.replace(old, fresh)
    gateway_error(response, CONTRACT.trigger("auth.bad_signature"), unsigned_text(text))

    # the untouched request still goes through: the nonce of a rejected request was not burnt
    passed_gateway(send_signed(http, signed), "task.unknown")


def test_content_md5_of_another_body_with_an_empty_body(tryon_mock: Tenant, http: httpx.Client) -> None:
    signed = signer(tryon_mock).sign(query_request())
    gateway_error(send_signed(http, signed, b""), CONTRACT.trigger("auth.bad_md5"))


def test_content_md5_with_an_empty_body(tryon_mock: Tenant) -> None:
    """Vendor notes A2: Invalid Content-MD5 is 'body empty but MD5 sent, or MD5 wrong'. Signed
    by the real signer, with the MD5 of the empty body. BUG: the mock only compares the digest,
    so this passes the gateway and the backend answers 23500012."""
    client = signer(tryon_mock)
    request = ApiGatewayRequest(
        method="POST", path=QUERY, content_type="application/json", headers={"Content-MD5": md5(b"")}
    )
    signed = client.sign(request)
    assert signed.body is None and signed.headers["Content-MD5"] == md5(b"")
    gateway_error(client.send(request), CONTRACT.trigger("auth.bad_md5"))


# -- credentials -----------------------------------------------------------------------------------


def test_unknown_app_key(tryon_mock: Tenant) -> None:
    client = ApiGatewayClient(tryon_mock.server.url, "no-such-app-key", "whatever")
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.invalid_key"))


def test_appcode_used_as_app_key(tryon_mock: Tenant) -> None:
    code = tryon_mock.credentials[VENDOR]["appcode"]
    client = ApiGatewayClient(tryon_mock.server.url, code, tryon_mock.credentials[VENDOR]["app_secret"])
    gateway_error(client.send(query_request()), CONTRACT.trigger("auth.invalid_key"))


def test_app_key_as_appcode(tryon_mock: Tenant, http: httpx.Client) -> None:
    key = tryon_mock.credentials[VENDOR]["app_key"]
    response = http.post(
        tryon_mock.server.url + QUERY,
        json={"data": {"result_key": "x"}},
        headers={"Authorization": f"APPCODE {key}"},
    )
    gateway_error(response, CONTRACT.trigger("auth.invalid"))


@pytest.mark.parametrize("signature", [None, ""])
def test_empty_signature(tryon_mock: Tenant, http: httpx.Client, signature: str | None) -> None:
    error = CONTRACT.trigger("auth.empty_signature")
    assert error.http_status == 404
    headers = {
        "X-Ca-Key": tryon_mock.credentials[VENDOR]["app_key"],
        "X-Ca-Timestamp": str(int(time.time() * 1000)),
        "X-Ca-Nonce": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if signature is not None:
        headers["X-Ca-Signature"] = signature
    response = http.post(tryon_mock.server.url + QUERY, json={"data": {"result_key": "x"}}, headers=headers)
    gateway_error(response, error)


# -- an independent signer: header-name case and separators ----------------------------------------


def node_style(
    tenant: Tenant, names: list[str], separator: str, secret: str | None = None
) -> tuple[dict[str, str], bytes, str]:
    """Headers, body and string-to-sign of a query signed by hand, header names exactly as given."""
    cred = tenant.credentials[VENDOR]
    body = json.dumps({"data": {"result_key": "c" * 32}}).encode()
    values = {
        "x-ca-key": cred["app_key"],
        "x-ca-nonce": str(uuid.uuid4()),
        "x-ca-timestamp": str(int(time.time() * 1000)),
        "x-ca-stage": "RELEASE",
    }
    headers = {
        "accept": "application/json",
        "content-md5": md5(body),
        "content-type": "application/json",
        "date": formatdate(usegmt=True),
    }
    for name in names:
        headers[name] = values[name.lower()]
    block = "".join(f"{name}:{values[name.lower()]}\n" for name in sorted(names))
    text = "\n".join(
        ["POST", headers["accept"], headers["content-md5"], headers["content-type"], headers["date"]]
    )
    text += "\n" + block + QUERY
    headers["x-ca-signature-headers"] = separator.join(names)
    headers["x-ca-signature"] = hand_sign(secret or cred["app_secret"], text)
    return headers, body, text


@pytest.mark.parametrize(
    ("names", "separator"),
    [
        (["x-ca-key", "x-ca-nonce", "x-ca-timestamp"], ","),
        (["x-ca-key", "x-ca-nonce", "x-ca-stage", "x-ca-timestamp"], ","),
        (["X-Ca-Key", "X-Ca-Nonce", "X-Ca-Timestamp"], ":"),
        (["x-ca-timestamp", "x-ca-key"], ":"),
    ],
    ids=["node-lowercase", "node-with-stage", "colons", "colons-unsorted"],
)
def test_hand_signed_variants_are_accepted(
    tryon_mock: Tenant, http: httpx.Client, names: list[str], separator: str
) -> None:
    headers, body, _ = node_style(tryon_mock, names, separator)
    response = http.post(tryon_mock.server.url + QUERY, content=body, headers=headers)
    passed_gateway(response, "task.unknown")
    entry = tryon_mock.journal(VENDOR)[-1]
    assert entry["headers"]["x-ca-signature-headers"] == separator.join(names)


@pytest.mark.parametrize("separator", [",", ":"])
def test_hand_signed_string_matches_the_server(
    tryon_mock: Tenant, http: httpx.Client, separator: str
) -> None:
    """With a wrong secret, the server's string-to-sign is exactly the hand-built one, lower-case
    header names and all."""
    names = ["x-ca-key", "x-ca-nonce", "x-ca-stage", "x-ca-timestamp"]
    headers, body, text = node_style(tryon_mock, names, separator, secret="wrong")
    assert "\nx-ca-key:" in text and "\nx-ca-stage:RELEASE\n" in text
    response = http.post(tryon_mock.server.url + QUERY, content=body, headers=headers)
    gateway_error(response, CONTRACT.trigger("auth.bad_signature"), unsigned_text(text))


# -- form bodies -----------------------------------------------------------------------------------


def test_form_parameters_are_signed(tryon_mock: Tenant, http: httpx.Client) -> None:
    client = signer(tryon_mock)
    request = ApiGatewayRequest(
        method="POST",
        path=QUERY,
        query=[("q", "1")],
        form=[("data", '{"result_key":"x"}'), ("empty", ""), ("data", "second"), ("b", "two words")],
    )
    signed = client.sign(request)
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Content-MD5" not in signed.headers
    assert signed.canonical_resource == QUERY + '?b=two words&data={"result_key":"x"}&empty&q=1'

    # the gateway accepts the signature; the backend cannot read a form as JSON
    passed_gateway(client.send(request), "body.invalid")

    # the form is part of the signature: change one value and it no longer matches
    signed = client.sign(request)
    tampered = (signed.body or b"").replace(b"two+words", b"two+birds")
    assert tampered != signed.body
    text = signed.string_to_sign.replace("b=two words", "b=two birds")
    gateway_error(
        send_signed(http, signed, tampered), CONTRACT.trigger("auth.bad_signature"), unsigned_text(text)
    )


# -- the clock -------------------------------------------------------------------------------------


def test_timestamps_against_an_advanced_clock(tryon_mock: Tenant) -> None:
    before = mock_now(tryon_mock)
    tryon_mock.server.admin("POST", "/clock", json={"advance": 2 * 3600})
    now = mock_now(tryon_mock)
    assert now - before >= 2 * 3600
    offset = now - time.time()

    def at(shift: float) -> ApiGatewayClient:
        return signer(tryon_mock, clock=lambda: time.time() + shift)

    passed_gateway(at(0).send(query_request()), "task.unknown")  # the wall clock
    passed_gateway(at(offset).send(query_request()), "task.unknown")  # the mock clock
    passed_gateway(at(offset - 14 * MINUTE).send(query_request()), "task.unknown")
    stale = CONTRACT.trigger("auth.stale")
    for shift in (-16 * MINUTE, offset / 2, offset + 16 * MINUTE):
        gateway_error(at(shift).send(query_request()), stale)


def test_replay_after_the_clock_moved(tryon_mock: Tenant, http: httpx.Client) -> None:
    """The same signed request sent again, one wall-clock second later but after the mock clock
    moved 16 minutes: its timestamp is still accepted (it is within the window of the wall clock),
    so its nonce must still count as used. BUG: nonces are forgotten by mock time, so the replay
    is accepted."""
    signed = signer(tryon_mock).sign(query_request())
    passed_gateway(send_signed(http, signed), "task.unknown")
    gateway_error(send_signed(http, signed), CONTRACT.trigger("auth.nonce_used"))
    tryon_mock.server.admin("POST", "/clock", json={"advance": 16 * MINUTE})
    gateway_error(send_signed(http, signed), CONTRACT.trigger("auth.nonce_used"))
