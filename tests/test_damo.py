"""DAMO virtual try-on behind the Alibaba Cloud API Gateway, through HTTP: batches, input rules,
validation, query, the gateway's own answers, the journal and expiry."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import httpx2
import pytest
from PIL import Image
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server import Settings, create_app
from tests.helpers import KEY as DASHSCOPE_KEY
from tests.helpers import asset, conforms

DAMO = contracts.load("damo")
DS = contracts.load("dashscope")
LIFE = DAMO.lifecycle
OP = DAMO.operations["tryon"]
DEFAULTS = next(c for c in DAMO.default_credentials if "appcode" in c)
APPCODE = DEFAULTS["appcode"]
TENANT = DEFAULTS["tenant"]
SUBMIT = DAMO.endpoint("submit").paths[0]
QUERY = DAMO.endpoint("query").paths[0]
UPPER_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
HEX32 = re.compile(r"[0-9a-f]{32}")
WAITING, RUNNING = (p.status for p in LIFE.phases)


def sub_task(model: str = "person.png", **images: str) -> dict[str, str]:
    """One sub-task on sample images: a model photo and (unless given otherwise) the sample top."""
    item = {"model_image": asset(model)}
    item.update(images or {"tops_image": asset("top.png")})
    return item


class DamoCaller:
    """Calls the DAMO routes of an in-process app as the Marketplace sample code does (APPCODE).
    Extra headers come as a mapping: their names (X-Ca-Stage, ...) are no Python keywords."""

    def __init__(self, client: TestClient, appcode: str = APPCODE) -> None:
        self.client = client
        self.appcode = appcode

    def tasks_kept(self) -> int:
        """How many tasks the mock keeps (its health answer)."""
        count: int = self.client.get("/_mock/health").json()["tasks"]
        return count

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"APPCODE {self.appcode}", "Content-Type": "application/json", **extra}

    def post(
        self,
        path: str,
        doc: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        sent = self.headers(**(headers or {}))
        if content is None:
            return self.client.post(path, json=doc, headers=sent)
        return self.client.post(path, content=content, headers=sent)

    def submit(
        self,
        task_list: list[dict[str, Any]] | None = None,
        fit_type: str = "HALF_BODY",
        inference_num: float | None = None,  # a JSON number: a float such as 2.0 is sent as it is
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        data: dict[str, Any] = {"fit_type": fit_type, "task_list": task_list or [sub_task()]}
        if inference_num is not None:
            data["inference_num"] = inference_num
        return self.post(SUBMIT, {"data": data}, headers=headers)

    def result_key(
        self,
        task_list: list[dict[str, Any]] | None = None,
        fit_type: str = "HALF_BODY",
        inference_num: float | None = None,
    ) -> str:
        response = self.submit(task_list, fit_type, inference_num)
        assert response.status_code == 200, response.text
        return str(conforms("submit", response, vendor="damo")["data"]["result_key"])

    def query(self, result_key: str, headers: Mapping[str, str] | None = None) -> httpx2.Response:
        return self.post(QUERY, {"data": {"result_key": result_key}}, headers=headers)

    def batch(self, result_key: str) -> list[dict[str, Any]]:
        response = self.query(result_key)
        assert response.status_code == 200, response.text
        body = conforms("query", response, vendor="damo")
        assert body["data"]["result_key"] == result_key
        return list(body["data"]["task_list"])

    def statuses(self, result_key: str) -> list[str]:
        return [item["status"] for item in self.batch(result_key)]

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock", json={"advance": seconds}).raise_for_status()


@pytest.fixture
def damo(client: TestClient) -> DamoCaller:
    return DamoCaller(client)


# -- answer shapes ------------------------------------------------------------------------------


def request_id(response: httpx2.Response) -> str:
    """The gateway's X-Ca-Request-Id, checked to be an uppercase UUID."""
    rid = response.headers.get("x-ca-request-id", "")
    assert UPPER_UUID.fullmatch(rid), f"X-Ca-Request-Id {rid!r} is not an uppercase UUID"
    return rid


def assert_ids_match(response: httpx2.Response, body: dict[str, Any]) -> None:
    assert body["requestId"] == request_id(response).lower().replace("-", "")


