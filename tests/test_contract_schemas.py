"""Every schema a contract names is checked against JSON Schema's own meta-schema when the contract
loads (by jsonschema-rs: the Python check took four fifths of the start-up's contract loading), and
a file that is no JSON Schema refuses the contract, naming the file."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import contracts
from contracts import loading, model


@pytest.mark.parametrize("name", contracts.vendor_names())
def test_every_shipped_schema_passes_the_python_meta_schema_check_too(name: str) -> None:
    for schema in contracts.load(name).schemas.values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("broken", [{"type": 12}, {"properties": []}, {"required": "model"}])
def test_a_file_that_is_no_json_schema_refuses_the_contract(
    tmp_path: Path, broken: dict[str, object]
) -> None:
    folder = tmp_path / "dashscope"
    shutil.copytree(str(resources.files("contracts").joinpath("dashscope")), folder)
    (folder / "task.response.schema.json").write_text(json.dumps(broken))
    raw = json.loads((folder / "vendor.json").read_text())
    errors = json.loads((folder / "errors.json").read_text())
    with pytest.raises(
        model.ContractError, match=r"dashscope/task\.response\.schema\.json is no JSON Schema"
    ):
        loading._build("dashscope", folder, raw, errors)
