"""Every example request of the vendor pages (/work/shared/vendor-docs/000-004), sent as the page
shows it, through HTTP: each is accepted, or answered as the page (or, where the page is silent,
the contract's note) says. Each test names the page and the section it copies. Image URLs of the
pages are on other hosts: they stand for the mock's sample image of the role that asks.

Where a page gives the request as text (a curl --data, a Request Body example), the bytes are sent
as they are; signed vendors are signed as the other tests sign them (Aidge: the rig's v2 caller or
an IOP form, DAMO: the APPCODE header the page shows)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, create_app
from mock_server.assets import asset_bytes
from tests import ailabtools_rig as lab
from tests.aidge_rig import APP_KEY, SECRET, STD_OP, Aidge, accepted, ref_iop, refused
from tests.damo_rig import APPCODE, DAMO, QUERY, SUBMIT, assert_backend_error, ok
from tests.helpers import DashScopeCaller, conforms, shape

DS = contracts.load("dashscope")
AIDGE = contracts.load("aidge")

# -- Aidge (vendor-docs/000, 001) ------------------------------------------------------------------

# 000, "Sample Request": the Java IopClient's call, its task id as the page has it.
AIDGE_QUERY_API = "/ai/virtual/tryon-results"
AIDGE_QUERY_TASK_ID = "1ce4fd33-b9d5-4e21-a24c-0c4027d2b105"


def iop_java_call(client: TestClient, task_id: str) -> Any:
    """``IopClient.execute`` of the page's request: the system parameters in the URL and the API
    parameter in the form body, signed over both the way the Java IOP SDK signs (pairs with an
    empty name or value left out). The trial header stays out: the page has it commented out."""
    system = {
        "app_key": APP_KEY,
        "timestamp": str(int(time.time() * 1000)),
        "sign_method": "sha256",
        "partner_id": "iop-sdk-java",
    }
    api = {"task_id": task_id}
    sign = ref_iop(SECRET, AIDGE_QUERY_API, {**system, **api}, java=True)
    return client.post(AIDGE.base_path + AIDGE_QUERY_API, params={**system, "sign": sign}, data=api)


def test_aidge_query_sample_request(aidge: Aidge) -> None:
    """vendor-docs/000, "Sample Request". The page's task id is one this mock never issued: the
    call passes the gateway (its signature is good) and gets the business answer for an unknown
    task, naming the field. The same call with an id the mock issued gets the results layout of
    the page's "Sample Response"."""
    unknown = iop_java_call(aidge.client, AIDGE_QUERY_TASK_ID)
    refused(unknown, AIDGE.trigger("task.unknown"), "task_id")

    task_id = aidge.task_id([{"clothesList": [{"imageUrl": "https://img.alicdn.com/t.jpg", "type": "tops"}]}])
    aidge.finish(STD_OP)
    body = accepted(iop_java_call(aidge.client, task_id), "tryon-results")
    assert (body["data"]["taskId"], body["data"]["taskStatus"]) == (task_id, AIDGE.lifecycle.succeeded)


# 001: the page's three ways to call (its code blocks were lost in the copy; the values are the
# parameter table's own: its enums, defaults and examples, "Ariel" and ["URL1", "URL2"] as URLs).
AIDGE_GARMENT = {"imageUrl": "https://img.alicdn.com/imgextra/tops.jpg", "type": "tops"}
AIDGE_SUBMITS = {
    "model-type": {
        "clothesList": [AIDGE_GARMENT],
        "model": {"base": "General", "gender": "female", "style": "universal_1", "body": "slim"},
        "viewType": "mixed",
        "generateCount": 4,
        "inputQualityDetect": 0,
    },
    "model-name": {
        "clothesList": [AIDGE_GARMENT],
        "model": {"base": "General", "name": "Ariel"},
        "viewType": "fullbody",
        "generateCount": 4,
    },
    "own-model-image": {
        "clothesList": [AIDGE_GARMENT],
        "modelImage": [
            "https://img.alicdn.com/imgextra/URL1.jpg",
            "https://img.alicdn.com/imgextra/URL2.jpg",
        ],
        "viewType": "halfbody",
        "inputQualityDetect": 1,
    },
}


