"""Task timelines: by time or by polls, cancel, retention and bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

import contracts
from contracts.model import ErrorCode
from mock_server import Settings, create_app
from mock_server.results import result_key
from mock_server.tasks import CANCELED, FAILED, QUEUED, RUNNING, SUCCEEDED, Plan, Task, TaskStore
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


@given(st.lists(st.floats(min_value=0, max_value=200), min_size=2, max_size=30))
def test_status_only_moves_forward_in_time(times: list[float]) -> None:
    task = make()
    seen = [ORDER.index(task.view(t).status) for t in sorted(times)]
    assert seen == sorted(seen)


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0.1, max_value=10))
def test_failing_task_ends_at_its_fraction_of_the_run(fail_at: float, scale: float) -> None:
    timing = Timing(fail_at=fail_at, run_scale=scale)
    task = make(timing, error=DS.error("InternalError.Algo"))
    queue, run = timing.durations(OP.queue_seconds, OP.run_seconds)
    end = task.view(10_000).ended
    assert end is not None and abs(end - (queue + run * fail_at)) < 1e-6
    assert task.view(10_000).stage == FAILED


def test_poll_progression_finishes_on_the_nth_poll() -> None:
    task = make(Timing(progress="polls:4"))
    seen = [task.view(0)] + [task.poll(float(i)) for i in range(1, 6)]
    assert [v.status for v in seen] == [p.status for p in LIFE.phases] + [LIFE.succeeded] * 2
    assert [v.stage for v in seen] == [QUEUED, RUNNING, RUNNING, RUNNING, SUCCEEDED, SUCCEEDED]
    assert (seen[-1].scheduled, seen[-1].ended) == (1.0, 4.0), "times are those of the polls"


def test_cancel_only_while_queued() -> None:
    task = make()
    assert task.cancel(0.5) and task.view(1000).stage == CANCELED
    late = make()
    assert not late.cancel(OP.queue_seconds + 1)


def test_store_is_per_tenant_and_bounded() -> None:
    store = TaskStore(per_tenant=3)
    for i in range(5):
        store.add(make(tid=f"t{i}"))
    assert [t.id for t in store.of("k", 0, 10)] == ["t2", "t3", "t4"]
    assert store.find("t0") is None and store.count() == 3
    assert store.get("other", "t4", 0, 10) is None


def test_store_forgets_tasks_after_retention() -> None:
    store = TaskStore()
    store.add(make())
    end = OP.queue_seconds + OP.run_seconds
    assert store.get("k", "t", end + 5, retention=10) is not None
    assert store.get("k", "t", end + 11, retention=10) is None
    assert store.count() == 0


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
        assert app.state.mock.tasks.find(first) is None
        gone = client.get(link)
        assert gone.status_code == 404 and "<Code>NoSuchKey</Code>" in gone.text
        assert app.state.mock.results.cached(result_key(first, 0)) is None
        kept = ds.task_id()
        ds.advance(3600)
        assert client.get(ds.output(kept)["image_url"]).status_code == 200
