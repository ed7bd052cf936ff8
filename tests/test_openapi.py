"""The OpenAPI 3.1 export: valid documents, served and printed, naming every endpoint the mock
serves and every error row each endpoint can answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

import contracts
from mock_server.cli import main
from mock_server.openapi import document

VENDORS = contracts.vendor_names()


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_exports_a_valid_openapi_31_document(vendor: str) -> None:
    doc = document(contracts.load(vendor))
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert doc["openapi"] == "3.1.0" and doc["components"]["securitySchemes"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_endpoint_and_error_row_is_documented(vendor: str) -> None:
    contract = contracts.load(vendor)
    doc = document(contract)
    by_id = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= set(doc["components"]["schemas"]), "every $ref resolves"
    for endpoint in contract.endpoints:
        for path in endpoint.paths:
            assert endpoint.method.lower() in doc["paths"][path]
        listed = {
            c["id"] for r in by_id[endpoint.id]["responses"].values() for c in r.get("x-error-codes", [])
        }
        assert listed == {e.id for e in contract.errors if e.can_occur(endpoint.kind)}, endpoint.id
        for error in contract.errors:
            if error.can_occur(endpoint.kind):
                assert str(error.http_status) in by_id[endpoint.id]["responses"]


def test_multipart_images_are_files_and_carried_documents_are_json_text() -> None:
    ailab = document(contracts.load("ailabtools"))
    body = ailab["paths"]["/api/portrait/enhance/try-on-clothes-refiner"]["post"]["requestBody"]["content"]
    fields = body["multipart/form-data"]["schema"]["properties"]
    assert fields["person_image"] == {"type": "string", "contentMediaType": "application/octet-stream"}
    aidge = document(contracts.load("aidge"))
    content = aidge["paths"]["/rest/ai/virtual/tryon"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    carried = content["application/json"]["schema"]["properties"]["requestParams"]
    assert carried["contentMediaType"] == "application/json"


def test_gateway_errors_document_their_headers() -> None:
    damo = document(contracts.load("damo"))
    forbidden = damo["paths"]["/api/v1/tryon/submit"]["post"]["responses"]["403"]
    assert "X-Ca-Error-Message" in forbidden["headers"]
    assert any(c["id"] == "Gateway.ThrottledUser" for c in forbidden["x-error-codes"])


def test_served_under_mock_with_this_servers_url(client: TestClient) -> None:
    doc = client.get("/_mock/openapi/dashscope.json").json()
    assert doc["servers"] == [{"url": "http://testserver"}]
    assert doc == json.loads(json.dumps(document(contracts.load("dashscope"), "http://testserver")))
    assert client.get("/_mock/openapi/nobody.json").status_code == 404


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_documented_operation_reaches_its_endpoint(client: TestClient, vendor: str) -> None:
    """A request to each documented path and method lands on that endpoint of the live mock (its
    journal names it), not on the vendor's unknown-route answer."""
    doc = document(contracts.load(vendor))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            concrete = re.sub(r"{[^}]+}", "some-id", path)
            client.request(method.upper(), concrete)
            entry: dict[str, Any] = client.get(
                "/_mock/journal", params={"vendor": vendor, "limit": 1}
            ).json()["entries"][-1]
            assert entry["endpoint"] == re.sub(r"-\d+$", "", op["operationId"]), (method, path)


def test_cli_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--vendor", "aidge"]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "aidge.json"
    assert main(["openapi", "--vendor", "aidge", "--out", str(out), "--server-url", "http://h:1"]) == 0
    written = json.loads(out.read_text())
    assert printed["paths"] == written["paths"] and written["servers"] == [{"url": "http://h:1"}]
    validate(written)
