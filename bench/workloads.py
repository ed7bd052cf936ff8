"""The workloads and their requests, as raw HTTP/1.1 bytes built ahead of the run.

Each vendor's valid job is the one ``tests/test_load.py::request_of`` sends (images on our mock:
``/_mock/assets/person.png`` and ``top.png``), called the way ``tests/clients/*.py`` call it. The
signatures are the test clients' own (``DamoClient.signed``, ``AidgeClient.sign``), computed per
request here, in Python, before the load starts: wrk's Lua has no HMAC.

A workload is a list of ``Group`` s: one load-generator thread each, with its own address and its
own request sequence, either cycled or (unique signed requests) sent each once.
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import contracts
from bench.servers import HOST, http_json
from mock_server import assets
from tests.clients.aidge import AidgeClient
from tests.clients.damo import DamoClient

VENDORS = ("dashscope", "damo", "aidge", "ailabtools")
POLLS_PER_SUBMIT = 5
POLL_TASKS = 32  # tasks made on our mock before a run, polled in turn
FIXED_TASK_ID = "bench-task"  # Prism keeps no state: its polls name any id
POLL_TENANT = "bench-poll"
PERSON, TOP = "person.png", "top.png"

DASHSCOPE_SUBMIT = "/api/v1/services/aigc/image2image/image-synthesis"
DAMO_SUBMIT, DAMO_QUERY = "/api/v1/tryon/submit", "/api/v1/tryon/query"
AIDGE_SUBMIT, AIDGE_QUERY = "/rest/ai/virtual/tryon", "/rest/ai/virtual/tryon-results"
AIDGE_API = "/ai/virtual/tryon"  # the quota's API path (the request path minus /rest)
AILAB_SUBMIT, AILAB_QUERY = "/api/portrait/editing/try-on-clothes", "/api/common/query-async-task-result"
BOUNDARY = "tryonbench7d1f0c2e9a"

# Substrings of a 2xx body that still mean the call failed: Aidge answers every error with HTTP
# 200 (its gateway envelope, or success=false beside resCode), and DashScope answers a poll of an
# unknown (say, evicted) task with 200 and task_status UNKNOWN.
ERROR_MARKERS: dict[str, tuple[bytes, ...]] = {
    "dashscope": (b'"task_status":"UNKNOWN"',),
    "damo": (),
    "aidge": (b'"success":false', b'"success":"false"', b'"type":"ISV"'),
    "ailabtools": (),
}


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    vendors: tuple[str, ...]
    mix: bool  # 1 submit : 5 polls (else submits only)
    signed: bool  # per-request gateway signatures (DAMO AppKey/AppSecret; Aidge v2)


WORKLOADS = (
    Workload("a", "DashScope submit", ("dashscope",), mix=False, signed=False),
    Workload("b", "submit+poll 1:5, every vendor", VENDORS, mix=True, signed=False),
    Workload("c", "submit+poll 1:5, signed (DAMO, Aidge)", ("damo", "aidge"), mix=True, signed=True),
)
MILLION = Workload("m", "submit+poll 1:5, DashScope (RSS soak)", ("dashscope",), mix=True, signed=False)


@dataclass
class Group:
    """What one load-generator thread sends: ``requests`` to ``port`` in order, cycled, or (when
    ``cycle`` is False) each once, the thread stopping when they run out."""

    label: str
    port: int
    requests: list[bytes]
    cycle: bool
    markers: tuple[bytes, ...] = ()

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        """The requests as one blob and an index of their lengths (one a line)."""
        folder.mkdir(parents=True, exist_ok=True)
        data, index = folder / f"{name}.bin", folder / f"{name}.idx"
        data.write_bytes(b"".join(self.requests))
        index.write_text("".join(f"{len(r)}\n" for r in self.requests))
        return data, index


# -- credentials ---------------------------------------------------------------------------------


def default_credentials() -> dict[str, dict[str, str]]:
    """Each vendor's default credentials (every kind's fields merged): submits use these."""
    merged: dict[str, dict[str, str]] = {}
    for vendor in VENDORS:
        for cred in contracts.load(vendor).default_credentials:
            merged.setdefault(vendor, {}).update({k: str(v) for k, v in cred.items() if k != "tenant"})
    return merged


def poll_credentials() -> dict[str, dict[str, str]]:
    """A second tenant's credentials, every kind of every vendor: polls use these, on tasks made
    before the run, so that the submits (evicting the oldest tasks of their own tenant once it
    holds ``tasks_per_tenant``) never evict a task being polled."""
    merged: dict[str, dict[str, str]] = {}
    for vendor in VENDORS:
        for kind in contracts.load(vendor).credential_kinds:
            for name in kind.fields:
                value = f"bench{vendor[:4]}{name.replace('_', '')}0123456789abcdef"
                merged.setdefault(vendor, {})[name] = ("sk-" if name == "api_key" else "") + value
    return merged


def register_poll_tenant(port: int) -> None:
    doc: dict[str, list[dict[str, str]]] = {}
    creds = poll_credentials()
    for vendor in VENDORS:
        for kind in contracts.load(vendor).credential_kinds:
            fields = {name: creds[vendor][name] for name in kind.fields}
            doc.setdefault(vendor, []).append({**fields, "tenant": POLL_TENANT})
    status, body = http_json(port, "POST", "/_mock/credentials", json.dumps(doc).encode())
    if status != 201:
        raise RuntimeError(f"registering the poll tenant: {status} {body[:200]!r}")


def lift_aidge_quota(port: int) -> None:
    """Aidge draws one unit a submit from a per-tenant quota (1,000 by default): set it past
    what any run submits, for both tenants."""
    for tenant in (submit_tenants(port)["aidge"], POLL_TENANT):
        doc = {"vendor": "aidge", "tenant": tenant, "api": AIDGE_API, "pool": "purchased", "left": 10**12}
        status, body = http_json(port, "POST", "/_mock/quota", json.dumps(doc).encode())
        if status != 200:
            raise RuntimeError(f"setting the Aidge quota: {status} {body[:200]!r}")


# -- raw requests --------------------------------------------------------------------------------


def raw(method: str, path: str, port: int, headers: Mapping[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def compact(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


class Requests:
    """Builds one vendor's submit and poll requests for one target (a port), with the image URLs
    on our mock at ``images``. ``signed`` selects DAMO's AppKey/AppSecret signature over its
    APPCODE (every other vendor has one way to authenticate; Aidge's is always a signature)."""

    def __init__(
        self, vendor: str, port: int, images: str, creds: Mapping[str, str], signed: bool = False
    ) -> None:
        self.vendor, self.port, self.images, self.creds, self.signed = vendor, port, images, creds, signed
        self.person, self.top = f"{images}/_mock/assets/{PERSON}", f"{images}/_mock/assets/{TOP}"
        self._damo = DamoClient()
        self._damo.job = {"credentials": dict(creds)}
        self._multipart: bytes | None = None

    def submit(self) -> bytes:
        submits: dict[str, Callable[[], bytes]] = {
            "dashscope": self._dashscope_submit,
            "damo": self._damo_submit,
            "aidge": self._aidge_submit,
            "ailabtools": self._ailabtools_submit,
        }
        return submits[self.vendor]()

    def poll(self, task_id: str) -> bytes:
        polls: dict[str, Callable[[str], bytes]] = {
            "dashscope": self._dashscope_poll,
            "damo": self._damo_poll,
            "aidge": self._aidge_poll,
            "ailabtools": self._ailabtools_poll,
        }
        return polls[self.vendor](task_id)

    # DashScope: Bearer key, asynchronous submit, GET the task.
    def _dashscope_submit(self) -> bytes:
        doc = {"model": "aitryon", "input": {"person_image_url": self.person, "top_garment_url": self.top}}
        headers = {
            "Authorization": f"Bearer {self.creds['api_key']}",
            "X-DashScope-Async": "enable",
            "Content-Type": "application/json",
        }
        return raw("POST", DASHSCOPE_SUBMIT, self.port, headers, compact(doc))

    def _dashscope_poll(self, task_id: str) -> bytes:
        headers = {"Authorization": f"Bearer {self.creds['api_key']}"}
        return raw("GET", f"/api/v1/tasks/{task_id}", self.port, headers)

    # DAMO: JSON POSTs behind the API gateway, APPCODE or a fresh signature (nonce) per request.
    def _damo_post(self, path: str, doc: Any) -> bytes:
        body = compact(doc)
        if self.signed:
            headers = self._damo.signed(path, body)
        else:
            headers = {
                "Authorization": f"APPCODE {self.creds['appcode']}",
                "Accept": "application/json",
                "Content-Type": "application/json; charset=utf-8",
            }
        return raw("POST", path, self.port, headers, body)

    def _damo_submit(self) -> bytes:
        task = {"model_image": self.person, "tops_image": self.top}
        return self._damo_post(DAMO_SUBMIT, {"data": {"fit_type": "HALF_BODY", "task_list": [task]}})

    def _damo_poll(self, task_id: str) -> bytes:
        return self._damo_post(DAMO_QUERY, {"data": {"result_key": task_id}})

    # Aidge: the v2 signature (secret + millisecond timestamp) in the query string, per request.
    def _aidge_query(self) -> str:
        stamp = str(int(time.time() * 1000))
        params = {
            "partner_id": "aidge",
            "sign_method": "sha256",
            "sign_ver": "v2",
            "app_key": self.creds["app_key"],
            "timestamp": stamp,
            "sign": AidgeClient().sign(self.creds["app_secret"], stamp),
        }
        return urlencode(params)

    def _aidge_submit(self) -> bytes:
        job = [{"clothesList": [{"imageUrl": self.top}], "modelImage": [self.person]}]
        body = compact({"requestParams": json.dumps(job)})
        headers = {"Content-Type": "application/json"}
        return raw("POST", f"{AIDGE_SUBMIT}?{self._aidge_query()}", self.port, headers, body)

    def _aidge_poll(self, task_id: str) -> bytes:
        headers = {"Content-Type": "application/json"}
        return raw(
            "POST", f"{AIDGE_QUERY}?{self._aidge_query()}", self.port, headers, compact({"task_id": task_id})
        )

    # AILabTools: the key header, the images as multipart file parts; GET the task.
    def _ailabtools_submit(self) -> bytes:
        if self._multipart is None:
            parts = [
                self._field("task_type", b"async"),
                self._field("clothes_type", b"upper_body"),
                self._field("person_image", assets.asset_bytes(PERSON), PERSON),
                self._field("clothes_image", assets.asset_bytes(TOP), TOP),
            ]
            self._multipart = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
        headers = {
            "ailabapi-api-key": self.creds["api_key"],
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        }
        return raw("POST", AILAB_SUBMIT, self.port, headers, self._multipart)

    @staticmethod
    def _field(name: str, value: bytes, filename: str | None = None) -> bytes:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
        if filename:
            head += f'; filename="{filename}"\r\nContent-Type: image/png'
        return (head + "\r\n\r\n").encode() + value + b"\r\n"

    def _ailabtools_poll(self, task_id: str) -> bytes:
        headers = {"ailabapi-api-key": self.creds["api_key"]}
        return raw("GET", f"{AILAB_QUERY}?task_id={task_id}", self.port, headers)


# -- tasks to poll on our mock -------------------------------------------------------------------


def send(port: int, request: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """Send one raw request on a fresh connection; (status, body)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        response = HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


TASK_ID: dict[str, Callable[[Any], str]] = {
    "dashscope": lambda doc: doc["output"]["task_id"],
    "damo": lambda doc: doc["data"]["result_key"],
    "aidge": lambda doc: doc["data"]["result"]["taskId"],
    "ailabtools": lambda doc: doc["task_id"],
}


def make_tasks(port: int, vendor: str, count: int = POLL_TASKS) -> list[str]:
    """Submit ``count`` jobs as the poll tenant; their task ids."""
    builder = Requests(vendor, port, f"http://{HOST}:{port}", poll_credentials()[vendor], signed=True)
    ids = []
    for _ in range(count):
        status, body = send(port, builder.submit())
        if status != 200 or any(m in body for m in ERROR_MARKERS[vendor]):
            raise RuntimeError(f"{vendor} submit for the poll tasks: {status} {body[:300]!r}")
        ids.append(TASK_ID[vendor](json.loads(body)))
    return ids


# -- groups --------------------------------------------------------------------------------------


def cycle_length(mix: bool) -> int:
    return (POLLS_PER_SUBMIT + 1) * POLL_TASKS if mix else 1


def groups(
    workload: Workload,
    ports: Mapping[str, int],
    images: str,
    task_ids: Mapping[str, Sequence[str]] | None,
    unique: int = 0,
) -> list[Group]:
    """The workload's groups, one per vendor, each sent to ``ports[vendor]``. ``task_ids`` are the
    polled tasks (None: a fixed id, for Prism). ``unique`` > 0: that many requests per group, each
    signed anew and sent once (our mock refuses a replayed DAMO nonce); else a cycle."""
    out = []
    submit_creds = default_credentials()
    for vendor in workload.vendors:
        if task_ids is None:
            ids: Sequence[str] = [FIXED_TASK_ID]
        else:
            ids = task_ids[vendor]
        # polls are the poll tenant's (its tasks); submits the default tenant's: one builder each
        submits = Requests(vendor, ports[vendor], images, submit_creds[vendor], workload.signed)
        polls = Requests(vendor, ports[vendor], images, poll_credentials()[vendor], workload.signed)
        count = unique or (10 * cycle_length(workload.mix) if workload.signed else cycle_length(workload.mix))
        requests = _interleave(submits, polls, workload.mix, ids, count)
        out.append(Group(vendor, ports[vendor], requests, cycle=unique == 0, markers=ERROR_MARKERS[vendor]))
    return out


def _interleave(submits: Requests, polls: Requests, mix: bool, ids: Sequence[str], count: int) -> list[bytes]:
    fixed_submit = None if submits.signed else submits.submit()
    fixed_polls = {} if polls.signed else {i: polls.poll(i) for i in ids}
    out: list[bytes] = []
    n = 0
    for i in range(count):
        if not mix or i % (POLLS_PER_SUBMIT + 1) == 0:
            out.append(fixed_submit or submits.submit())
        else:
            task = ids[n % len(ids)]
            out.append(fixed_polls.get(task) or polls.poll(task))
            n += 1
    return out


def unique_count(rate_hint: float, seconds: float) -> int:
    """Signed requests to make for a run of ``seconds`` at up to ``rate_hint`` requests/s (with
    room to spare; a thread that runs out stops early and the run is marked)."""
    return math.ceil(rate_hint * seconds * 1.5) + 2000


def submit_tenants(port: int) -> dict[str, str]:
    """The tenant of each vendor's default credentials on our mock (the submitting tenant)."""
    status, body = http_json(port, "GET", "/_mock/credentials")
    listing = json.loads(body)
    out = {}
    for vendor in VENDORS:
        defaults = contracts.load(vendor).default_credentials
        for cred in listing[vendor]:
            if any(all(cred.get(k) == v for k, v in d.items() if k != "tenant") for d in defaults):
                out[vendor] = cred["tenant"]
                break
        else:
            raise RuntimeError(f"no default {vendor} credential on the mock ({status})")
    return out


def journal_errors(port: int, tenants: Mapping[str, Sequence[str]]) -> tuple[int, int]:
    """Among the entries our mock's journal still holds (the newest per tenant) for these
    ``{vendor: [tenant, ...]}``: (entries read, entries with an error or a status >= 400)."""
    seen = bad = 0
    for vendor, names in tenants.items():
        for tenant in names:
            path = f"/_mock/journal?{urlencode({'tenant': tenant, 'vendor': vendor})}"
            status, body = http_json(port, "GET", path)
            if status != 200:
                raise RuntimeError(f"reading the journal: {status}")
            entries = json.loads(body)["entries"]
            seen += len(entries)
            bad += sum(1 for e in entries if e["error"] is not None or e["status"] >= 400)
    return seen, bad
