"""Aidge's standard API through HTTP, in-process (manual clock): a submit answers a task id, the
results have the layout of the vendor's sample, statuses follow the clock, the number of images
follows the model images or generateCount, several request objects are one sub-task each, and
results download as PNGs and read under both spellings; and the value_types option: real types
by default, the standard sample's strings on request."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from tests.aidge_rig import (
    CONTRACT,
    INVALID,
    LIFE,
    PRO,
    PRO_OP,
    RESULTS,
    RUNNING,
    STANDARD,
    STD_OP,
    SUBMITTED,
    Aidge,
    accepted,
    caller,
    item,
    refused,
    standard_images,
    sub_tasks,
)
from tests.helpers import asset, shape

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The standard API's sample answer (vendor-docs/000), URLs shortened: the layout to reproduce.
STANDARD_SAMPLE: dict[str, Any] = {
    "code": "0",
    "data": {
        "taskResult": [
            {
                "taskResult": {
                    "result": {
                        "imageList": [
                            {
                                "imageUrl": "http://nhci-aigc.oss-cn-zhangjiakou.aliyuncs.com/a.png",
                                "clothes": "https://ai-business-algo-pai.oss-ap-southeast-1.aliyuncs.com/b.jpg",
                            }
                        ]
                    }
                },
                "taskStatus": "finished",
            }
        ],
        "taskStatus": "finished",
        "taskId": "b5947f18-f642-4980-9379-749c053335be",
    },
    "requestId": "212cd83017085872506144758e3fca",
    "success": "true",
    "resCode": "200",
    "resMessage": "success",
    "request_id": "0ba2887315178178017221014",
}


# -- standard submit and results -----------------------------------------------------------------


def test_a_standard_submit_answers_a_uuid_task_id(aidge: Aidge) -> None:
    body = accepted(aidge.submit([item(generateCount=1)]))
    task_id = body["data"]["result"]["taskId"]
    assert str(uuid.UUID(task_id)) == task_id
    assert (body["code"], body["resMessage"]) == ("0", "success")
    assert body["requestId"] == body["_trace_id_"]


def test_standard_results_have_the_layout_of_the_vendor_sample(aidge: Aidge) -> None:
    task_id = aidge.task_id([item(generateCount=2)])
    aidge.finish()
    body = aidge.results(task_id)
    assert shape(body["data"]) == shape(STANDARD_SAMPLE["data"])
    assert {k: len(body[k]) for k in ("requestId", "request_id")} == {
        k: len(STANDARD_SAMPLE[k]) for k in ("requestId", "request_id")
    }
    data = body["data"]
    assert (data["taskId"], data["taskStatus"]) == (task_id, LIFE.succeeded)
    [sub] = sub_tasks(body)
    assert sub["taskStatus"] == LIFE.succeeded
    images = standard_images(sub)
    assert len(images) == 2
    assert [i["clothes"] for i in images] == [asset("top.png")] * 2
    assert len({i["imageUrl"] for i in images}) == 2


@pytest.mark.parametrize(("api", "op"), [(STANDARD, STD_OP), (PRO, PRO_OP)], ids=["standard", "pro"])
def test_statuses_follow_the_clock(aidge: Aidge, api: str, op: Any) -> None:
    task_id = aidge.task_id([item(generateCount=1)], api)
    seen = []
    for step in (0, op.queue_seconds, op.run_seconds - 1, 1):
        aidge.advance(step)
        data = aidge.results(task_id)["data"]
        [sub] = data["taskResult"]
        assert sub["taskStatus"] == data["taskStatus"]
        seen.append(data["taskStatus"])
        if data["taskStatus"] != LIFE.succeeded:
            assert set(sub) == {"taskStatus"}, "no results before the sub-task finishes"
    assert seen == [SUBMITTED, RUNNING, RUNNING, LIFE.succeeded]


@pytest.mark.parametrize(
    ("extra", "count"),
    [
        ({"modelImage": [asset("person.png"), asset("person-small.png")]}, 2),
        ({"modelImage": [asset("person.png")] * 2, "generateCount": 5}, 2),
        ({"generateCount": 3}, 3),
        ({}, STD_OP.results),
        ({"modelImage": [], "generateCount": 1}, 1),
    ],
    ids=["two-model-images", "model-images-over-count", "count-3", "default", "empty-model-images"],
)
def test_the_number_of_images_follows_model_images_else_generate_count(
    aidge: Aidge, extra: dict[str, Any], count: int
) -> None:
    task_id = aidge.task_id([item(**extra)])
    aidge.finish()
    [sub] = sub_tasks(aidge.results(task_id))
    assert len(standard_images(sub)) == count


def test_several_request_objects_are_one_sub_task_each(aidge: Aidge) -> None:
    items = [
        item(generateCount=1),
        item("dress.png", "dresses", generateCount=2),
        item(generateCount=3, modelImage=[asset("person.png")] * 3),
    ]
    task_id = aidge.task_id(items)
    body = aidge.results(task_id)
    assert [s["taskStatus"] for s in sub_tasks(body)] == [SUBMITTED] * 3
    aidge.finish()
    body = aidge.results(task_id)
    subs = sub_tasks(body)
    assert [s["taskStatus"] for s in subs] == [LIFE.succeeded] * 3
    assert [len(standard_images(s)) for s in subs] == [1, 2, 3]
    assert [standard_images(s)[0]["clothes"] for s in subs] == [
        asset("top.png"),
        asset("dress.png"),
        asset("top.png"),
    ]
    urls = [i["imageUrl"] for s in subs for i in standard_images(s)]
    assert len(set(urls)) == 6


def test_result_images_download_as_pngs(aidge: Aidge) -> None:
    task_id = aidge.task_id([item(generateCount=2)])
    aidge.finish()
    [sub] = sub_tasks(aidge.results(task_id))
    for image in standard_images(sub):
        response = aidge.client.get(image["imageUrl"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(response.content)) as picture:
            assert picture.format == "PNG"
            assert picture.width > 0 and picture.height > 0


def test_results_read_both_spellings_and_get(aidge: Aidge) -> None:
    task_id = aidge.task_id([item(generateCount=1)])
    aidge.finish()
    for response in (
        aidge.post(RESULTS, {"taskId": task_id}),
        aidge.get(RESULTS, {"task_id": task_id}),
        aidge.get(RESULTS, {"taskId": task_id}),
    ):
        body = accepted(response, "tryon-results")
        assert (body["data"]["taskId"], body["data"]["taskStatus"]) == (task_id, LIFE.succeeded)


# -- value types ---------------------------------------------------------------------------------


def test_success_and_res_code_are_real_types_by_default(aidge: Aidge) -> None:
    assert CONTRACT.options["value_types"].default == "real"
    body = accepted(aidge.submit([item(generateCount=1)]))
    assert body["success"] is True and body["resCode"] == 200 and type(body["resCode"]) is int
    results = aidge.results(body["data"]["result"]["taskId"])
    assert results["success"] is True and type(results["resCode"]) is int
    error = refused(aidge.submit([item(generateCount=0)]), CONTRACT.trigger(INVALID), "generateCount")
    assert error["success"] is False and error["resCode"] == 700 and type(error["resCode"]) is int


def test_value_types_string_answers_the_standard_samples_strings() -> None:
    assert "string" in CONTRACT.options["value_types"].choices
    with caller(value_types="string") as aidge:
        body = accepted(aidge.submit([item(generateCount=1)]))
        assert (body["success"], body["resCode"]) == ("true", "200")
        task_id = body["data"]["result"]["taskId"]
        aidge.finish()
        results = aidge.results(task_id)
        assert (results["success"], results["resCode"]) == ("true", "200")
        assert shape({k: v for k, v in results.items() if k != "_trace_id_"}) == shape(STANDARD_SAMPLE)
        error = refused(aidge.submit([item(generateCount=0)]), CONTRACT.trigger(INVALID), "generateCount")
        assert (error["success"], error["resCode"]) == ("false", "700")
        missing = refused(
            aidge.post(RESULTS, {"task_id": "nope"}), CONTRACT.trigger("task.unknown"), "task_id"
        )
        assert (missing["success"], missing["resCode"]) == ("false", "700")
        rated = [aidge.submit([item(generateCount=1)], PRO) for _ in range(4)][-1]
        assert refused(rated, CONTRACT.trigger("rate.limited"))["resCode"] == "501"
