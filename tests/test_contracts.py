"""Every shipped contract passes its meta-schemas and cross-checks; broken ones are refused."""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import contracts
from contracts import loading, model
from contracts.model import Endpoint, resolve_pointer
from contracts.vocabulary import SITUATIONS
from tests.clients.jobs import request_of
from tests.helpers import v2_signed


@pytest.mark.parametrize("name", contracts.vendor_names())
def test_contract_validates_and_loads(name: str) -> None:
    root = resources.files("contracts")
    meta = Draft202012Validator(json.loads(root.joinpath("meta.schema.json").read_text()))
    errors_meta = Draft202012Validator(json.loads(root.joinpath("errors.schema.json").read_text()))
    assert list(meta.iter_errors(json.loads(root.joinpath(name, "vendor.json").read_text()))) == []
    assert list(errors_meta.iter_errors(json.loads(root.joinpath(name, "errors.json").read_text()))) == []
    c = contracts.load(name)
    assert c.name == name and c.errors and c.endpoints


@pytest.mark.parametrize("name", contracts.vendor_names())
def test_every_endpoint_documents_success_and_errors(name: str) -> None:
    c = contracts.load(name)
    for ep in c.endpoints:
        assert ep.response_schema(200) and ep.response_schema(400), ep.id
    kinds = {ep.kind for ep in c.endpoints}
    for err in c.errors:
        assert err.at & (kinds | {"task"}), f"{err.id} occurs at no endpoint of {name}"


@pytest.mark.parametrize("name", contracts.vendor_names())
def test_lifecycle_terminal_statuses_are_the_outcomes(name: str) -> None:
    life = contracts.load(name).lifecycle
    outcomes = {life.succeeded, life.failed, life.canceled} - {None}
    assert outcomes <= life.terminal
    assert not {p.status for p in life.phases} & life.terminal


def _broken(tmp_path: Path, change: Callable[[dict[str, Any], dict[str, Any]], None]) -> model.ContractError:
    src = resources.files("contracts").joinpath("dashscope")
    folder = tmp_path / "dashscope"
    shutil.copytree(str(src), folder)
    vendor = json.loads((folder / "vendor.json").read_text())
    errors = json.loads((folder / "errors.json").read_text())
    change(vendor, errors)
    (folder / "vendor.json").write_text(json.dumps(vendor))
    (folder / "errors.json").write_text(json.dumps(errors))
    meta, errors_meta = loading._meta_validators()
    with pytest.raises(model.ContractError) as info:
        raw = json.loads((folder / "vendor.json").read_text())
        loading._check(meta, raw, "vendor.json")
        loading._check(errors_meta, errors, "errors.json")
        loading._build("dashscope", folder, raw, errors)
    return info.value


T = {"queue_seconds": 1, "run_seconds": 1, "timing_source": "x"}  # durations, for an operation's timings
S = "aitryon.request.schema.json"  # a schema file of the folder


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda v, e: v["triggers"].update({"auth.invalid": "NoSuchError"}), "unknown error id"),
        (lambda v, e: v["request_errors"].append({"error": "Nope"}), "unknown error id"),
        (lambda v, e: v["operations"]["aitryon"].update({"endpoint": "nowhere"}), "unknown endpoint"),
        (lambda v, e: v["operations"]["aitryon"]["images"][0].update({"limits": "huge"}), "unknown limits"),
        (lambda v, e: v["lifecycle"].update({"terminal": ["DONE"]}), "lifecycle"),
        (lambda v, e: e["errors"].append(dict(e["errors"][0])), "repeats an id"),
        (lambda v, e: e["errors"][0].update({"at": ["somewhere"]}), "errors.json"),
        (lambda v, e: v.pop("auth"), "vendor.json"),
        (lambda v, e: v["endpoints"][0].update({"kind": "teleport"}), "vendor.json"),
        (lambda v, e: v["triggers"].update({"auth.sunspots": "InvalidApiKey"}), "vendor.json"),
        (lambda v, e: v["operations"]["aitryon"].update({"request_schema": "missing.json"}), "missing.json"),
        (lambda v, e: v["endpoints"][2]["examples"].update({"request": {}}), "takes no request"),
        (lambda v, e: v["endpoints"][2]["examples"]["responses"].update({"299": {}}), "undocumented answer"),
        (lambda v, e: v["endpoints"][0]["examples"]["responses"].update({"ok": {}}), "vendor.json"),
        (lambda v, e: v["triggers"].pop("header.content_type"), "no error answers header.content_type"),
        (lambda v, e: v["endpoints"][0].update({"request_media_types": ["text/plain"]}), "its own"),
        (lambda v, e: v["endpoints"][0].update({"request_media_types": ["JSON"]}), "vendor.json"),
        (lambda v, e: v["triggers"].pop("image.light"), "min_bytes need the trigger image.light"),
        (lambda v, e: v["options"]["refiner_result"].update(request_schemas={"no": S}), "not a choice"),
        (lambda v, e: v["operations"]["aitryon"].pop("timing_source"), "vendor.json"),
        (lambda v, e: v["operations"]["aitryon"].update(timings={"refiner_timing": {"current": T}}), "def"),
        (lambda v, e: v["operations"]["aitryon"].update(timings={"speed": {"fast": T}}), "unknown option"),
    ],
)
def test_broken_contracts_are_refused(tmp_path: Path, change: Any, says: str) -> None:
    assert says in str(_broken(tmp_path, change))


