"""One valid job per vendor, for tests that drive the correct clients by hand (load, isolation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import contracts
from mock_server.testing import MockServer, Tenant

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


def sample_files(server: MockServer, folder: Path) -> dict[str, Any]:
    """The AILabTools job's image files: the sample person and top, saved under ``folder``."""
    files = {}
    for field, name in (("person_image", PERSON), ("clothes_image", TOP)):
        path = folder / name
        path.write_bytes(server.admin("GET", f"/assets/{name}").content)
        files[field] = {
            "path": str(path),
            "url": f"{server.url}/_mock/assets/{name}",
            "filename": name,
            "content_type": "image/png",
            "sha256": "",
        }
    return files


def job_for(server: MockServer, tenant: Tenant, vendor: str, files: dict[str, Any]) -> dict[str, Any]:
    """A job in the suite's format for ``tenant``'s credentials (no pauses: tests run on polls)."""
    operation, request = request_of(vendor, server.url)
    contract = contracts.load(vendor)
    endpoint = contract.endpoint(contract.operations[operation].endpoint)
    return {
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
