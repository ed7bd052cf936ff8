"""Aidge through HTTP, in-process (manual clock): standard and pro submits signed as the official
v2 HTTP samples sign them, the results layouts of the vendor's samples, the lifecycle, the pro
API's test-phase rate limit, the trial and purchased quotas, request and image validation, the
value types option and the pro-one-fails scenario.

Every expected code and message is read from the contract; every answer is checked against the
contract's response schema (errors too: Aidge answers them with HTTP 200).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from tests.helpers import asset, conforms, v2_signed

VENDOR = "aidge"
CONTRACT = contracts.load(VENDOR)
CRED = CONTRACT.default_credentials[0]
APP_KEY, SECRET = CRED["app_key"], CRED["app_secret"]
LIFE = CONTRACT.lifecycle
SUBMITTED, RUNNING = LIFE.phases[0].status, LIFE.phases[-1].status
OPS = {op.endpoint: op for op in CONTRACT.operations.values()}
STD_OP, PRO_OP = OPS["tryon"], OPS["tryon-pro"]


def api_name(endpoint_id: str) -> str:
    """``/ai/virtual/tryon`` from the endpoint's ``/rest/ai/virtual/tryon``."""
    return CONTRACT.endpoint(endpoint_id).paths[0].removeprefix(CONTRACT.base_path)


STANDARD, PRO = api_name("tryon"), api_name("tryon-pro")
RESULTS, BALANCE = api_name("tryon-results"), api_name("balance")
ERROR_SCHEMA = "error.response.schema.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The vendor's sample answers (vendor-docs/000), URLs shortened: the layouts to reproduce.
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


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys kept, leaves replaced by their type name, lists by
    the shape of their first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# -- the caller ----------------------------------------------------------------------------------


class Aidge:
    """Calls the Aidge routes of an in-process app as the official v2 HTTP samples do: the six
    public parameters in the query string, a JSON body, and the ``x-iop-trial`` header."""

    def __init__(self, client: TestClient, app_key: str = APP_KEY, secret: str = SECRET) -> None:
        self.client = client
        self.app_key = app_key
        self.secret = secret

    def signed(self) -> dict[str, str]:
        return v2_signed(self.app_key, self.secret)

    def post(self, api: str, body: Any = None, trial: bool = True) -> httpx2.Response:
        return self.client.post(
            CONTRACT.base_path + api,
            params=self.signed(),
            json={} if body is None else body,
            headers={"x-iop-trial": "true" if trial else "false"},
        )

    def get(self, api: str, params: dict[str, str], trial: bool = True) -> httpx2.Response:
        return self.client.get(
            CONTRACT.base_path + api,
            params={**self.signed(), **params},
            headers={"x-iop-trial": "true" if trial else "false"},
        )

    def submit(
        self,
        items: Any,
        api: str = STANDARD,
        key: str = "requestParams",
        encode: bool = True,
        trial: bool = True,
    ) -> httpx2.Response:
        """``items`` JSON-encoded into a string (as all samples do), or sent as raw JSON."""
        return self.post(api, {key: json.dumps(items) if encode else items}, trial)

    def task_id(self, items: Any, api: str = STANDARD, **kwargs: Any) -> str:
        body = accepted(self.submit(items, api, **kwargs))
        return str(body["data"]["result"]["taskId"])

    def results(self, task_id: str) -> dict[str, Any]:
        body = accepted(self.post(RESULTS, {"task_id": task_id}), "tryon-results")
        assert body["data"]["taskId"] == task_id
        return body

    def balance(self, api: str = STANDARD, trial: bool = True) -> int:
        response = self.post(BALANCE, {"apiPath": api}, trial)
        body = conforms("balance", response, VENDOR)
        return int(body["data"]["balance"])

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()

    def finish(self, op: Any = STD_OP) -> None:
        self.advance(op.queue_seconds + op.run_seconds)


def accepted(response: httpx2.Response, endpoint_id: str = "tryon") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = conforms(endpoint_id, response, VENDOR)
    assert body["resCode"] in (200, "200"), body
    return body


