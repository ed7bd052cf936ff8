"""What Aidge refuses at submit, through HTTP, in-process: invalid requests answer 700 naming the
field (any model name passes, unless the option model_names=documented keeps to the two the pages
show); garments outside each API's sizes, unreadable ones, ones that are no flat lay under
inputQualityDetect, and a model image with two people."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.vocabulary import Situation
from tests.aidge_rig import (
    CONTRACT,
    INVALID,
    PRO,
    PRO_OP,
    STANDARD,
    Aidge,
    accepted,
    caller,
    item,
    refused,
)
from tests.helpers import asset

# -- validation ----------------------------------------------------------------------------------

VALIDATION_CASES: list[tuple[str, Any, str]] = [
    ("missing-requestParams", {}, "requestParams"),
    ("invalid-json", {"requestParams": '[{"clothesList": '}, "requestParams"),
    ("invalid-json-paramJson", {"paramJson": "{nope"}, "paramJson"),
    ("empty-array", {"requestParams": "[]"}, "requestParams"),
    ("not-objects", {"requestParams": "[1, 2]"}, "requestParams"),
    ("missing-clothesList", {"requestParams": json.dumps([{"generateCount": 1}])}, "clothesList"),
    (
        "two-garments",
        {
            "requestParams": json.dumps(
                [{"clothesList": [{"imageUrl": asset("top.png")}, {"imageUrl": asset("dress.png")}]}]
            )
        },
        "clothesList",
    ),
    ("generateCount-0", {"requestParams": json.dumps([item(generateCount=0)])}, "generateCount"),
    ("generateCount-9", {"requestParams": json.dumps([item(generateCount=9)])}, "generateCount"),
    ("viewType-side", {"requestParams": json.dumps([item(viewType="side")])}, "viewType"),
    ("model-name-number", {"requestParams": json.dumps([item(model={"name": 7})])}, "model.name"),
    ("body-round", {"requestParams": json.dumps([item(model={"body": "round"})])}, "model.body"),
    (
        "nine-model-images",
        {"requestParams": json.dumps([item(modelImage=[asset("person.png")] * 9)])},
        "modelImage",
    ),
    (
        "bottoms-alone-on-standard",
        {"requestParams": json.dumps([item(kind="bottoms")])},
        "clothesList[0].type",
    ),
    (
        "second-object-bad",
        {"requestParams": json.dumps([item(generateCount=1), item(viewType="side")])},
        "viewType",
    ),
]


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in VALIDATION_CASES], ids=[n for n, _, _ in VALIDATION_CASES]
)
def test_invalid_requests_answer_700_naming_the_field(aidge: Aidge, body: Any, field: str) -> None:
    error = CONTRACT.trigger(INVALID)
    refused(aidge.post(STANDARD, body), error, field)
    assert error.code == 700


# -- the model library ---------------------------------------------------------------------------

DOCUMENTED_NAMES = ["", "Ariel", "James"]  # the default, and the names vendor-docs/001 and the pro page show
OTHER_NAMES = ["Nobody", "Emma", "ariel"]
# base: "General" or a customer's scene code; style: universal_1..3 or a customer's tags (both open)
DOCUMENTED_MODELS = [
    {"base": "General", "gender": gender, "style": style, "body": body}
    for gender, style, body in (
        ("female", "universal_1", "slim"),
        ("male", "universal_2", "curvy"),
        ("female", "universal_3", "slim"),
    )
] + [{"base": "ACME_SCENE_01", "style": "acme_summer"}]


@pytest.mark.parametrize("api", [STANDARD, PRO])
@pytest.mark.parametrize("name", DOCUMENTED_NAMES + OTHER_NAMES)
def test_any_model_name_is_accepted_by_default(aidge: Aidge, api: str, name: str) -> None:
    assert CONTRACT.options["model_names"].default == "any"
    model = {"base": "General", "name": name, "gender": "female", "style": "universal_1", "body": "slim"}
    aidge.task_id([item(generateCount=1, model=model, viewType="mixed", inputQualityDetect=0)], api)


@pytest.mark.parametrize("model", DOCUMENTED_MODELS)
def test_the_documented_base_style_and_body_values_are_accepted(aidge: Aidge, model: dict[str, str]) -> None:
    aidge.task_id([item(generateCount=1, model=model)])
    aidge.task_id([item(generateCount=1, model=model)], PRO)


@pytest.mark.parametrize("api", [STANDARD, PRO])
def test_model_names_documented_keeps_to_the_names_the_pages_show(api: str) -> None:
    assert "documented" in CONTRACT.options["model_names"].choices
    with caller(model_names="documented", pro_test_mode="off") as aidge:
        for name in DOCUMENTED_NAMES:
            aidge.task_id([item(generateCount=1, model={"name": name})], api)
        for model in DOCUMENTED_MODELS:
            aidge.task_id([item(generateCount=1, model=model)], api)
        for name in OTHER_NAMES:
            answer = aidge.submit([item(generateCount=1, model={"base": "General", "name": name})], api)
            refused(answer, CONTRACT.trigger(INVALID), "model.name")
        second = [item(generateCount=1, model={"name": "Ariel"}), item(model={"name": "Nobody"})]
        refused(aidge.submit(second, api), CONTRACT.trigger(INVALID), "model.name")


# -- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garment", "situation"),
    [("too-small.png", "image.small"), ("too-large.png", "image.side"), ("person-small.png", "image.small")],
)
def test_the_standard_api_refuses_garments_outside_its_sizes(
    aidge: Aidge, garment: str, situation: Situation
) -> None:
    error = CONTRACT.trigger(situation)
    assert error.code == 703
    refused(aidge.submit([item(garment, generateCount=1)]), error)


@pytest.mark.parametrize("garment", ["person-small.png", "too-large.png"])
def test_the_pro_api_takes_garments_of_150_to_6500(aidge: Aidge, garment: str) -> None:
    limits = PRO_OP.images[0].limits
    assert (limits.min_side, limits.max_side) == (150, 6500)
    aidge.task_id([item(garment, generateCount=1)], PRO)


def test_the_pro_api_refuses_garments_under_150(aidge: Aidge) -> None:
    refused(aidge.submit([item("too-small.png", generateCount=1)], PRO), CONTRACT.trigger("image.small"))


@pytest.mark.parametrize(
    ("url", "situation"),
    [
        (asset("no-such-image.png"), "image.unreachable"),
        (asset("wrong-format.gif"), "image.format"),
        (asset("undecodable.png"), "image.undecodable"),
    ],
    ids=["unreachable", "gif", "undecodable"],
)
def test_garments_that_cannot_be_read_answer_701(aidge: Aidge, url: str, situation: Situation) -> None:
    error = CONTRACT.trigger(situation)
    assert error.code == 701
    doc = {"clothesList": [{"imageUrl": url, "type": "tops"}], "generateCount": 1}
    for api in (STANDARD, PRO):
        refused(aidge.submit([doc], api), error)


@pytest.mark.parametrize(
    ("garment", "detect", "refuses"),
    [
        ("person.png", 1, True),
        ("person.png", "1", True),
        ("top.png", 1, False),
        ("person.png", 0, False),
        ("person.png", None, False),
    ],
    ids=["person-detect", "person-detect-string", "top-detect", "person-no-detect", "person-default"],
)
def test_input_quality_detect_refuses_garments_that_are_no_flat_lay(
    aidge: Aidge, garment: str, detect: Any, refuses: bool
) -> None:
    extra = {} if detect is None else {"inputQualityDetect": detect}
    response = aidge.submit([item(garment, generateCount=1, **extra)])
    if refuses:
        error = CONTRACT.trigger("image.not_flat_lay")
        assert error.code == 707
        refused(response, error)
    else:
        accepted(response)


def test_a_model_image_with_two_people_answers_700(aidge: Aidge) -> None:
    error = CONTRACT.trigger("image.multi_person")
    assert error.code == 700
    doc = item(modelImage=[asset("person.png"), asset("two-persons.png")])
    for api in (STANDARD, PRO):
        refused(aidge.submit([doc], api), error)