@pytest.mark.parametrize("name", list(AIDGE_SUBMITS))
def test_aidge_submit_request(aidge: Aidge, name: str) -> None:
    """vendor-docs/001, "Specify the model type", "Specify the model for virtual try-on",
    "Upload your own model image": requestParams as the Object[] the page describes, sent as the
    official samples send it (a JSON string in a JSON body, signed v2)."""
    body = accepted(aidge.submit([AIDGE_SUBMITS[name]]))
    task_id = body["data"]["result"]["taskId"]
    aidge.finish(STD_OP)
    images = aidge.results(task_id)["data"]["taskResult"][0]["taskResult"]["result"]["imageList"]
    expected = 2 if name == "own-model-image" else 4  # one per model image, else generateCount
    assert len(images) == expected


# -- AILabTools (vendor-docs/002) ------------------------------------------------------------------

# 002, "Business Parameters" of the submit and of the query, "Example": the answers' layouts.
LAB_SUBMIT_EXAMPLE = {
    "request_id": "",
    "log_id": "",
    "error_code": 0,
    "error_code_str": "",
    "error_msg": "",
    "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    "task_type": "",
    "task_id": "",
}


def test_ailabtools_refiner_request(client: TestClient) -> None:
    """vendor-docs/002, "Request" (POST, multipart/form-data, the ailabapi-api-key header) and
    "Body": every field of the table, the file parts the mock's sample images. The answer has the
    layout of the page's submit "Example", key by key and type by type, and the queued task's
    query answer that of the query's "Example"."""
    files = {
        name: (asset, asset_bytes(asset), "image/png")
        for name, asset in (
            ("person_image", "person.png"),
            ("top_garment", "top.png"),
            ("coarse_image", "coarse.png"),
            ("bottom_garment", "bottom.png"),
        )
    }
    response = client.post(
        "/api/portrait/enhance/try-on-clothes-refiner",
        headers={"ailabapi-api-key": lab.KEY},
        data={"task_type": "async", "gender": "woman"},
        files=files,
    )
    body = lab.assert_public_ok(response)
    assert shape(body) == shape(LAB_SUBMIT_EXAMPLE)
    assert body["task_type"] == "async"
    queued = lab.assert_public_ok(lab.query(client, body["task_id"]))
    assert {k: shape(queued[k]) for k in lab.QUERY_EXAMPLE} == shape(lab.QUERY_EXAMPLE)


# -- DAMO (vendor-docs/003) ------------------------------------------------------------------------

# 003, 五、1 "Request Body示例", as the page prints it.
DAMO_SUBMIT_BODY = b"""{
  "data": {
    "fit_type": "FULL_BODY",
    "inference_num": 1,
    "task_list": [
      {
        "model_image": "https://img.alicdn.com/abc.png",
        "tops_image": "https://img.alicdn.com/abc.png",
        "pants_image": "https://img.alicdn.com/abc.png",
        "mask_image": "https://img.alicdn.com/abc.png"
      },
      {
        "model_image": "https://img.alicdn.com/abc.png",
        "tops_image": "https://img.alicdn.com/abc.png",
        "pants_image": "https://img.alicdn.com/abc.png"
      }
    ]
  }
}"""
# 003, 五、2 "Request Body示例", as the page prints it (a comma before the closing brace).
DAMO_QUERY_BODY = b"""{
  "data": {
    "result_key": "fdfd",
  }
}"""


def damo_headers(nonce: str) -> dict[str, str]:
    """003, 五、1 and 2 "入参描述": Content-Type, Authorization (APPCODE), X-Ca-Nonce."""
    return {"Content-Type": "application/json", "Authorization": f"APPCODE {APPCODE}", "X-Ca-Nonce": nonce}


def test_damo_submit_example(client: TestClient) -> None:
    """vendor-docs/003, 五、1 虚拟换装任务提交, "Request Body示例": one URL for every image of
    both sub-tasks. Accepted, WAITING, and then each sub-task ends with inference_num results."""
    body = ok(client.post(SUBMIT, content=DAMO_SUBMIT_BODY, headers=damo_headers("fdfdgfrtes")))
    assert [item["status"] for item in body["data"]["task_list"]] == ["WAITING", "WAITING"]
    client.post("/_mock/clock", json={"advance": 3600}).raise_for_status()
    query = {"data": {"result_key": body["data"]["result_key"]}}
    done = ok(client.post(QUERY, json=query, headers=damo_headers("fdfdgrtes")), "query")
    assert [(i["status"], len(i["results"])) for i in done["data"]["task_list"]] == [
        (DAMO.lifecycle.succeeded, 1)
    ] * 2


