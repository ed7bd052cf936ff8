"""What DAMO refuses at submit, through HTTP, in-process: input images it cannot take (size,
format, bytes, people, masks, URLs it cannot fetch), in any sub-task, leaving no batch behind;
and requests that break the documented fields or are no JSON object."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.vocabulary import Situation
from tests.damo_rig import DAMO, QUERY, SUBMIT, WAITING, DamoCaller, assert_backend_error, ok, sub_task
from tests.helpers import asset

# -- input images -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "situation"),
    [
        (sub_task("too-small.png"), "image.small"),
        (sub_task("wrong-format.gif"), "image.format"),
        (sub_task("too-heavy.png"), "image.bytes"),
        (sub_task("two-persons.png"), "image.multi_person"),
        (sub_task("no-person.png"), "image.no_person"),
        (sub_task(tops_image=asset("wrong-format.gif")), "image.format"),
        (
            sub_task("person-small.png", tops_image=asset("top.png"), mask_image=asset("mask.png")),
            "image.size_mismatch",
        ),
        (sub_task(tops_image=asset("top.png"), mask_image=asset("mask-soft.png")), "image.not_binary"),
        ({"model_image": asset("person.png") + "?name=模特", "tops_image": asset("top.png")}, "image.url"),
        (sub_task(tops_image="http://127.0.0.1:9/x.png"), "image.unreachable"),
        ({"model_image": "http://127.0.0.1:9/x.png", "tops_image": asset("top.png")}, "image.unreachable"),
    ],
    ids=[
        "too-small",
        "gif",
        "too-heavy",
        "two-persons",
        "no-person",
        "gif-top",
        "mask-size",
        "mask-soft",
        "chinese-url",
        "unreachable-top",
        "unreachable-model",
    ],
)
def test_bad_images_are_refused_at_submit(
    damo: DamoCaller, item: dict[str, str], situation: Situation
) -> None:
    expected = DAMO.trigger(situation)
    assert_backend_error(damo.submit([item]), expected)
    assert damo.tasks_kept() == 0, "a refused submission leaves no batch behind"


def test_a_binary_mask_of_the_model_size_is_accepted(damo: DamoCaller) -> None:
    item = sub_task(tops_image=asset("top.png"), mask_image=asset("mask.png"))
    body = ok(damo.submit([item]))
    assert body["data"]["task_list"][0]["status"] == WAITING
    assert "mask_image" not in body["data"]["task_list"][0], "the mask is not echoed"


def test_a_bad_image_in_the_second_sub_task_fails_the_whole_submission(damo: DamoCaller) -> None:
    response = damo.submit([sub_task(), sub_task("two-persons.png")])
    assert_backend_error(response, DAMO.trigger("image.multi_person"))
    assert damo.tasks_kept() == 0


# -- request validation -------------------------------------------------------------------------


_MISSING = object()


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"fit_type": "HALF_BODY", "inference_num": 1, "task_list": [sub_task()]}
    data.update(changes)
    return {"data": {k: v for k, v in data.items() if v is not _MISSING}}


@pytest.mark.parametrize(
    ("doc", "error_id"),
    [
        ({}, "23500009"),
        ({"data": None}, "23500013"),
        (_data(fit_type=_MISSING), "23500009"),
        (_data(task_list=_MISSING), "23500009"),
        (_data(task_list=[{"tops_image": asset("top.png")}]), "23500009"),
        (_data(task_list=[{"model_image": asset("person.png")}]), "23500009"),
        (
            _data(task_list=[{"model_image": asset("person.png"), "pants_image": asset("bottom.png")}]),
            "23500009",
        ),
        (_data(task_list=[{"model_image": "", "tops_image": asset("top.png")}]), "23500009"),
        (_data(fit_type="WHOLE"), "23500013"),
        (_data(inference_num=0), "23500013"),
        (_data(inference_num=5), "23500013"),
        (_data(inference_num="2"), "23500013"),
        (_data(task_list=[sub_task()] * 11), "23500013"),
        (_data(task_list=[]), "23500013"),
        (_data(task_list="x"), "23500013"),
        (_data(task_list=sub_task()), "23500013"),
    ],
    ids=[
        "no-data",
        "null-data",
        "no-fit_type",
        "no-task_list",
        "no-model_image",
        "no-top",
        "pants-but-no-top",
        "empty-model_image",
        "fit_type-WHOLE",
        "inference_num-0",
        "inference_num-5",
        "inference_num-string",
        "eleven-sub-tasks",
        "no-sub-tasks",
        "task_list-string",
        "task_list-object",
    ],
)
def test_submit_validation(damo: DamoCaller, doc: dict[str, Any], error_id: str) -> None:
    assert_backend_error(damo.post(SUBMIT, doc), DAMO.error(error_id))
    assert damo.tasks_kept() == 0


def test_ten_sub_tasks_are_accepted(damo: DamoCaller) -> None:
    body = ok(damo.post(SUBMIT, _data(task_list=[sub_task()] * 10, fit_type="FULL_BODY", inference_num=4)))
    assert len(body["data"]["task_list"]) == 10


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
@pytest.mark.parametrize(
    ("content", "situation"),
    [(b"", "body.empty"), (b"  \n", "body.empty"), (b"{not json", "body.invalid"), (b"[]", "body.invalid")],
    ids=["empty", "blank", "malformed", "array"],
)
def test_bodies_that_are_not_a_json_object(
    damo: DamoCaller, path: str, content: bytes, situation: Situation
) -> None:
    endpoint_id = "submit" if path == SUBMIT else "query"
    assert_backend_error(damo.post(path, content=content), DAMO.trigger(situation), endpoint_id)
