"""Load: 32 concurrent clients (8 per vendor, each its own tenant), 200 tasks each, through a real
uvicorn: every task reaches its terminal status, none is lost or duplicated, the journal counts
are exact. And a burst of submits on a cold server reads each image once, not once a request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import contracts
from mock_server import images
from mock_server.settings import Settings
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.clients.jobs import job_for, sample_files
from tests.clients.run import CORRECT
from tests.helpers import KEY, SYNTHESIS

CLIENTS_PER_VENDOR = 8
TASKS = 200


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    """A server of its own, with the vendors' documented rate limits off: this measures the mock's
    bookkeeping under load, not a client's patience with throttling."""
    with serve_in_thread(Settings(options={"dashscope": {"limits": "off"}})) as started:
        yield started


def run_client(server: MockServer, vendor: str, files: dict[str, Any]) -> tuple[Tenant, list[dict[str, Any]]]:
    tenant = server.new_tenant()
    tenant.timing(vendor, progress="polls:1")
    job = job_for(server, tenant, vendor, files)
    client = CORRECT[vendor]()
    return tenant, [client(job) for _ in range(TASKS)]


def test_32_clients_200_tasks_each(server: MockServer, tmp_path: Any) -> None:
    files = sample_files(server, tmp_path)
    work = [vendor for vendor in contracts.vendor_names() for _ in range(CLIENTS_PER_VENDOR)]
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        done = list(pool.map(lambda v: (v, *run_client(server, v, files)), work))
    assert len(done) == 32
    every_id: list[str] = []
    for vendor, tenant, outcomes in done:
        assert [o["status"] for o in outcomes] == ["succeeded"] * TASKS, (vendor, outcomes[:3])
        ids = [o["task_id"] for o in outcomes]
        every_id += ids
        tasks = tenant.tasks(vendor)
        kept = {t.get("group") or t["id"] for t in tasks}
        assert kept == set(ids) and len(tasks) == TASKS, vendor
        assert {t["stage"] for t in tasks} == {"succeeded"}
        journal = tenant.journal(vendor)
        kinds = {e.id: e.kind for e in contracts.load(vendor).endpoints}
        submits = [e for e in journal if kinds[e["endpoint"]] == "submit"]
        polls = [e for e in journal if kinds[e["endpoint"]] == "query"]
        assert (len(submits), len(polls), len(journal)) == (TASKS, TASKS, 2 * TASKS), vendor
        assert all(e["status"] == 200 and e["error"] is None for e in journal)
    assert len(set(every_id)) == len(every_id) == 32 * TASKS, "no task lost or given twice"


def test_a_burst_on_a_cold_server_reads_each_image_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 DashScope submits at once on a fresh server, all on the same two sample images (the
    image reader slowed to 0.2 s, so that they overlap): the person and the garment are each read
    once, the other requests wait for those reads, and all answer 200. BUG: every request that
    missed the cold cache read both images itself, 80 decodes in every worker thread at once: under
    300 keep-alive connections, 10 s waits and 100 MB of memory before the cache held them."""
    reads: list[int] = []
    inspect = images.inspect

    def slow_inspect(data: bytes, limits: images.Limits | None = None) -> images.ImageFacts:
        reads.append(len(data))
        time.sleep(0.2)
        return inspect(data, limits)

    monkeypatch.setattr(images, "inspect", slow_inspect)
    with serve_in_thread(Settings(port=0, options={"dashscope": {"limits": "off"}})) as cold:
        doc = {
            "model": "aitryon",
            "input": {
                "person_image_url": f"{cold.url}/_mock/assets/person.png",
                "top_garment_url": f"{cold.url}/_mock/assets/top.png",
            },
        }
        headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
        gate = threading.Barrier(40)

        def submit(_: int) -> int:
            with httpx.Client(base_url=cold.url, trust_env=False, timeout=30) as http:
                gate.wait()
                return http.post(SYNTHESIS, json=doc, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(submit, range(40)))
    assert statuses == [200] * 40
    assert len(reads) == 2, f"{len(reads)} reads of the two images"
