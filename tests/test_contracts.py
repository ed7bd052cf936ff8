"""Every shipped contract passes its meta-schemas and cross-checks; broken ones are refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import contracts
from contracts import model


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
