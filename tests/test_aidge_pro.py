"""Aidge's pro API through HTTP, in-process (manual clock): its results have the layout of the
vendor's sample, it takes every encoding of its request and one garment or a suit only; its
test-phase rate limit (four submits a minute, per caller, off without the test mode, forgotten
on a reset); and the pro-one-fails scenario."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.aidge_rig import (
    APP_KEY,
    CONTRACT,
    LIFE,
    PRO,
    PRO_OP,
    VENDOR,
    Aidge,
    caller,
    item,
    pro_images,
    refused,
    standard_images,
    sub_tasks,
    suit,
)
from tests.helpers import asset, shape

# The pro API's sample answer (vendor-docs/000), URLs shortened: the layout to reproduce.
PRO_SAMPLE: dict[str, Any] = {
    "data": {
        "taskResult": [
            {
                "taskResult": {
                    "result": {
                        "data": {
                            "message": [],
                            "usageMap": '{"usage":2}',
                            "structData": {
                                "code": 200,
                                "imageList": [
                                    {
                                        "imageUrl": "https://aib-image.oss-ap-southeast-1.aliyuncs.com/r1.png",
                                        "clothes": [
                                            "https://aib-image.oss-ap-southeast-1.aliyuncs.com/c.png"
                                        ],
                                    },
                                    {
                                        "imageUrl": "https://aib-image.oss-ap-southeast-1.aliyuncs.com/r2.png",
                                        "clothes": [
                                            "https://aib-image.oss-ap-southeast-1.aliyuncs.com/c.png"
                                        ],
                                    },
                                ],
                                "usageMap": '{"usage": 2}',
                            },
                        },
                        "success": True,
                        "requestId": "2101196917428060035318331d1448",
                    },
                    "usage": 1,
                    "usageMap": '{"usage":2}',
                },
                "taskStatus": "finished",
            }
        ],
        "taskStatus": "finished",
        "taskId": "b5109fa4-6a5c-4cb2-98fe-bc8fc06f9d09",
    },
    "requestId": "210158e717428061708871336ea704",
    "success": True,
    "resCode": 200,
    "resMessage": "success",
    "code": "0",
    "request_id": "21010f3b17428061708857302",
    "_trace_id_": "210158e717428061708871336ea704",
}


# -- pro -----------------------------------------------------------------------------------------


def test_pro_results_have_the_layout_of_the_vendor_sample(aidge: Aidge) -> None:
    task_id = aidge.task_id(suit(generateCount=2), PRO)
    aidge.finish(PRO_OP)
    body = aidge.results(task_id)
    assert shape(body) == shape(PRO_SAMPLE)
    assert {k: len(body[k]) for k in ("requestId", "request_id", "_trace_id_")} == {
        k: len(PRO_SAMPLE[k]) for k in ("requestId", "request_id", "_trace_id_")
    }
    [sub] = sub_tasks(body)
    assert (sub["taskStatus"], body["data"]["taskStatus"]) == (LIFE.succeeded, LIFE.succeeded)
    outer = sub["taskResult"]
    result = outer["result"]
    assert result["success"] is True
    assert result["data"]["structData"]["code"] == 200
    images = pro_images(sub)
    assert len(images) == 2
    assert [i["clothes"] for i in images] == [[asset("top.png"), asset("bottom.png")]] * 2
    for text in (outer["usageMap"], result["data"]["usageMap"], result["data"]["structData"]["usageMap"]):
        assert json.loads(text) == {"usage": 2}
    assert isinstance(outer["usage"], int)


@pytest.mark.parametrize(
    ("key", "encode", "single"),
    [
        ("requestParams", True, True),
        ("requestParams", True, False),
        ("paramJson", True, True),
        ("paramJson", True, False),
        ("requestParams", False, True),
        ("requestParams", False, False),
    ],
    ids=[
        "python-object-string",
        "java-array-string",
        "paramJson-object",
        "paramJson-array",
        "raw-object",
        "raw-array",
    ],
)
def test_pro_takes_every_encoding_of_its_request(aidge: Aidge, key: str, encode: bool, single: bool) -> None:
    one = item(generateCount=1)
    task_id = aidge.task_id(one if single else [one], PRO, key=key, encode=encode)
    aidge.finish(PRO_OP)
    [sub] = sub_tasks(aidge.results(task_id))
    assert [i["clothes"] for i in pro_images(sub)] == [[asset("top.png")]]


def test_the_standard_api_takes_raw_json_and_param_json_too(aidge: Aidge) -> None:
    for key, encode in (("paramJson", True), ("requestParams", False)):
        task_id = aidge.task_id([item(generateCount=1)], key=key, encode=encode)
        aidge.finish()
        [sub] = sub_tasks(aidge.results(task_id))
        assert len(standard_images(sub)) == 1


@pytest.mark.parametrize(
    ("garments", "field"),
    [
        ([("top.png", "tops"), ("top.png", "tops")], "clothesList[1].type"),
        ([("top.png", "tops"), ("bottom.png", "bottoms"), ("dress.png", "dresses")], "clothesList"),
        ([("bottom.png", "bottoms"), ("top.png", "tops")], "clothesList[0].type"),
    ],
    ids=["two-tops", "three-garments", "bottoms-first"],
)
def test_pro_refuses_anything_but_one_garment_or_a_suit(
    aidge: Aidge, garments: list[tuple[str, str]], field: str
) -> None:
    doc = {"clothesList": [{"imageUrl": asset(g), "type": t} for g, t in garments]}
    refused(aidge.submit([doc], PRO), CONTRACT.trigger("body.invalid"), field)


def test_pro_accepts_a_suit_of_a_top_and_a_bottom(aidge: Aidge) -> None:
    task_id = aidge.task_id([suit(generateCount=1)], PRO)
    aidge.finish(PRO_OP)
    [sub] = sub_tasks(aidge.results(task_id))
    assert [i["clothes"] for i in pro_images(sub)] == [[asset("top.png"), asset("bottom.png")]]


# -- the pro API's test-phase rate limit ---------------------------------------------------------


def test_the_fourth_pro_submit_within_a_minute_is_rate_limited(aidge: Aidge) -> None:
    limit, per = (float(x) for x in PRO_OP.answer["test_rate_limit"].split("/"))
    for _ in range(int(limit)):
        aidge.task_id([item(generateCount=1)], PRO)
    refused(aidge.submit([item(generateCount=1)], PRO), CONTRACT.trigger("rate.limited"))
    aidge.advance(per - 1)
    refused(aidge.submit([item(generateCount=1)], PRO), CONTRACT.trigger("rate.limited"))
    for _ in range(5):  # the standard API has no such limit
        aidge.task_id([item(generateCount=1)])
    aidge.advance(1)
    aidge.task_id([item(generateCount=1)], PRO)


def test_the_rate_limit_is_per_caller(aidge: Aidge) -> None:
    other = {"app_key": "523456", "app_secret": "another-secret-0123456789"}
    made = aidge.client.post("/_mock/credentials", json={VENDOR: [other]})
    assert made.status_code == 201, made.text
    for _ in range(3):
        aidge.task_id([item(generateCount=1)], PRO)
    refused(aidge.submit([item(generateCount=1)], PRO), CONTRACT.trigger("rate.limited"))
    Aidge(aidge.client, other["app_key"], other["app_secret"]).task_id([item(generateCount=1)], PRO)


def test_without_the_test_mode_pro_has_no_rate_limit() -> None:
    assert "off" in CONTRACT.options["pro_test_mode"].choices
    with caller(pro_test_mode="off") as aidge:
        for _ in range(6):
            aidge.task_id([item(generateCount=1)], PRO)


def test_a_reset_forgets_the_rate_limit_history(aidge: Aidge) -> None:
    for _ in range(3):
        aidge.task_id([item(generateCount=1)], PRO)
    refused(aidge.submit([item(generateCount=1)], PRO), CONTRACT.trigger("rate.limited"))
    aidge.client.post("/_mock/reset", json={"tenant": APP_KEY}).raise_for_status()
    assert aidge.balance(PRO) == CONTRACT.quota["trial"], "the reset forgot the quota counters"
    response = aidge.submit([item(generateCount=1)], PRO)
    assert response.json()["resCode"] == 200, f"BUG: a reset tenant is still rate limited: {response.text}"


def test_the_pro_one_fails_scenario_fails_the_first_sub_task_only(aidge: Aidge) -> None:
    applied = aidge.client.post("/_mock/scenarios/pro-one-fails", json={"tenant": APP_KEY})
    assert applied.status_code == 200, applied.text
    task_id = aidge.task_id([item(generateCount=1), suit(generateCount=2)], PRO)
    aidge.finish(PRO_OP)
    body = aidge.results(task_id)
    subs = sub_tasks(body)
    assert [s["taskStatus"] for s in subs] == [LIFE.failed, LIFE.succeeded]
    assert body["data"]["taskStatus"] == LIFE.succeeded
    assert "taskResult" not in subs[0]
    assert [i["clothes"] for i in pro_images(subs[1])] == [[asset("top.png"), asset("bottom.png")]] * 2
    # Standard tasks are not touched by it.
    standard = aidge.task_id([item(generateCount=1), item(generateCount=1)])
    aidge.finish()
    assert [s["taskStatus"] for s in sub_tasks(aidge.results(standard))] == [LIFE.succeeded] * 2
