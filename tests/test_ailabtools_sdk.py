"""The official ``ailabtools-sdk`` (0.5.4, import name ``ailabtools``) against the real mock server.

Each test gets a fresh tenant on a real uvicorn (fixture ``tryon_mock``) and points
``AILabClient`` at it with ``base_url``; progress is counted in polls so nothing waits on a clock.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from ailabtools import AILabClient
from ailabtools.errors import AILabApiError
from PIL import Image

import contracts
from contracts.model import ErrorCode
from contracts.vocabulary import Situation
from mock_server.assets import asset_bytes
from mock_server.testing import Tenant
from tests.helpers import png_of

VENDOR = "ailabtools"
CONTRACT = contracts.load(VENDOR)
HEADER = "ailabapi-api-key"
QUERY_ID = "query-async-task-result"
TASK_ID = re.compile(r"^[0-9]{13}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
OPS = {op.endpoint: op for op in CONTRACT.operations.values()}
LIFE = CONTRACT.lifecycle

pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def sdk(tenant: Tenant, api_key: str | None = None) -> AsyncIterator[AILabClient]:
    key = api_key if api_key is not None else tenant.credentials[VENDOR]["api_key"]
    client = AILabClient(api_key=key, base_url=tenant.base_url(VENDOR), timeout=30)
    try:
        yield client
    finally:
        await client.aclose()


def polls(tenant: Tenant, count: int = 2) -> None:
    tenant.timing(VENDOR, progress=f"polls:{count}")


def refiner_params(person: str = "person.png") -> dict[str, Any]:
    return {
        "taskType": "async",
        "personImage": asset_bytes(person),
        "topGarment": asset_bytes("top.png"),
        "coarseImage": asset_bytes("coarse.png"),
        "gender": "woman",
    }


def conforms(endpoint_id: str, status: int, body: Any) -> None:
    schema = CONTRACT.endpoint(endpoint_id).response_schema(status)
    assert schema is not None
    problems = [e.message for e in CONTRACT.validator(schema).iter_errors(body)]
    assert not problems, f"{endpoint_id} {status} breaks {schema}: {problems}"


def assert_public_ok(body: dict[str, Any]) -> None:
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert (body["error_code"], body["error_code_str"], body["error_msg"]) == (0, "", "")
    assert body["error_detail"] == {"status_code": 200, "code": "", "code_message": "", "message": ""}


def submitted(endpoint: str, answer: dict[str, Any]) -> str:
    conforms(endpoint, 200, answer)
    assert_public_ok(answer)
    assert answer["task_type"] == "async"
    task_id = answer["task_id"]
    assert TASK_ID.match(task_id), task_id
    return str(task_id)


def assert_api_error(exc: AILabApiError, error: ErrorCode) -> None:
    """The SDK's view of an AILabTools error answer equals the contract's error."""
    detail = exc.detail
    assert detail is not None
    assert (detail.status_code, detail.code, detail.code_message) == (
        error.http_status,
        error.code,
        error.message,
    )
    assert detail.message is not None and detail.message.startswith(error.message)
    assert str(exc) == detail.message
    assert exc.request_id and exc.log_id
    raw = exc.raw
    assert isinstance(raw, dict)
    assert (raw["error_code"], raw["error_code_str"], raw["error_msg"]) == (
        error.http_status,
        error.code,
        detail.message,
    )


def png(http: Any, url: str) -> Image.Image:
    return png_of(http.get(url))


def size_of(name: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(asset_bytes(name))).size


# -- the happy paths --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_refiner_through_the_sdk(tryon_mock: Tenant, http: httpx.Client) -> None:
    polls(tryon_mock)
    async with sdk(tryon_mock) as client:
        answer = await client.portrait.portraitTryOnClothesRefiner(refiner_params())
        task_id = submitted("try-on-clothes-refiner", answer)
        result = await client.wait_for_task(task_id, interval=0.05, timeout=20)
    conforms(QUERY_ID, 200, result)
    assert_public_ok(result)
    assert result["task_status"] == 2
    assert result["output"]["task_status"] == LIFE.succeeded
    assert result["usage"] == {"image_count": 1}
    assert "data" not in result
    image = png(http, result["output"]["image_url"])
    assert image.size == size_of("coarse.png")


@pytest.mark.anyio
async def test_the_sdk_sees_running_then_succeeded(tryon_mock: Tenant) -> None:
    """Queried by hand: the first poll is in progress, the second (polls:2) finished."""
    polls(tryon_mock)
    async with sdk(tryon_mock) as client:
        task_id = submitted(
            "try-on-clothes-refiner",
            await client.portrait.portraitTryOnClothesRefiner(refiner_params()),
        )
        first = await client.common.commonQueryAsyncTaskResult({"taskId": task_id})
        second = await client.common.commonQueryAsyncTaskResult({"taskId": task_id})
    for body in (first, second):
        conforms(QUERY_ID, 200, body)
        assert_public_ok(body)
    assert first["task_status"] in (0, 1) and first["usage"] == {"image_count": 0}
    assert first["output"]["image_url"] == ""
    assert first["output"]["task_status"] in {p.status for p in LIFE.phases}
    assert (second["task_status"], second["output"]["task_status"]) == (2, LIFE.succeeded)


@pytest.mark.anyio
async def test_try_on_clothes_through_the_sdk(tryon_mock: Tenant, http: httpx.Client) -> None:
    polls(tryon_mock)
    async with sdk(tryon_mock) as client:
        answer = await client.portrait.portraitTryOnClothes(
            {
                "taskType": "async",
                "personImage": asset_bytes("person.png"),
                "clothesImage": asset_bytes("top.png"),
                "clothesType": "upper_body",
            }
        )
        task_id = submitted("try-on-clothes", answer)
        result = await client.wait_for_task(task_id, interval=0.05, timeout=20)
    conforms(QUERY_ID, 200, result)
    assert_public_ok(result)
    assert result["task_status"] == 2
    assert "output" not in result and "usage" not in result
    png(http, result["data"]["image"])


@pytest.mark.parametrize("resolution", [1024, 1280])
@pytest.mark.parametrize("method", ["portraitTryOnClothesPro", "portraitTryOnClothesPremium"])
@pytest.mark.anyio
async def test_pro_and_premium_resolution(
    tryon_mock: Tenant, http: httpx.Client, method: str, resolution: int
) -> None:
    endpoint = {
        "portraitTryOnClothesPro": "try-on-clothes-pro",
        "portraitTryOnClothesPremium": "try-on-clothes-premium",
    }[method]
    expected = OPS[endpoint].result_sizes[str(resolution)]
    assert expected is not None
    polls(tryon_mock)
    async with sdk(tryon_mock) as client:
        answer = await getattr(client.portrait, method)(
            {
                "taskType": "async",
                "personImage": asset_bytes("person.png"),
                "topGarment": asset_bytes("top.png"),
                "bottomGarment": asset_bytes("bottom.png"),
                "resolution": resolution,
                "restoreFace": True,  # sent as "True"
            }
        )
        task_id = submitted(endpoint, answer)
        result = await client.wait_for_task(task_id, interval=0.05, timeout=20)
    conforms(QUERY_ID, 200, result)
    assert result["output"]["task_status"] == LIFE.succeeded
    assert result["usage"]["image_count"] == 1
    assert png(http, result["output"]["image_url"]).size == tuple(expected)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unknown_api_key(tryon_mock: Tenant) -> None:
    error = CONTRACT.trigger("auth.invalid")
    async with sdk(tryon_mock, api_key="sk-not-registered") as client:
        with pytest.raises(AILabApiError) as submit_error:
            await client.portrait.portraitTryOnClothesRefiner(refiner_params())
        with pytest.raises(AILabApiError) as query_error:
            await client.common.commonQueryAsyncTaskResult({"taskId": "1700000000000.x"})
    assert_api_error(submit_error.value, error)
    assert_api_error(query_error.value, error)


@pytest.mark.anyio
async def test_an_unknown_task_id(tryon_mock: Tenant) -> None:
    async with sdk(tryon_mock) as client:
        with pytest.raises(AILabApiError) as raised:
            await client.wait_for_task(
                "1700000000000.00000000-0000-0000-0000-000000000000", interval=0.05, timeout=5
            )
    assert_api_error(raised.value, CONTRACT.trigger("task.unknown"))


@pytest.mark.anyio
async def test_a_refused_image_raises_at_submit(tryon_mock: Tenant) -> None:
    params = {**refiner_params(), "personImage": asset_bytes("wrong-format.gif")}
    async with sdk(tryon_mock) as client:
        with pytest.raises(AILabApiError) as raised:
            await client.portrait.portraitTryOnClothesRefiner(params)
    assert_api_error(raised.value, CONTRACT.trigger("image.format"))


@pytest.mark.parametrize(
    ("person", "situation"),
    [("two-persons.png", "image.multi_person"), ("no-person.png", "image.no_person")],
)
@pytest.mark.anyio
async def test_a_failed_task_raises_from_wait_for_task(
    tryon_mock: Tenant, person: str, situation: Situation
) -> None:
    error = CONTRACT.trigger(situation)
    polls(tryon_mock)
    async with sdk(tryon_mock) as client:
        task_id = submitted(
            "try-on-clothes-refiner",
            await client.portrait.portraitTryOnClothesRefiner(refiner_params(person)),
        )
        with pytest.raises(AILabApiError) as raised:
            await client.wait_for_task(task_id, interval=0.05, timeout=20)
    assert_api_error(raised.value, error)
    queries = tryon_mock.journal(VENDOR, QUERY_ID)
    assert [e["status"] for e in queries] == [200, error.http_status]
    assert queries[-1]["error"] == error.id


# -- the journal ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_journal_shows_what_the_sdk_sent(tryon_mock: Tenant) -> None:
    key = tryon_mock.credentials[VENDOR]["api_key"]
    polls(tryon_mock, 3)
    async with sdk(tryon_mock) as client:
        task_id = submitted(
            "try-on-clothes-refiner",
            await client.portrait.portraitTryOnClothesRefiner(refiner_params()),
        )
        await client.wait_for_task(task_id, interval=0.05, timeout=20)
    journal = tryon_mock.journal(VENDOR)
    assert {e["endpoint"] for e in journal} == {"try-on-clothes-refiner", QUERY_ID}
    submits = [e for e in journal if e["endpoint"] == "try-on-clothes-refiner"]
    queries = [e for e in journal if e["endpoint"] == QUERY_ID]
    assert len(submits) == 1 and len(queries) == 3
    submit = submits[0]
    assert submit["method"] == "POST"
    assert submit["path"] == CONTRACT.endpoint("try-on-clothes-refiner").paths[0]
    assert submit["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert submit["body_bytes"] > sum(len(v) for v in refiner_params().values() if isinstance(v, bytes))
    assert submit["task_id"] == task_id
    for entry in queries:
        assert entry["method"] == "GET"
        assert entry["path"] == CONTRACT.endpoint(QUERY_ID).paths[0]
        assert entry["query"] == f"task_id={task_id}"
        assert entry["task_id"] == task_id
    for entry in journal:
        assert entry["status"] == 200
        assert entry["headers"][HEADER] == key
        assert entry["tenant"] == tryon_mock.id(VENDOR)
    assert [e["seq"] for e in journal] == sorted(e["seq"] for e in journal)
