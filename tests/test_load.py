"""Load: 32 concurrent clients (8 per vendor, each its own tenant), 200 tasks each, through a real
uvicorn: every task reaches its terminal status, none is lost or duplicated, the journal counts
are exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import contracts
from mock_server.testing import MockServer, Tenant
from tests.clients.run import CORRECT

CLIENTS_PER_VENDOR = 8
TASKS = 200
PERSON, TOP = "person.png", "top.png"


def request_of(vendor: str, url: str) -> tuple[str, Any]:
    """One valid job's operation and request for ``vendor`` (images on the mock at ``url``)."""
    person, top = f"{url}/_mock/assets/{PERSON}", f"{url}/_mock/assets/{TOP}"
    if vendor == "dashscope":
        return "aitryon", {"model": "aitryon", "input": {"person_image_url": person, "top_garment_url": top}}
    if vendor == "damo":
        doc = {"data": {"fit_type": "HALF_BODY", "task_list": [{"model_image": person, "tops_image": top}]}}
        return "tryon", doc
    if vendor == "aidge":
        return "tryon", [{"clothesList": [{"imageUrl": top}], "modelImage": [person]}]
    return "try-on-clothes", {"task_type": "async", "clothes_type": "upper_body"}  # images go as files


def run_client(server: MockServer, vendor: str, files: dict[str, Any]) -> tuple[Tenant, list[dict[str, Any]]]:
    tenant = server.new_tenant()
    tenant.timing(vendor, progress="polls:1")
    operation, request = request_of(vendor, server.url)
    contract = contracts.load(vendor)
    endpoint = contract.endpoint(contract.operations[operation].endpoint)
    job = {
        "vendor": vendor,
        "operation": operation,
        "endpoint": {
            "method": endpoint.method,
            "path": endpoint.paths[0].removeprefix(contract.client_base_path),
        },
        "base_url": tenant.base_url(vendor),
        "credentials": tenant.credentials[vendor],
        "request": request,
        "files": files if vendor == "ailabtools" else {},
        "time_budget_seconds": 30.0,
        "poll_interval_seconds": 0.0,
        "retry_backoff_seconds": 0.01,
    }
    client = CORRECT[vendor]()
    return tenant, [client(job) for _ in range(TASKS)]


def test_32_clients_200_tasks_each(tryon_mock_server: MockServer, tmp_path: Any) -> None:
    files = {}
    for field, name in (("person_image", PERSON), ("clothes_image", TOP)):
        data = tryon_mock_server.admin("GET", f"/assets/{name}").content
        path = tmp_path / name
        path.write_bytes(data)
        url = f"{tryon_mock_server.url}/_mock/assets/{name}"
        files[field] = {
            "path": str(path),
            "url": url,
            "filename": name,
            "content_type": "image/png",
            "sha256": "",
        }
    work = [vendor for vendor in contracts.vendor_names() for _ in range(CLIENTS_PER_VENDOR)]
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        done = list(pool.map(lambda v: (v, *run_client(tryon_mock_server, v, files)), work))
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
