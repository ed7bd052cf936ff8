"""What the signature covers and how a mismatch shows: a wrong secret or an unknown method (the
gateway shows its string-to-sign back), the Content-MD5 of the body, hand-signed variants of
header-name case and separators, and form parameters."""

from __future__ import annotations

import json
import time
import uuid
from email.utils import formatdate

import httpx
import pytest
from aliyun_api_gateway import ApiGatewayRequest

from mock_server.testing import Tenant
from tests.aliyun_gateway.rig import (
    CONTRACT,
    QUERY,
    VENDOR,
    gateway_error,
    hand_sign,
    md5,
    passed_gateway,
    query_request,
    send_signed,
    signer,
    unsigned_text,
)

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
