"""DashScope through HTTP: submit, lifecycle, results, cancel, list, parsing, auth."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from tests.helpers import PROCESS, SYNTHESIS, DashScopeCaller, asset, conforms, refiner_on

DS = contracts.load("dashscope")
LIFE = DS.lifecycle


def test_submit_answers_pending_with_a_task_id(ds: DashScopeCaller) -> None:
    response = ds.submit()
    body = conforms("image-synthesis", response)
    assert response.headers["content-type"] == "application/json"
    assert body["output"]["task_status"] == LIFE.phases[0].status
    assert response.headers["x-request-id"] == body["request_id"]


@pytest.mark.parametrize("path", [SYNTHESIS, SYNTHESIS + "/"])
def test_both_spellings_of_the_submit_path(ds: DashScopeCaller, path: str) -> None:
    body = {
        "model": "aitryon",
        "input": {"person_image_url": asset("person.png"), "bottom_garment_url": asset("bottom.png")},
    }
    response = ds.client.post(path, json=body, headers=ds.headers())
    assert response.status_code == 200


def test_task_walks_every_documented_status_in_order(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    op = DS.operations["aitryon"]
    seen = []
    for _ in range(int(op.queue_seconds + op.run_seconds) + 2):
        seen.append(ds.output(task_id)["task_status"])
        ds.advance(1)
    order = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert order == [p.status for p in LIFE.phases] + [LIFE.succeeded]


def test_succeeded_task_has_times_usage_and_a_real_result(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.advance(3600)
    response = ds.query(task_id)
    body = conforms("task-query", response)
    out = body["output"]
    assert out["task_status"] == LIFE.succeeded
    assert out["submit_time"] < out["scheduled_time"] < out["end_time"]
    assert body["usage"] == {"image_count": 1}
    image = ds.client.get(out["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


@pytest.mark.parametrize(
    ("resolution", "size"), [(-1, (768, 1024)), (1024, (576, 1024)), (1280, (720, 1280))]
)
def test_resolution_sets_the_result_size(ds: DashScopeCaller, resolution: int, size: tuple[int, int]) -> None:
    task_id = ds.task_id(parameters={"resolution": resolution, "restore_face": True})
    ds.advance(3600)
    image = ds.client.get(ds.output(task_id)["image_url"])
    assert Image.open(io.BytesIO(image.content)).size == size


def test_refiner_takes_the_first_stage_result(ds: DashScopeCaller) -> None:
    first = ds.task_id()
    ds.advance(3600)
    coarse = ds.output(first)["image_url"]
    refined = ds.task_id(
        model="aitryon-refiner",
        inputs=refiner_on(coarse),
        parameters={"gender": "woman"},
    )
    ds.advance(3600)
    out = ds.output(refined)
    assert out["task_status"] == LIFE.succeeded and "image_url" in out and "results" not in out


def test_refiner_legacy_result_shape_is_a_setting() -> None:
    app = create_app(Settings(speed=0, options={"dashscope": {"refiner_result": "results"}}))
    ds = DashScopeCaller(TestClient(app))
    refined = ds.task_id(
        model="aitryon-refiner",
        inputs=refiner_on(asset("coarse.png")),
        parameters={"gender": "man"},
    )
    first = ds.task_id()
    ds.advance(3600)
    assert set(ds.output(refined)["results"]) == {"image_url"}
    assert "image_url" in ds.output(first), "only the refiner changes shape"


def test_unknown_option_value_is_refused() -> None:
    with pytest.raises(ValueError, match="refiner_result"):
        create_app(Settings(options={"dashscope": {"refiner_result": "nope"}}))


def test_size_mismatch_of_person_and_coarse_fails_the_task(ds: DashScopeCaller) -> None:
    task_id = ds.task_id(
        model="aitryon-refiner",
        inputs=refiner_on(asset("coarse-mismatch.png")),
        parameters={"gender": "woman"},
    )
    ds.advance(3600)
    out = ds.output(task_id)
    expected = DS.trigger("image.size_mismatch")
    assert (out["task_status"], out["code"], out["message"]) == (LIFE.failed, expected.code, expected.message)


@pytest.mark.parametrize(
    ("name", "situation"),
    [
        ("two-persons.png", "image.multi_person"),
        ("no-person.png", "image.no_person"),
        ("too-small.png", "image.small"),
        ("too-large.png", "image.side"),
        ("too-heavy.png", "image.bytes"),
        ("too-light.png", "image.light"),
        ("wrong-format.gif", "image.format"),
        ("undecodable.png", "image.undecodable"),
    ],
)
def test_bad_person_images_fail_the_task_with_the_documented_code(
    ds: DashScopeCaller, name: str, situation: Situation
) -> None:
    task_id = ds.task_id(inputs={"person_image_url": asset(name), "top_garment_url": asset("top.png")})
    ds.advance(3600)
    out = ds.output(task_id)
    expected = DS.trigger(situation)
    assert out["task_status"] == LIFE.failed
    assert (out["code"], out["message"]) == (expected.code, expected.message)
    assert "image_url" not in out


def test_unreachable_image_fails_with_invalid_url(ds: DashScopeCaller) -> None:
    task_id = ds.task_id(
        inputs={"person_image_url": "http://127.0.0.1:9/none.png", "top_garment_url": asset("top.png")}
    )
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.unreachable").code


def test_remote_urls_are_synthesized_offline_by_default(ds: DashScopeCaller) -> None:
    task_id = ds.task_id(
        inputs={
            "person_image_url": "https://example.com/p.jpg",
            "top_garment_url": "https://example.com/t.jpg",
        }
    )
    ds.advance(3600)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded


def test_remote_urls_can_be_rejected() -> None:
    ds = DashScopeCaller(TestClient(create_app(Settings(speed=0, remote_images="reject"))))
    task_id = ds.task_id(
        inputs={"person_image_url": "https://example.com/p.jpg", "top_garment_url": asset("top.png")}
    )
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.unreachable").code


def test_uploaded_image_is_usable_as_input(ds: DashScopeCaller) -> None:
    person = ds.client.get("/_mock/assets/person.jpg").content
    up = ds.client.post("/_mock/uploads", content=person)
    assert up.status_code == 201 and up.json()["format"] == "JPEG"
    assert ds.client.get(up.json()["url"]).content == person
    task_id = ds.task_id(inputs={"person_image_url": up.json()["url"], "top_garment_url": asset("top.png")})
    ds.advance(3600)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded


def test_result_link_expires_like_an_object_store_link(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.advance(60)
    url = ds.output(task_id)["image_url"]
    assert ds.client.get(url).status_code == 200
    ds.advance(DS.result_ttl_seconds + 1)
    expired = ds.client.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "Request has expired." in expired.text
    tampered = ds.client.get(url.replace("Expires=", "Expires=9"))
    assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text


def test_task_is_forgotten_after_retention(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.advance(60)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded
    ds.advance(DS.retention_seconds + 1)
    assert ds.output(task_id) == {"task_id": task_id, "task_status": LIFE.unknown}


def test_unknown_task_reads_as_unknown_with_200(ds: DashScopeCaller) -> None:
    response = ds.query("1111")
    assert response.status_code == 200
    assert conforms("task-query", response)["output"] == {"task_id": "1111", "task_status": LIFE.unknown}


def test_cancel_pending_then_not_again(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ok = ds.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=ds.headers())
    assert ok.status_code == 200 and set(conforms("task-cancel", ok)) == {"request_id"}
    assert ds.output(task_id)["task_status"] == LIFE.canceled
    again = ds.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=ds.headers())
    err = DS.trigger("task.not_cancelable")
    assert (again.status_code, conforms("task-cancel", again)["code"]) == (err.http_status, err.code)


def test_running_task_cannot_be_canceled(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.advance(DS.operations["aitryon"].queue_seconds + 1)
    response = ds.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=ds.headers())
    assert response.json()["message"] == DS.trigger("task.not_cancelable").message
    ds.advance(3600)
    assert ds.output(task_id)["task_status"] == LIFE.succeeded


def test_list_pages_and_filters_the_callers_tasks(ds: DashScopeCaller) -> None:
    ids = [ds.task_id() for _ in range(3)]
    refiner = ds.task_id(
        model="aitryon-refiner",
        inputs=refiner_on(asset("coarse.png")),
        parameters={"gender": "woman"},
    )
    page = conforms(
        "task-list", ds.client.get("/api/v1/tasks", params={"page_size": 2}, headers=ds.headers())
    )
    assert (page["total"], page["total_page"], len(page["data"])) == (4, 2, 2)
    assert page["data"][0]["task_id"] == refiner, "newest first"
    only = conforms(
        "task-list", ds.client.get("/api/v1/tasks/", params={"model_name": "aitryon"}, headers=ds.headers())
    )
    assert sorted(row["task_id"] for row in only["data"]) == sorted(ids)
    assert all("end_time" not in row for row in only["data"])
    bad = ds.client.get("/api/v1/tasks", params={"page_no": "x"}, headers=ds.headers())
    assert bad.status_code == DS.trigger("list.invalid").http_status


def test_parsing_is_synchronous_and_returns_images(ds: DashScopeCaller) -> None:
    body = {
        "model": "aitryon-parsing-v1",
        "input": {"image_url": asset("top.png")},
        "parameters": {"clothes_type": ["upper", "lower"]},
    }
    response = ds.client.post(PROCESS, json=body, headers={"Authorization": f"Bearer {ds.key}"})
    out = conforms("image-process", response)["output"]
    assert out["parsing_img_url"][1] is None and out["bbox"][1] is None, "top.png shows no trousers"
    parsing = Image.open(io.BytesIO(ds.client.get(out["parsing_img_url"][0]).content))
    crop = Image.open(io.BytesIO(ds.client.get(out["crop_img_url"][0]).content))
    x1, y1, x2, y2 = out["bbox"][0]
    assert parsing.mode == "RGBA" and parsing.size == (600, 800)
    assert crop.mode == "RGB" and crop.size == (x2 - x1, y2 - y1)


def test_parsing_refuses_the_async_header_and_try_on_models(ds: DashScopeCaller) -> None:
    body = {
        "model": "aitryon-parsing-v1",
        "input": {"image_url": asset("top.png")},
        "parameters": {"clothes_type": ["upper"]},
    }
    refused = ds.client.post(PROCESS, json=body, headers=ds.headers())
    assert refused.json()["message"] == DS.trigger("header.forbidden").message
    wrong = ds.client.post(
        PROCESS, json={**body, "model": "aitryon"}, headers={"Authorization": f"Bearer {ds.key}"}
    )
    assert wrong.json()["message"] == DS.trigger("operation.wrong_endpoint").message
    for types in (["hat"], ["upper", "dress"], [], "upper"):
        bad_type = ds.client.post(
            PROCESS,
            json={**body, "parameters": {"clothes_type": types}},
            headers={"Authorization": f"Bearer {ds.key}"},
        )
        assert bad_type.json()["code"] == "InvalidParameter.ClothesType", types


@pytest.mark.parametrize(
    ("headers", "situation"),
    [
        ({}, "auth.missing"),
        ({"Authorization": "Bearer"}, "auth.missing"),
        ({"Authorization": "Basic abc"}, "auth.missing"),
        ({"Authorization": "Bearer sk-not-registered"}, "auth.invalid"),
    ],
)
def test_auth_errors_on_every_endpoint(
    client: TestClient, headers: dict[str, str], situation: Situation
) -> None:
    expected = DS.trigger(situation)
    for method, path in [
        ("POST", SYNTHESIS),
        ("POST", PROCESS),
        ("GET", "/api/v1/tasks/x"),
        ("POST", "/api/v1/tasks/x/cancel"),
        ("GET", "/api/v1/tasks"),
    ]:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == expected.http_status, path
        assert response.json()["message"] == expected.message
        assert response.headers["content-type"].startswith("application/json")


def test_a_repeated_header_counts_by_its_first_value(ds: DashScopeCaller) -> None:
    """Sent twice, a header is read as its first value (as Starlette's ``Headers`` reads it):
    a good key then a bad one is a submit; a bad one then the good one is the vendor's error."""
    good, bad = f"Bearer {ds.key}", "Bearer sk-not-registered"
    body = {
        "model": "aitryon",
        "input": {"person_image_url": asset("person.png"), "top_garment_url": asset("top.png")},
    }
    for first, second, status in [(good, bad, 200), (bad, good, DS.trigger("auth.invalid").http_status)]:
        headers = [("Authorization", first), ("Authorization", second), ("X-DashScope-Async", "enable")]
        assert ds.client.post(SYNTHESIS, json=body, headers=headers).status_code == status


def test_submit_without_async_header_is_denied(ds: DashScopeCaller) -> None:
    response = ds.client.post(
        SYNTHESIS, json={"model": "aitryon"}, headers={"Authorization": f"Bearer {ds.key}"}
    )
    expected = DS.trigger("header.missing")
    assert (response.status_code, response.json()["message"]) == (expected.http_status, expected.message)


def test_unknown_model_and_unknown_path(ds: DashScopeCaller) -> None:
    unknown = ds.submit(model="wanx-v1")
    assert unknown.json()["message"] == DS.trigger("operation.unknown").message
    wrong = ds.submit(model="aitryon-parsing-v1")
    assert wrong.json()["message"] == DS.trigger("operation.wrong_endpoint").message
    nowhere = ds.client.get("/api/v1/nowhere", headers=ds.headers())
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, DS.trigger("route.unknown").code)


