"""Schemathesis against every vendor's exported OpenAPI document, through a real uvicorn.

Every operation of every vendor gets schema-valid and schema-breaking requests (Schemathesis'
positive and negative generation), signed by auth hooks where the vendor signs (the DAMO gateway's
HMAC over the request as sent, Aidge's v2 signature), and a stateful run follows the documents'
links from each submit to its query. The answers must hold zero server errors and zero violations
of the documented statuses, media types, headers and schemas.

Checks left out, and why (each is covered by an assertion of our own below):
- ``positive_data_acceptance``: a schema cannot say that an image URL must resolve to a decodable
  image of the right size; such requests get the vendor's documented 400 instead.
- For Aidge, ``ignored_auth`` and ``negative_data_rejection``: Aidge answers every error, bad
  signatures included, with HTTP 200 and a code in the body, as the real service does.
- For DAMO gateway errors, ``content_type_conformance`` and ``response_schema_conformance``: the
  gateway answers with a status, an empty body and ``X-Ca-Error-Message``; OpenAPI cannot say that
  some of a status's answers have no body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

import hypothesis
import pytest
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.core.result import Err
from schemathesis.specs.openapi import checks

import contracts
from mock_server import Settings, openapi
from mock_server.assets import ASSETS, asset_bytes
from mock_server.testing import MockServer, serve_in_thread
from tests.clients.aidge import AidgeClient
from tests.clients.damo import DamoClient

# Schemathesis leaves the parameters of its operations and cases open (it returns a bare
# APIOperation and draws a bare Case), so they stay open here too.
Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]
Case: TypeAlias = schemathesis.Case[Operation]

VENDORS = contracts.vendor_names()
SCHEMAS = {v: schemathesis.openapi.from_dict(openapi.document(contracts.load(v))) for v in VENDORS}
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
EXAMPLES = 25
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
EXCLUDED: dict[str, list[Any]] = {
    "aidge": [checks.ignored_auth, checks.negative_data_rejection],
    "damo": [checks.ignored_auth],  # an unknown AppKey is the gateway's 400 A400IK, as documented
}


def credentials(vendor: str) -> dict[str, str]:
    """The vendor's default credential that signs, where it has one (else its first)."""
    found = contracts.load(vendor).default_credentials
    signing = [c for c in found if "app_secret" in c]
    return dict((signing or found)[0])


def auth_hook(vendor: str) -> type:
    """A Schemathesis auth provider putting this vendor's credentials on each generated case."""
    creds = credentials(vendor)
    aidge = AidgeClient()  # signs Aidge's query; the session signs DAMO's requests as sent
    aidge.job = {"credentials": creds}

    class Credentials:
        def get(self, case: Case, ctx: schemathesis.AuthContext) -> dict[str, str]:
            return creds

        def set(self, case: Case, data: dict[str, str], ctx: schemathesis.AuthContext) -> None:
            headers = CaseInsensitiveDict(case.headers or {})
            if vendor == "dashscope":
                headers["Authorization"] = f"Bearer {data['api_key']}"
            elif vendor == "ailabtools":
                headers["ailabapi-api-key"] = data["api_key"]
            elif vendor == "aidge":
                case.query = {**(case.query or {}), **aidge.signed()}
            elif vendor == "damo":  # the key, a fresh nonce and a placeholder the session signs
                headers.update(
                    {
                        "X-Ca-Key": data["app_key"],
                        "X-Ca-Timestamp": str(int(time.time() * 1000)),
                        "X-Ca-Nonce": str(uuid.uuid4()),
                        "X-Ca-Signature-Method": "HmacSHA256",
                        "X-Ca-Signature": "unsigned",
                    }
                )
            case.headers = headers

    return Credentials


