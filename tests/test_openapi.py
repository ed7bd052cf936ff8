"""The OpenAPI 3.1 export: valid documents, served and printed, naming every endpoint the mock
serves and every error row each endpoint can answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.testclient import TestClient

import contracts
from mock_server.cli import main
from mock_server.openapi import DOCUMENTED, document

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
        path, *aliases = endpoint.paths
        assert by_id[endpoint.id] is doc["paths"][path][endpoint.method.lower()]
        assert by_id[endpoint.id].get("x-tryon-mock-aliases", []) == aliases
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


def violations(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """What ``value`` breaks of a schema of the document, its ``#/components/schemas/...``
    references resolved in the document."""
    root = {"allOf": [schema], "components": doc["components"]}  # "#/..." resolves against this root
    checker = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in checker.iter_errors(value)]


def test_references_resolve_when_examples_are_checked() -> None:
    doc = document(contracts.load("dashscope"))
    assert violations(doc, {"$ref": "#/components/schemas/task.response"}, {"output": {}})


def request_examples(op: dict[str, Any]) -> tuple[list[Any], dict[str, Any], list[tuple[Any, Any]]]:
    """Where an operation shows its request example: whole bodies (JSON and form media types), the
    fields it shows one by one (query parameters, multipart text fields), and (schema, value) pairs."""
    whole: list[Any] = []
    fields: dict[str, Any] = {}
    placed: list[tuple[Any, Any]] = []
    for parameter in op.get("parameters", []):
        if "examples" in parameter:
            fields[parameter["name"]] = parameter["examples"][DOCUMENTED]["value"]
            placed.append((parameter["schema"], fields[parameter["name"]]))
    for media, body in op.get("requestBody", {}).get("content", {}).items():
        if media.startswith("multipart/"):
            for name, schema in body["schema"]["properties"].items():
                if "examples" in schema:
                    fields[name] = schema["examples"][0]
                    placed.append((schema, fields[name]))
        else:
            assert "examples" in body, (op["operationId"], media)
            whole.append(body["examples"][DOCUMENTED]["value"])
            placed.append((body["schema"], whole[-1]))
    return whole, fields, placed


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_documented_example_is_exported_next_to_its_schema(vendor: str) -> None:
    """The request example on the request body (each JSON or form media type; each text field of a
    multipart form) or the query parameters; each answer under its status, named ``success``,
    ``error`` or by its contract name; each valid against the schema it sits next to."""
    contract = contracts.load(vendor)
    doc = document(contract)
    by_id = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    for endpoint in contract.endpoints:
        op = by_id[endpoint.id]
        whole, fields, placed = request_examples(op)
        if "request" in endpoint.examples:
            request = endpoint.examples["request"]
            assert all(w == request for w in whole) and (whole or fields == request), endpoint.id
        else:
            assert not placed, endpoint.id
        for key, answer in endpoint.examples.get("responses", {}).items():
            status, _, name = key.partition(":")
            content = op["responses"][status]["content"][endpoint.content_type]
            name = name or ("success" if status.startswith("2") else "error")
            assert content["examples"][name] == {"value": answer}, (endpoint.id, key)
            placed.append((content["schema"], answer))
        for schema, value in placed:
            assert violations(doc, schema, value) == [], (endpoint.id, value)


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
    """A request to each documented path and method, and to each of its aliases, lands on that
    endpoint of the live mock (its journal names it), not on the vendor's unknown-route answer."""
    doc = document(contracts.load(vendor))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for spelling in [path, *op.get("x-tryon-mock-aliases", [])]:
                client.request(method.upper(), re.sub(r"{[^}]+}", "some-id", spelling))
                entry: dict[str, Any] = client.get(
                    "/_mock/journal", params={"vendor": vendor, "limit": 1}
                ).json()["entries"][-1]
                assert entry["endpoint"] == op["operationId"], (method, spelling)


def test_cli_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--vendor", "aidge"]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "aidge.json"
    assert main(["openapi", "--vendor", "aidge", "--out", str(out), "--server-url", "http://h:1"]) == 0
    written = json.loads(out.read_text())
    assert printed["paths"] == written["paths"] and written["servers"] == [{"url": "http://h:1"}]
    validate(written)


@pytest.mark.parametrize("vendor", VENDORS)
def test_one_path_per_operation_so_generators_make_one_method_each(vendor: str) -> None:
    """No operation id twice, no path that is another with a trailing slash (DashScope accepts
    both spellings: the second is an alias of the operation, not an operation of its own)."""
    doc = document(contracts.load(vendor))
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == len(contracts.load(vendor).endpoints)
    assert not [p for p in doc["paths"] if p.endswith("/") and p.rstrip("/") in doc["paths"]]


def test_dashscope_lists_the_trailing_slash_spellings_as_aliases() -> None:
    doc = document(contracts.load("dashscope"))
    submit = doc["paths"]["/api/v1/services/aigc/image2image/image-synthesis"]["post"]
    assert submit["x-tryon-mock-aliases"] == ["/api/v1/services/aigc/image2image/image-synthesis/"]
    assert "/api/v1/tasks/{task_id}/" not in doc["paths"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_is_tagged_and_the_tags_are_listed(vendor: str) -> None:
    doc = document(contracts.load(vendor))
    listed = [t["name"] for t in doc["tags"]]
    used = [tag for item in doc["paths"].values() for op in item.values() for tag in op["tags"]]
    assert all(op["tags"] for item in doc["paths"].values() for op in item.values())
    assert set(used) == set(listed) and len(listed) == len(set(listed))


def test_printed_and_written_documents_keep_non_ascii_titles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    title = contracts.load("damo").title
    assert not title.isascii(), "the DAMO title has Chinese in it"
    out = tmp_path / "damo.json"
    assert main(["openapi", "--vendor", "damo", "--out", str(out)]) == 0
    assert main(["openapi", "--vendor", "damo"]) == 0
    for written in (out.read_text(encoding="utf-8"), capsys.readouterr().out):
        assert "\\u" not in written and f'"title": "{title} (tryon-mock)"' in written