@pytest.mark.parametrize(
    ("method", "suffix"), [("DELETE", ""), ("POST", ""), ("GET", "/cancel"), ("GET", "/extra/part")]
)
def test_a_task_path_with_a_method_it_does_not_take_is_an_unknown_route(method: str, suffix: str) -> None:
    """Task paths carry a parameter: a method or path they do not take reaches the vendor's
    unknown-route answer, and reads nothing of the task (its polls still count from zero)."""
    with TestClient(create_app(Settings().with_changes({"progress": "polls:2"}))) as client:
        ds = DashScopeCaller(client)
        task_id = ds.task_id()
        answer = client.request(method, f"/api/v1/tasks/{task_id}{suffix}", headers=ds.headers())
        assert (answer.status_code, answer.json()["code"]) == (404, DS.trigger("route.unknown").code)
        assert ds.output(task_id)["task_status"] != "SUCCEEDED"  # the first real poll of two
        assert ds.output(task_id)["task_status"] == "SUCCEEDED"


def test_registered_credentials_are_tenants(client: TestClient) -> None:
    made = client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-a"}, {"api_key": "sk-b"}]})
    assert made.status_code == 201
    a, b = DashScopeCaller(client, "sk-a"), DashScopeCaller(client, "sk-b")
    task_id = a.task_id()
    assert a.output(task_id)["task_status"] == LIFE.phases[0].status
    assert b.output(task_id)["task_status"] == LIFE.unknown, "b must not see a's task"
    assert b.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=b.headers()).status_code == 400
    assert a.output(task_id)["task_status"] != LIFE.canceled
    listed = client.get("/api/v1/tasks", headers=b.headers()).json()
    assert listed["total"] == 0


def test_result_link_of_a_forgotten_task_is_no_such_key(ds: DashScopeCaller) -> None:
    task_id = ds.task_id()
    ds.advance(60)
    url = ds.output(task_id)["image_url"]
    ds.client.post("/_mock/reset").raise_for_status()
    gone = ds.client.get(url)
    assert gone.status_code == 404 and "<Code>NoSuchKey</Code>" in gone.text
    assert gone.headers["content-type"] == "application/xml"