def refused(response: httpx2.Response, error: ErrorCode, field: str | None = None) -> dict[str, Any]:
    """The answer is ``error`` in its own envelope; business errors name ``field`` when given."""
    assert response.status_code == error.http_status, response.text
    body: dict[str, Any] = conforms("tryon", response, VENDOR, schema=ERROR_SCHEMA)
    if error.envelope == "gateway":
        assert set(body) == {"type", "code", "message", "request_id"}, body
        assert (body["type"], body["code"], body["message"]) == ("ISV", error.code, error.message)
        return body
    assert (body["code"], body["data"]) == ("0", None), body
    assert body["resCode"] in (error.code, str(error.code)), body
    assert body["success"] in (False, "false"), body
    expected = f"{error.message}: {field}" if field else error.message
    assert body["resMessage"] == expected, body
    return body


def item(garment: str = "top.png", kind: str = "tops", **extra: Any) -> dict[str, Any]:
    return {"clothesList": [{"imageUrl": asset(garment), "type": kind}], **extra}


def suit(top: str = "top.png", bottom: str = "bottom.png", **extra: Any) -> dict[str, Any]:
    garments = [{"imageUrl": asset(top), "type": "tops"}, {"imageUrl": asset(bottom), "type": "bottoms"}]
    return {"clothesList": garments, **extra}


def sub_tasks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["data"]["taskResult"])


def standard_images(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list(sub["taskResult"]["result"]["imageList"])


def pro_images(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list(sub["taskResult"]["result"]["data"]["structData"]["imageList"])


@contextmanager
def caller(**options: str) -> Iterator[Aidge]:
    """A fresh in-process app (manual clock) with these Aidge options."""
    app = create_app(Settings(speed=0, seed=7, options={VENDOR: options}))
    with TestClient(app) as client:
        yield Aidge(client)


@pytest.fixture
def aidge(client: TestClient) -> Aidge:
    return Aidge(client)


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


# -- quotas --------------------------------------------------------------------------------------


def test_each_submit_uses_its_image_count_from_the_pool_of_its_call(aidge: Aidge) -> None:
    trial, purchased = CONTRACT.quota["trial"], CONTRACT.quota["purchased"]
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial, purchased)
    aidge.task_id([item(generateCount=3)])
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial - 3, purchased)
    aidge.task_id([item(generateCount=5, modelImage=[asset("person.png")] * 2)])
    assert aidge.balance() == trial - 5
    aidge.task_id([item()], trial=False)
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial - 5, purchased - STD_OP.results)
    aidge.task_id([item(generateCount=1), item(generateCount=2)], trial=False)
    assert aidge.balance(trial=False) == purchased - STD_OP.results - 3
    # Each API path has its own counters.
    aidge.task_id(item(generateCount=2), PRO)
    assert (aidge.balance(PRO), aidge.balance()) == (trial - 2, trial - 5)


def test_an_exhausted_pool_answers_no_resource_while_the_other_works(aidge: Aidge) -> None:
    low = {"vendor": VENDOR, "tenant": APP_KEY, "api": STANDARD, "pool": "trial", "left": 1}
    aidge.client.post("/_mock/quota", json=low).raise_for_status()
    assert aidge.balance() == 1
    refused(aidge.submit([item(generateCount=2)]), CONTRACT.trigger("quota.exhausted"))
    refused(aidge.submit([item(generateCount=1), item(generateCount=1)]), CONTRACT.trigger("quota.exhausted"))
    assert aidge.balance() == 1, "a refused submit uses nothing"
    aidge.task_id([item(generateCount=2)], trial=False)
    assert aidge.balance(trial=False) == CONTRACT.quota["purchased"] - 2
    aidge.task_id([item(generateCount=1)])
    assert aidge.balance() == 0
    refused(aidge.submit([item(generateCount=1)]), CONTRACT.trigger("quota.exhausted"))