class GatewaySigning(requests.Session):
    """Signs each DAMO request as sent (body, Content-MD5 and Content-Type as Schemathesis
    serialised them), the way the gateway's SDK signs; requests without a key go unsigned."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.client = DamoClient()
        self.client.job = {"credentials": credentials("damo")}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        headers = request.headers
        if "X-Ca-Signature" in headers and "X-Ca-Key" in headers:
            body = request.body or b""
            body = body.encode() if isinstance(body, str) else body
            assert isinstance(body, bytes), "Schemathesis sends a body in one piece"
            headers["Content-MD5"] = base64.b64encode(
                hashlib.md5(body, usedforsecurity=False).digest()
            ).decode()
            text = as_text(headers)
            signed = {k: v for k, v in text.items() if k.startswith("X-Ca-") and k != "X-Ca-Signature"}
            headers["X-Ca-Signature-Headers"] = ",".join(sorted(signed))
            plain: dict[str, str] = {
                k: text[k] for k in ("Accept", "Content-MD5", "Content-Type") if k in text
            }
            to_sign = self.client.string_to_sign(
                request.method or "POST", request.path_url, {**signed, **plain}
            )
            secret = self.client.credentials["app_secret"].encode()
            digest = hmac.new(secret, to_sign.encode(), hashlib.sha256).digest()
            headers["X-Ca-Signature"] = base64.b64encode(digest).decode()
        return super().send(request, **kwargs)


def as_text(headers: Mapping[str, str | bytes]) -> dict[str, str]:
    """Request headers as text (requests allows bytes values; Schemathesis and the hooks set text)."""
    text: dict[str, str] = {}
    for name, value in headers.items():
        assert isinstance(value, str), f"{name}: {value!r}"
        text[name] = value
    return text


for _vendor, _schema in SCHEMAS.items():
    _schema.auth(refresh_interval=None)(auth_hook(_vendor))


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with serve_in_thread(Settings(port=0)) as running:
        yield running


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with GatewaySigning() as signing:
        yield signing


def gateway_answer(vendor: str, response: schemathesis.Response) -> bool:
    """A DAMO gateway error: status, empty body, the message in a header (and it is documented).
    Schemathesis keeps response headers under lower-case names, each with a list of values."""
    values = response.headers.get("x-ca-error-message")
    if vendor != "damo" or not values:
        return False
    message = values[0]
    assert response.content == b"", "a gateway error carries no body"
    rows = [e for e in contracts.load(vendor).errors if e.envelope == "gateway"]
    documented = [e for e in rows if e.http_status == response.status_code and message.startswith(e.message)]
    assert documented, f"undocumented gateway answer {response.status_code} {message!r}"
    return True


def validate(
    vendor: str, case: Case, response: schemathesis.Response, stateful: bool = False, **kwargs: Any
) -> None:
    excluded = [checks.positive_data_acceptance, *EXCLUDED.get(vendor, [])]
    if stateful:  # submits were given real images (see with_sample_images): not negative any more
        excluded.append(checks.negative_data_rejection)
    if gateway_answer(vendor, response):
        excluded += [checks.content_type_conformance, checks.response_schema_conformance]
    case.validate_response(response, excluded_checks=excluded, **kwargs)


def with_sample_images(contract: contracts.Contract, case: Case, url: str) -> None:
    """A submit's image fields set to sample images (drawn bytes are never a decodable photo), so
    that some submits create tasks for the links to reach: files for multipart vendors, links to
    the mock's assets inside the request document for the others."""
    endpoint = next(
        e
        for e in contract.endpoints
        if e.method == case.operation.method.upper() and case.operation.path in e.paths
    )
    ops = [op for op in contract.operations.values() if op.endpoint == endpoint.id]
    if endpoint.kind != "submit" or not ops or not isinstance(case.body, dict):
        return
    doc: dict[str, Any] = {}
    for image in ops[0].images:
        if any(part.isdigit() and part != "0" for part in image.pointer.split("/")):
            continue  # one image a list is enough
        name = next(a.name for a in ASSETS.values() if a.role == image.role and a.trips is None)
        multipart = endpoint.request_content_type.startswith("multipart/")
        value = asset_bytes(name) if multipart else f"{url}/_mock/assets/{name}"
        put(doc, image.pointer, value)
    if endpoint.carrier_fields:
        case.body = {endpoint.carrier_fields[0]: json.dumps(doc)}
    else:
        case.body = {**case.body, **doc}


def put(doc: dict[str, Any], pointer: str, value: Any) -> None:
    """Set ``value`` at a JSON pointer, making the objects and one-item lists on the way."""
    parts = pointer.strip("/").split("/")
    here: Any = doc
    for part, following in itertools.pairwise(parts):
        child: Any = [] if following.isdigit() else {}
        if isinstance(here, list):
            if not here:
                here.append(child)
            here = here[0]
        else:
            here = here.setdefault(part, child)
    if isinstance(here, list):
        here[:] = here or [value]
    else:
        here[parts[-1]] = value


def operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation of a document (one Schemathesis cannot build raises its error)."""
    found: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


OPERATIONS = [
    pytest.param(vendor, operation, mode, id=f"{vendor}-{operation.label}-{mode.value}")
    for vendor, schema in SCHEMAS.items()
    for operation in operations(schema)
    for mode in MODES
]


@pytest.mark.parametrize(("vendor", "operation", "mode"), OPERATIONS)
def test_every_operation_answers_as_documented(
    server: MockServer,
    session: requests.Session,
    vendor: str,
    operation: Operation,
    mode: schemathesis.GenerationMode,
) -> None:
    statuses: list[int] = []

    # Hypothesis derives this test's fixed (derandomized) seed from the source and signature of
    # `run`, so its annotation stays as it was: `Case` would draw other requests.
    @SETTINGS
    @hypothesis.given(operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        response = case.call(base_url=server.url, session=session)
        statuses.append(response.status_code)
        validate(vendor, case, response)

    run()
    assert len(statuses) >= min(EXAMPLES, 5), "Schemathesis drew too few requests to mean anything"
    assert all(s < 500 for s in statuses)


@pytest.mark.parametrize("vendor", VENDORS)
def test_stateful_links_reach_the_submitted_tasks(
    server: MockServer, session: requests.Session, vendor: str
) -> None:
    contract = contracts.load(vendor)
    queries = {e.id for e in contract.endpoints if e.kind == "query"}
    linked = {target for e in contract.endpoints for target in e.links}
    assert queries <= linked, "every query endpoint is the target of a link"
    seen: list[str] = []
    schema = SCHEMAS[vendor]

    # Schemathesis builds the state machine class at run time; mypy cannot take it as a base.
    class Linked(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            with_sample_images(contract, case, server.url)

        def call(self, case: Case, **kwargs: Any) -> schemathesis.Response:
            return case.call(base_url=server.url, session=session, **kwargs)

        def validate_response(self, response: schemathesis.Response, case: Case, **kwargs: Any) -> None:
            seen.append(case.operation.label)
            validate(vendor, case, response, stateful=True, transport_kwargs=kwargs or None)

    last = server.admin("GET", "/journal", params={"limit": 1}).json()["entries"]
    before = last[0]["seq"] if last else 0
    Linked.run(settings=hypothesis.settings(SETTINGS, max_examples=15, stateful_step_count=6))
    assert seen, "the state machine made no calls"
    journal = server.admin("GET", "/journal", params={"vendor": vendor, "since": before}).json()["entries"]
    found = [e for e in journal if e["endpoint"] in queries and e["tasks"]]
    assert found, f"no {vendor} query followed a link to a task the mock had submitted"
