"""Every shipped contract passes its meta-schemas and cross-checks; broken ones are refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import contracts
from contracts import model
from tests.clients.jobs import request_of


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
    meta, errors_meta = model._meta_validators()
    with pytest.raises(model.ContractError) as info:
        raw = json.loads((folder / "vendor.json").read_text())
        model._check(meta, raw, "vendor.json")
        model._check(errors_meta, errors, "errors.json")
        model._build("dashscope", folder, raw, errors)
    return info.value


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
        (lambda v, e: v["operations"]["aitryon"].update({"request_schema": "missing.json"}), "missing.json"),
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
