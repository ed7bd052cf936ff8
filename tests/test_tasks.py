"""Task timelines: by time or by polls, cancel, retention and bounds."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from mock_server import Settings, create_app
from mock_server.results import result_key
from mock_server.store.tasks import MemoryTasks
from mock_server.tasks import CANCELED, FAILED, QUEUED, RUNNING, SUCCEEDED, Plan, Task, TaskView
from mock_server.timing import Timing
from tests.helpers import DashScopeCaller

DS = contracts.load("dashscope")
LIFE = DS.lifecycle
OP = DS.operations["aitryon"]
ORDER = [p.status for p in LIFE.phases] + [LIFE.succeeded, LIFE.failed]


def make(
    timing: Timing | None = None, error: ErrorCode | None = None, created: float = 0.0, tid: str = "t"
) -> Task:
    return Task(
        id=tid,
        tenant="k",
        vendor="dashscope",
        operation="aitryon",
        created=created,
        plan=Plan.make(LIFE, OP, timing or Timing(), error),
        lifecycle=LIFE,
    )


def view(task: Task, now: float) -> TaskView:
    """The task as submitted, read at ``now``."""
    return task.view(task.start(), now)


@given(st.lists(st.floats(min_value=0, max_value=200), min_size=2, max_size=30))
def test_status_only_moves_forward_in_time(times: list[float]) -> None:
    task = make()
    seen = [ORDER.index(view(task, t).status) for t in sorted(times)]
    assert seen == sorted(seen)


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0.1, max_value=10))
def test_failing_task_ends_at_its_fraction_of_the_run(fail_at: float, scale: float) -> None:
    timing = Timing(fail_at=fail_at, run_scale=scale)
    task = make(timing, error=DS.error("InternalError.Algo"))
    queue, run = timing.durations(OP.queue_seconds, OP.run_seconds)
    end = view(task, 10_000).ended
    assert end is not None and abs(end - (queue + run * fail_at)) < 1e-6
    assert view(task, 10_000).stage == FAILED


def test_poll_progression_finishes_on_the_nth_poll() -> None:
    task, store = make(Timing(progress="polls:4")), MemoryTasks()

    async def reads() -> list[TaskView]:
        await store.add(task)
        return [await store.look(task, 0)] + [await store.poll(task, float(i)) for i in range(1, 6)]

    seen = asyncio.run(reads())
    assert [v.status for v in seen] == [p.status for p in LIFE.phases] + [LIFE.succeeded] * 2
    assert [v.stage for v in seen] == [QUEUED, RUNNING, RUNNING, RUNNING, SUCCEEDED, SUCCEEDED]
    assert (seen[-1].scheduled, seen[-1].ended) == (1.0, 4.0), "times are those of the polls"


def test_cancel_only_while_queued() -> None:
    task, late, store = make(), make(tid="late"), MemoryTasks()

    async def cancels() -> None:
        await store.add(task)
        await store.add(late)
        assert await store.cancel(task, 0.5) and (await store.look(task, 1000)).stage == CANCELED
        assert not await store.cancel(late, OP.queue_seconds + 1)

    asyncio.run(cancels())


def test_store_is_per_tenant_and_bounded() -> None:
    store = MemoryTasks(per_tenant=3)

    async def fill() -> None:
        for i in range(5):
            await store.add(make(tid=f"t{i}"))
        assert [t.id for t in await store.of("k", "dashscope", 0, 10)] == ["t2", "t3", "t4"]
        assert await store.find("t0") is None and await store.count() == 3
        assert await store.get("other", "dashscope", "t4", 0, 10) is None

    asyncio.run(fill())


def test_store_forgets_tasks_after_retention() -> None:
    store = MemoryTasks()

    async def keep() -> None:
        await store.add(make())
        end = OP.queue_seconds + OP.run_seconds
        assert await store.get("k", "dashscope", "t", end + 5, retention=10) is not None
        assert await store.get("k", "dashscope", "t", end + 11, retention=10) is None
        assert await store.count() == 0

    asyncio.run(keep())


def test_an_evicted_tasks_result_images_go_with_it() -> None:
    """Result images are as bounded as tasks: when a tenant's oldest task is evicted, its result
    link answers OSS's NoSuchKey and the image drawn for it leaves the cache; the kept tasks'
    images are still drawn."""
    app = create_app(Settings(tasks_per_tenant=3, speed=0))
    with TestClient(app) as client:
        ds = DashScopeCaller(client)
        first = ds.task_id()
        ds.advance(3600)
        link = ds.output(first)["image_url"]
        assert client.get(link).status_code == 200
        for _ in range(3):
            ds.task_id()
        assert first not in {t["id"] for t in client.get("/_mock/tasks").json()["tasks"]}
        gone = client.get(link)
        assert gone.status_code == 404 and "<Code>NoSuchKey</Code>" in gone.text
        assert app.state.mock.results.cached(result_key(first, 0)) is None
        kept = ds.task_id()
        ds.advance(3600)
        assert client.get(ds.output(kept)["image_url"]).status_code == 200