def test_damo_query_example(client: TestClient) -> None:
    """vendor-docs/003, 五、2 换装任务结果查询, "Request Body示例". As printed, the body has a
    comma before its closing brace, which JSON does not allow: the backend's answer for a body it
    cannot read (23500013, the contract's note). Without the comma, its result_key "fdfd" is one
    the mock never issued: the table's 23500008."""
    verbatim = client.post(QUERY, content=DAMO_QUERY_BODY, headers=damo_headers("fdfdgrtes"))
    assert_backend_error(verbatim, DAMO.trigger("body.invalid"), "query")
    assert "trailing comma" in DAMO.trigger("body.invalid").note
    fixed = DAMO_QUERY_BODY.replace(b'"fdfd",', b'"fdfd"')
    assert json.loads(fixed) == {"data": {"result_key": "fdfd"}}
    unknown = client.post(QUERY, content=fixed, headers=damo_headers("fdfdgrtes2"))
    assert_backend_error(unknown, DAMO.trigger("task.unknown"), "query")


# -- DashScope (vendor-docs/004) -------------------------------------------------------------------

# 004, 1. "请求示例": the curl's URL, headers and --data, as printed.
DS_SUBMIT_PATH = "/api/v1/services/aigc/image2image/image-synthesis/"
DS_SUBMIT_BODY = b"""{
    "model": "aitryon-refiner",
    "input": {
        "top_garment_url": "https://dashscope-swap.oss-cn-beijing.aliyuncs.com/aa-test/sample-top.jpg",
        "bottom_garment_url": "https://dashscope-swap.oss-cn-beijing.aliyuncs.com/aa-test/sample-bottom.jpg",
        "person_image_url": "https://dashscope-swap.oss-cn-beijing.aliyuncs.com/aa-test/sample-person.png",
        "coarse_image_url": "https://dashscope-swap.oss-cn-beijing.aliyuncs.com/aa-test/result.png"
    },
    "parameters": {
        "gender": "woman"
    }
 }"""


def ds_submit(client: TestClient) -> str:
    """004, 1. 试衣Refiner的pipeline提交任务接口调用, "请求示例" (the curl), sent as it is."""
    response = client.post(
        DS_SUBMIT_PATH,
        content=DS_SUBMIT_BODY,
        headers={
            "X-DashScope-Async": "enable",
            "Authorization": f"Bearer {DashScopeCaller(client).key}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    body = conforms("image-synthesis", response)
    assert body["output"]["task_status"] == "PENDING"
    assert set(body) == {"output", "request_id"} and set(body["output"]) == {"task_id", "task_status"}
    return str(body["output"]["task_id"])


def test_dashscope_refiner_submit_example(client: TestClient) -> None:
    """vendor-docs/004, 1., "请求示例": accepted, and the answer has the keys of "响应示例"."""
    ds_submit(client)


def test_dashscope_query_example() -> None:
    """vendor-docs/004, 2. 异步任务查询接口, "请求示例" (GET with the Authorization header only) on
    the submit example's task. With the page's result layout (refiner_result=results), the
    SUCCEEDED answer carries every field of "响应示例"."""
    app = create_app(Settings(speed=0, seed=7, options={"dashscope": {"refiner_result": "results"}}))
    with TestClient(app) as client:
        task_id = ds_submit(client)
        client.post("/_mock/clock", json={"advance": 3600}).raise_for_status()
        key = DashScopeCaller(client).key
        response = client.get(f"/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"})
        body = conforms("task-query", response)
    output = body["output"]
    assert (output["task_id"], output["task_status"]) == (task_id, DS.lifecycle.succeeded)
    assert isinstance(output["results"]["image_url"], str)
    assert body["usage"] == {"image_count": 1}
    assert isinstance(body["request_id"], str)