def test_a_refused_request_uses_no_quota(aidge: Aidge) -> None:
    trial = CONTRACT.quota["trial"]
    refused(aidge.submit([item(generateCount=0)]), CONTRACT.trigger("body.invalid"), "generateCount")
    assert aidge.balance() == trial
    # A submit refused for its images generated nothing either, so it should use nothing.
    refused(aidge.submit([item("too-small.png", generateCount=2)]), CONTRACT.trigger("image.small"))
    refused(
        aidge.submit([item("person.png", generateCount=2, inputQualityDetect=1)]),
        CONTRACT.trigger("image.not_flat_lay"),
    )
    assert aidge.balance() == trial, "BUG: submits refused for their images used quota units"


def test_the_balance_needs_an_api_path(aidge: Aidge) -> None:
    refused(aidge.post(BALANCE, {}), CONTRACT.trigger("body.invalid"), "apiPath")


# -- validation ----------------------------------------------------------------------------------

INVALID: Situation = "body.invalid"
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
    ("model-nobody", {"requestParams": json.dumps([item(model={"name": "Nobody"})])}, "model.name"),
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


@pytest.mark.parametrize("name", ["Ariel", "James"])
def test_the_library_models_are_accepted(aidge: Aidge, name: str) -> None:
    model = {"base": "General", "name": name, "gender": "female", "style": "universal_1", "body": "slim"}
    aidge.task_id([item(generateCount=1, model=model, viewType="mixed", inputQualityDetect=0)])


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


# -- scenario, routes, unknown tasks -------------------------------------------------------------


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


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_an_unknown_api_path_answers_invalid_api_path(aidge: Aidge, method: str) -> None:
    error = CONTRACT.trigger("route.unknown")
    if method == "POST":
        response = aidge.post("/ai/virtual/tryon-nonexistent", {"task_id": "x"})
    else:
        response = aidge.get("/ai/unknown/path", {})
    refused(response, error)


def test_an_unknown_task_answers_700_naming_task_id(aidge: Aidge) -> None:
    error = CONTRACT.trigger("task.unknown")
    refused(aidge.post(RESULTS, {"task_id": str(uuid.uuid4())}), error, "task_id")
    refused(aidge.get(RESULTS, {"taskId": "not-a-task"}), error, "task_id")
    refused(aidge.post(RESULTS, {}), CONTRACT.trigger(INVALID), "task_id")


def test_a_reset_forgets_the_rate_limit_history(aidge: Aidge) -> None:
    for _ in range(3):
        aidge.task_id([item(generateCount=1)], PRO)
    refused(aidge.submit([item(generateCount=1)], PRO), CONTRACT.trigger("rate.limited"))
    aidge.client.post("/_mock/reset", json={"tenant": APP_KEY}).raise_for_status()
    assert aidge.balance(PRO) == CONTRACT.quota["trial"], "the reset forgot the quota counters"
    response = aidge.submit([item(generateCount=1)], PRO)
    assert response.json()["resCode"] == 200, f"BUG: a reset tenant is still rate limited: {response.text}"


def test_tasks_are_the_callers_own_and_forgotten_after_retention(aidge: Aidge) -> None:
    other = {"app_key": "534567", "app_secret": "yet-another-secret-0123456"}
    aidge.client.post("/_mock/credentials", json={VENDOR: [other]}).raise_for_status()
    task_id = aidge.task_id([item(generateCount=1)])
    aidge.finish()
    stranger = Aidge(aidge.client, other["app_key"], other["app_secret"])
    refused(stranger.post(RESULTS, {"task_id": task_id}), CONTRACT.trigger("task.unknown"), "task_id")
    [sub] = sub_tasks(aidge.results(task_id))
    link = standard_images(sub)[0]["imageUrl"]
    aidge.advance(CONTRACT.retention_seconds - 1)
    assert aidge.results(task_id)["data"]["taskStatus"] == LIFE.succeeded
    assert aidge.client.get(link).status_code == 200
    aidge.advance(
        max(CONTRACT.result_ttl_seconds, CONTRACT.retention_seconds) - CONTRACT.retention_seconds + 2
    )
    refused(aidge.post(RESULTS, {"task_id": task_id}), CONTRACT.trigger("task.unknown"), "task_id")
    expired = aidge.client.get(link)
    assert expired.status_code == 403 and b"AccessDenied" in expired.content