def ok(response: httpx2.Response, endpoint_id: str = "submit") -> dict[str, Any]:
    """A success answer: 200, the contract's schema, the vendor's content type, matching ids."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = conforms(endpoint_id, response, vendor="damo")
    assert response.headers["content-type"] == DAMO.endpoint(endpoint_id).content_type
    assert_ids_match(response, body)
    return body


def assert_backend_error(response: httpx2.Response, error: ErrorCode, endpoint_id: str = "submit") -> None:
    assert error.envelope is None, f"{error.id} is a gateway row"
    assert response.status_code == error.http_status, response.text
    body = conforms(endpoint_id, response, vendor="damo")
    assert body == {
        "code": str(error.code),
        "message": error.message,
        "requestId": body["requestId"],
        "success": False,
    }
    assert HEX32.fullmatch(body["requestId"])
    assert_ids_match(response, body)
    assert "x-ca-error-message" not in response.headers
    assert "x-ca-error-code" not in response.headers


def assert_gateway_error(response: httpx2.Response, error: ErrorCode, with_code: bool = False) -> None:
    assert error.envelope == "gateway", f"{error.id} is a backend row"
    assert response.status_code == error.http_status, response.text
    assert response.content == b"", "the gateway answers its own errors with an empty body"
    assert response.headers["x-ca-error-message"] == error.message
    request_id(response)
    if with_code:
        assert response.headers["x-ca-error-code"] == str(error.code)
    else:
        assert "x-ca-error-code" not in response.headers


# -- submit and query ---------------------------------------------------------------------------


def test_batch_submit_and_independent_progress(damo: DamoCaller) -> None:
    first = sub_task(tops_image=asset("top.png"))
    second = sub_task(ops_image=asset("dress.png"), pants_image=asset("bottom.png"))
    response = damo.submit([first, second], fit_type="HALF_BODY", inference_num=3)
    body = ok(response, "submit")
    assert body["code"] == 0 and body["success"] is True
    key = body["data"]["result_key"]
    assert HEX32.fullmatch(key), key
    assert body["data"]["task_list"] == [
        {"model_image": first["model_image"], "tops_image": first["tops_image"], "status": WAITING},
        {
            "model_image": second["model_image"],
            "tops_image": second["ops_image"],
            "pants_image": second["pants_image"],
            "status": WAITING,
        },
    ]

    queried = ok(damo.query(key), "query")
    assert queried["data"]["result_key"] == key
    assert [i["status"] for i in queried["data"]["task_list"]] == [WAITING, WAITING]

    queue, run, stagger = OP.queue_seconds, OP.run_seconds, OP.stagger_seconds
    assert 0 < stagger < run, "the contract's timings make the overlap below possible"
    damo.advance(queue + stagger / 2)  # the first runs, the second still waits its turn
    assert damo.statuses(key) == [RUNNING, WAITING]
    damo.advance(run - stagger / 2)  # t = queue + run: the first is done, the second runs
    items = damo.batch(key)
    assert [i["status"] for i in items] == [LIFE.succeeded, RUNNING]
    assert len(items[0]["results"]) == 3 and "results" not in items[1]
    damo.advance(stagger)  # t = queue + stagger + run: both done
    items = damo.batch(key)
    assert [i["status"] for i in items] == [LIFE.succeeded, LIFE.succeeded]
    assert items[1]["tops_image"] == second["ops_image"] and items[1]["pants_image"] == second["pants_image"]
    seen: set[bytes] = set()
    for item in items:
        assert len(item["results"]) == 3
        pictures = []
        for url in item["results"]:
            got = damo.client.get(url)
            assert got.status_code == 200 and got.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(got.content)).format == "PNG"
            pictures.append(got.content)
        assert len(set(pictures)) == 3, "the results of one sub-task differ from each other"
        seen.update(pictures)
    assert len(seen) == 6


def test_each_sub_task_walks_the_documented_statuses(damo: DamoCaller) -> None:
    key = damo.result_key(task_list=[sub_task(), sub_task()])
    end = OP.queue_seconds + OP.stagger_seconds + OP.run_seconds
    seen: list[list[str]] = []
    for _ in range(int(end) + 2):
        seen.append(damo.statuses(key))
        damo.advance(1)
    for column in range(2):
        walk = [row[column] for row in seen]
        order = [s for i, s in enumerate(walk) if i == 0 or walk[i - 1] != s]
        assert order == [WAITING, RUNNING, LIFE.succeeded], column
    started = [next(i for i, row in enumerate(seen) if row[c] == RUNNING) for c in range(2)]
    assert started[1] - started[0] == OP.stagger_seconds


def test_inference_num_defaults_to_one_result(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(3600)
    (item,) = damo.batch(key)
    assert item["status"] == LIFE.succeeded and len(item["results"]) == OP.results


def test_inference_num_written_as_a_float_gives_that_many_results(damo: DamoCaller) -> None:
    """JSON Schema counts 2.0 as an integer, so the mock must too (Schemathesis found a 500 here)."""
    key = damo.result_key(inference_num=2.0)
    damo.advance(3600)
    (item,) = damo.batch(key)
    assert item["status"] == LIFE.succeeded and len(item["results"]) == 2


def test_success_code_is_the_number_zero_by_default(damo: DamoCaller) -> None:
    submitted = ok(damo.submit())
    queried = ok(damo.query(submitted["data"]["result_key"]), "query")
    for body in (submitted, queried):
        assert type(body["code"]) is int and body["code"] == 0


def test_success_code_can_be_the_string_zero() -> None:
    app = create_app(Settings(speed=0, options={"damo": {"success_code": "string"}}))
    damo = DamoCaller(TestClient(app))
    submitted = ok(damo.submit())
    queried = ok(damo.query(submitted["data"]["result_key"]), "query")
    assert submitted["code"] == "0" and queried["code"] == "0"


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


# -- query --------------------------------------------------------------------------------------


def test_unknown_result_key(damo: DamoCaller) -> None:
    expected = DAMO.trigger("task.unknown")
    assert_backend_error(damo.query("0" * 32), expected, "query")


@pytest.mark.parametrize(
    "doc", [{"data": {}}, {"data": {"result_key": ""}}, {}], ids=["no-key", "empty", "no-data"]
)
def test_query_without_result_key(damo: DamoCaller, doc: dict[str, Any]) -> None:
    assert_backend_error(damo.post(QUERY, doc), DAMO.error("23500009"), "query")


def test_another_tenant_cannot_read_the_batch(damo: DamoCaller) -> None:
    made = damo.client.post("/_mock/credentials", json={"damo": [{"appcode": "other-code"}]})
    assert made.status_code == 201
    other = DamoCaller(damo.client, "other-code")
    key = damo.result_key()
    assert_backend_error(other.query(key), DAMO.trigger("task.unknown"), "query")
    assert damo.statuses(key) == [WAITING], "the owner still reads it"
    own = other.result_key()
    assert_backend_error(damo.query(own), DAMO.trigger("task.unknown"), "query")


# -- the gateway --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
def test_wrong_appcode_is_the_gateways_invalid_appcode(client: TestClient, path: str) -> None:
    expected = DAMO.trigger("auth.invalid")
    assert "`" in expected.message
    response = DamoCaller(client, "not-a-registered-code").post(path, {"data": {"result_key": "x"}})
    assert_gateway_error(response, expected)


@pytest.mark.parametrize("path", [SUBMIT, QUERY])
def test_no_credential_is_the_backend_authorization_error(client: TestClient, path: str) -> None:
    response = client.post(path, json={"data": {"result_key": "x"}})
    endpoint_id = "submit" if path == SUBMIT else "query"
    assert_backend_error(response, DAMO.trigger("auth.missing"), endpoint_id)


def test_unknown_path_and_wrong_method_are_invalid_url(damo: DamoCaller) -> None:
    expected = DAMO.trigger("route.unknown")
    assert_gateway_error(damo.post("/api/v1/tryon/nowhere", {"data": {}}), expected)
    assert_gateway_error(damo.client.get(SUBMIT, headers=damo.headers()), expected)
    assert_gateway_error(damo.client.get(QUERY, headers=damo.headers()), expected)


def test_shared_base_path_unknown_path_with_a_dashscope_key(client: TestClient) -> None:
    expected = DS.trigger("route.unknown")
    response = client.post(
        "/api/v1/tryon/nowhere", json={"data": {}}, headers={"Authorization": f"Bearer {DASHSCOPE_KEY}"}
    )
    assert response.status_code == expected.http_status
    assert response.json()["code"] == expected.code
    assert "x-ca-error-message" not in response.headers


def test_stage_header(damo: DamoCaller) -> None:
    assert_gateway_error(damo.submit(headers={"X-Ca-Stage": "NOPE"}), DAMO.trigger("route.unknown"))
    for stage in ("TEST", "PRE", "RELEASE"):
        ok(damo.submit(headers={"X-Ca-Stage": stage}))


def test_gateway_error_code_is_an_option() -> None:
    app = create_app(Settings(speed=0, options={"damo": {"gateway_error_code": "on"}}))
    client = TestClient(app)
    damo = DamoCaller(client)
    assert_gateway_error(DamoCaller(client, "nope").submit(), DAMO.trigger("auth.invalid"), with_code=True)
    assert_gateway_error(
        damo.post("/api/v1/tryon/nowhere", {"data": {}}), DAMO.trigger("route.unknown"), with_code=True
    )
    # backend errors never carry it: its absence is how clients tell the two apart
    assert_backend_error(damo.query("0" * 32), DAMO.trigger("task.unknown"), "query")


def test_every_answer_carries_a_fresh_request_id(damo: DamoCaller) -> None:
    answers = [
        damo.submit(),
        damo.query("0" * 32),
        DamoCaller(damo.client, "nope").submit(),
        damo.client.post(SUBMIT, json={}),
    ]
    ids = [request_id(r) for r in answers]
    assert len(set(ids)) == len(ids)


# -- journal and expiry -------------------------------------------------------------------------


def test_journal_shows_the_submit_under_the_default_tenant(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.query(key)
    entries = damo.client.get("/_mock/journal", params={"tenant": TENANT}).json()["entries"]
    submits = [e for e in entries if e["endpoint"] == "submit"]
    assert len(submits) == 1
    (entry,) = submits
    assert (entry["vendor"], entry["task_id"], entry["status"], entry["tenant"]) == ("damo", key, 200, TENANT)
    queries = [e for e in entries if e["endpoint"] == "query"]
    assert [e["task_id"] for e in queries] == [key]


def test_result_link_expires_after_the_result_ttl(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(OP.queue_seconds + OP.run_seconds)
    (item,) = damo.batch(key)
    url = item["results"][0]
    assert damo.client.get(url).status_code == 200
    damo.advance(DAMO.result_ttl_seconds + 1)
    expired = damo.client.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "Request has expired." in expired.text


def test_batch_is_forgotten_after_retention(damo: DamoCaller) -> None:
    key = damo.result_key()
    damo.advance(OP.queue_seconds + OP.run_seconds)
    assert damo.statuses(key) == [LIFE.succeeded]
    damo.advance(DAMO.retention_seconds - 1)
    assert damo.statuses(key) == [LIFE.succeeded], "still kept within the retention"
    damo.advance(2)
    assert_backend_error(damo.query(key), DAMO.trigger("task.unknown"), "query")


def test_a_batch_is_kept_or_forgotten_whole(damo: DamoCaller) -> None:
    """The sub-tasks of a batch end stagger_seconds apart; when the first one's retention has run
    out but the second's has not, a query must not answer a batch that lost a sub-task."""
    key = damo.result_key(task_list=[sub_task(), sub_task()])
    damo.advance(OP.queue_seconds + OP.stagger_seconds + OP.run_seconds)
    assert damo.statuses(key) == [LIFE.succeeded, LIFE.succeeded]
    damo.advance(DAMO.retention_seconds - OP.stagger_seconds / 2)  # between the two expiries
    response = damo.query(key)
    if response.status_code == 200:
        items = conforms("query", response, vendor="damo")["data"]["task_list"]
        assert len(items) == 2, f"the batch answers {len(items)} of its 2 sub-tasks"
    else:
        assert_backend_error(response, DAMO.trigger("task.unknown"), "query")