def test_contract_bundle_is_downloadable(client: Any) -> None:
    listing = client.get("/_mock/contracts").json()["contracts"]
    assert listing == sorted(contracts.vendor_names())
    bundle = client.get("/_mock/contracts/dashscope").json()
    assert bundle["vendor"]["name"] == "dashscope"
    assert [e["id"] for e in bundle["errors"]] == [e.id for e in contracts.load("dashscope").errors]
    assert "aitryon.request.schema.json" in bundle["schemas"]
    assert client.get("/_mock/contracts/nobody").status_code == 404


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@st.composite
def _near(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one member of one of its objects replaced by drawn JSON, or dropped."""
    copy = json.loads(json.dumps(doc))
    members: list[tuple[dict[str, Any], str]] = []
    stack = [copy]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            members += [(node, key) for key in node]
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    if members:
        target, key = draw(st.sampled_from(members))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(JSON)
    return copy


@pytest.mark.parametrize("name", contracts.vendor_names())
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_compiled_validator_agrees_with_the_python_one(name: str, data: st.DataObject) -> None:
    """The fast path (jsonschema-rs) says "valid" exactly where jsonschema does: for a valid
    request, the same with one member changed or dropped, and any drawn JSON."""
    contract = contracts.load(name)
    operation_name, valid = request_of(name, "http://127.0.0.1:8000")
    operation = contract.operations[operation_name]
    schema = operation.request_schema
    valid = valid[0] if isinstance(valid, list) else valid
    if name == "ailabtools":  # its images travel as files; the schema sees each as a URL
        valid = {**valid, **{i.pointer.strip("/"): "https://x/y.png" for i in operation.images}}
    assert not any(True for _ in contract.validator(schema).iter_errors(valid)), "a valid sample"
    doc = data.draw(st.just(valid) | JSON | _near(valid))
    python_says = not any(True for _ in contract.validator(schema).iter_errors(doc))
    assert contract.compiled[schema].is_valid(doc) == python_says, doc
    assert (not any(True for _ in contract.violations(schema, doc))) == python_says


# -- documented examples -------------------------------------------------------------------------

UPLOADED = "https://example.com/upload.png"  # a file part, as the mock reads it (a URL it stored it under)


def _request_documents(
    contract: contracts.Contract, endpoint: Endpoint, example: Any
) -> list[tuple[str, Any]]:
    """(schema file, document) pairs a request example must pass, read as the mock reads the
    request: documents carried as JSON text decoded; multipart files (binary, so absent from the
    example) as the URLs the mock stores them under; then the endpoint's own schema and the schema
    of the operation the document names (``operation_pointer``) or of the endpoint's only one."""
    ops = [op for op in contract.operations.values() if op.endpoint == endpoint.id]
    docs = [example]
    if endpoint.carrier_fields:
        carried = [example[f] for f in endpoint.carrier_fields if f in example]
        if len(carried) != 1 or set(example) - set(endpoint.carrier_fields):
            raise ValueError(f"carries its documents in exactly one of {endpoint.carrier_fields}")
        inner = json.loads(carried[0])
        docs = inner if isinstance(inner, list) else [inner]
    elif endpoint.request_content_type.startswith("multipart/"):
        files = {image.pointer.strip("/") for op in ops for image in op.images}
        if files & set(example):
            raise ValueError(f"holds file fields {sorted(files & set(example))}, which are binary")
        docs = [{**example, **dict.fromkeys(files, UPLOADED)}]
    pairs: list[tuple[str, Any]] = []
    for doc in docs:
        if endpoint.operation_pointer:
            chosen = [contract.operations[resolve_pointer(doc, endpoint.operation_pointer)]]
            if chosen[0].endpoint != endpoint.id:
                raise ValueError(f"names {chosen[0].name}, an operation of another endpoint")
        elif len(ops) > 1:
            raise ValueError("the endpoint serves several operations and the example names none")
        else:
            chosen = ops
        own = [endpoint.request_schema] if endpoint.request_schema else []
        for schema in dict.fromkeys([*own, *(op.request_schema for op in chosen)]):
            pairs.append((schema, doc))
    return pairs


def _path(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path)


def example_problems(contract: contracts.Contract) -> list[str]:
    """Every way the contract's examples break its schemas: the request example against the
    request schemas, each answer against ``example_schema`` (``response_schema(status)``, or the
    error schema for an error answered with a success status)."""
    problems: list[str] = []
    for endpoint in contract.endpoints:
        if "request" in endpoint.examples:
            try:
                pairs = _request_documents(contract, endpoint, endpoint.examples["request"])
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{endpoint.id} request: {exc}")
                pairs = []
            for schema, doc in pairs:
                problems += [
                    f"{endpoint.id} request breaks {schema} at /{_path(e)}: {e.message}"
                    for e in contract.validator(schema).iter_errors(doc)
                ]
        for key, answer in endpoint.examples.get("responses", {}).items():
            answer_schema = endpoint.example_schema(key)
            if answer_schema is None:
                problems.append(f"{endpoint.id} {key}: no schema")
                continue
            problems += [
                f"{endpoint.id} {key} breaks {answer_schema} at /{_path(e)}: {e.message}"
                for e in contract.validator(answer_schema).iter_errors(answer)
            ]
    return problems


@pytest.mark.parametrize("name", contracts.vendor_names())
def test_every_endpoint_has_examples_that_follow_its_schemas(name: str) -> None:
    contract = contracts.load(name)
    for endpoint in contract.endpoints:
        responses = endpoint.examples.get("responses", {})
        assert "200" in responses, f"{endpoint.id} has no success example"
        errors = [k for k in responses if k != "200"]
        assert len(errors) == 1, f"{endpoint.id} has not exactly one error example: {errors}"
        takes = endpoint.request_schema or endpoint.carrier_fields or endpoint.kind == "submit"
        assert ("request" in endpoint.examples) == bool(takes), endpoint.id
        for key in responses:  # a bare status follows that status's answer schema
            if ":" not in key:
                assert endpoint.example_schema(key) == endpoint.response_schema(int(key))
    assert example_problems(contract) == []


def _broken_examples(name: str, endpoint_id: str, key: str, change: Callable[[Any], Any]) -> list[str]:
    """The problems found in a copy of the contract whose example ``key`` (``request`` or a
    response key) of one endpoint went through ``change``."""
    contract = contracts.load(name)
    endpoints = []
    for endpoint in contract.endpoints:
        examples = json.loads(json.dumps(dict(endpoint.examples)))
        if endpoint.id == endpoint_id:
            if key == "request":
                examples["request"] = change(examples["request"])
            else:
                examples["responses"][key] = change(examples["responses"][key])
        endpoints.append(dataclasses.replace(endpoint, examples=examples))
    return example_problems(dataclasses.replace(contract, endpoints=tuple(endpoints)))


def _set(doc: Any, pointer: str, value: Any) -> Any:
    parts = pointer.strip("/").split("/")
    here = doc
    for part in parts[:-1]:
        here = here[int(part)] if isinstance(here, list) else here[part]
    here[parts[-1]] = value
    return doc


def _at(pointer: str, value: Any) -> Callable[[Any], Any]:
    return lambda doc: _set(doc, pointer, value)


def _carried(field: str, pointer: str, value: Any) -> Callable[[Any], Any]:
    return lambda body: {field: json.dumps(_set(json.loads(body[field]), pointer, value))}


@pytest.mark.parametrize(
    ("name", "endpoint_id", "key", "change", "says"),
    [
        (
            "dashscope",
            "image-synthesis",
            "request",
            _at("/input/person_image_url", "x"),
            "does not match",
        ),
        (
            "dashscope",
            "image-synthesis",
            "request",
            _at("/model", "aitryon-parsing-v1"),
            "another",
        ),
        ("dashscope", "image-synthesis", "request", _at("/model", "nobody"), "nobody"),
        ("dashscope", "task-query", "200", _at("/output/task_status", "DONE"), "DONE"),
        ("damo", "submit", "request", _at("/data/fit_type", "NO_BODY"), "NO_BODY"),
        ("damo", "query", "400", _at("/code", 23500008), "23500008"),
        ("aidge", "tryon", "request", _carried("requestParams", "/0/clothesList", []), "clothesList"),
        ("aidge", "tryon-pro", "request", lambda d: {"requestParams": "{"}, "Expecting"),
        ("aidge", "balance", "200:error-700", _at("/success", True), "True"),
        ("ailabtools", "try-on-clothes-refiner", "request", _at("/gender", "girl"), "girl"),
        ("ailabtools", "try-on-clothes", "request", _at("/person_image", "x"), "file"),
        ("ailabtools", "query-async-task-result", "404", _at("/error_code", 0), "0"),
    ],
)
def test_a_broken_example_is_found(name: str, endpoint_id: str, key: str, change: Any, says: str) -> None:
    problems = _broken_examples(name, endpoint_id, key, change)
    assert problems and all(p.startswith(endpoint_id) for p in problems), problems
    assert any(says in p for p in problems), problems


def _send(client: Any, contract: contracts.Contract, endpoint: Endpoint, example: Any) -> Any:
    """The example sent to the endpoint's first path with the vendor's default credential."""
    credential = contract.default_credentials[0]
    headers = dict(endpoint.headers)
    params: dict[str, str] = {}
    if contract.name == "dashscope":
        headers["Authorization"] = f"Bearer {credential['api_key']}"
    elif contract.name == "damo":
        headers.update({"Authorization": f"APPCODE {credential['appcode']}", "X-Ca-Nonce": str(uuid.uuid4())})
    elif contract.name == "aidge":
        params = v2_signed(credential["app_key"], credential["app_secret"])
        headers["x-iop-trial"] = "true"
    path = endpoint.paths[0]
    if endpoint.method == "GET":
        return client.get(path, params={**params, **example}, headers=headers)
    return client.request(endpoint.method, path, params=params, json=example, headers=headers)


def _resolved(template: Any, answer: Any) -> Any:
    """A link's request body or parameter with its ``$response.body#/...`` expressions evaluated."""
    if isinstance(template, str) and template.startswith("$response.body#"):
        return resolve_pointer(answer, template.partition("#")[2])
    if isinstance(template, dict):
        return {k: _resolved(v, answer) for k, v in template.items()}
    return template


def _merged(doc: Any, overlay: Any) -> Any:
    if isinstance(doc, dict) and isinstance(overlay, dict):
        return {**doc, **{k: _merged(doc.get(k), v) for k, v in overlay.items()}}
    return overlay


SENT = [
    pytest.param(name, e.id, id=f"{name}-{e.id}")
    for name in ("dashscope", "damo", "aidge")
    for e in contracts.load(name).endpoints
    if "request" in e.examples and e.request_content_type != "multipart/form-data"  # forms: text only
]


@pytest.mark.parametrize(("name", "endpoint_id"), SENT)
def test_the_mock_accepts_every_request_example(client: Any, name: str, endpoint_id: str) -> None:
    """Sent to the in-process mock (its https image URLs synthesized), each request example is
    answered with HTTP 200 and the endpoint's success schema. A query's example names a task the
    mock never made, so it first sends the example of the submit that links to it, and puts the
    task that submit got where the link says."""
    contract = contracts.load(name)
    endpoint = contract.endpoint(endpoint_id)
    example = endpoint.examples["request"]
    source = next((e for e in contract.endpoints if endpoint_id in e.links and "request" in e.examples), None)
    if source is not None:
        submitted = _send(client, contract, source, source.examples["request"])
        assert submitted.status_code == 200, submitted.text
        link = source.links[endpoint_id]
        parameters = {where.partition(".")[2]: expr for where, expr in link.get("parameters", {}).items()}
        example = _merged(example, _resolved({**parameters, **link.get("requestBody", {})}, submitted.json()))
    response = _send(client, contract, endpoint, example)
    assert response.status_code == 200, response.text
    schema = endpoint.response_schema(200)
    assert schema is not None
    problems = [e.message for e in contract.validator(schema).iter_errors(response.json())]
    assert problems == [], response.text


def test_trigger_keys_are_exactly_the_situations_the_engine_names() -> None:
    """``meta.schema.json`` admits as trigger keys exactly the ``Situation`` words of
    ``contracts/vocabulary.py``, and every vendor's triggers are among them."""
    meta = json.loads(resources.files("contracts").joinpath("meta.schema.json").read_text())
    assert set(meta["properties"]["triggers"]["propertyNames"]["enum"]) == set(SITUATIONS)
    for name in contracts.vendor_names():
        assert set(contracts.load(name).triggers) <= SITUATIONS
