"""The suite's side of the mock: a tenant per example, its timing and fault rules, and afterwards
what the server saw and decided. Everything goes through the ``/_mock`` admin API, so the server
can be in this process, another process, or another container."""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import time
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from contracts.model import Contract
from contracts.verify import documents, realistic
from contracts.verify.requests import Asset
from contracts.verify.scenario import Scenario

ANONYMOUS = documents.anonymous_tenant()  # the journal's tenant for requests no credential matched


class ServerFormatError(ValueError):
    """The server answers the admin API in a format other than the documented one (it is not a
    tryon-mock, or not one this suite can read)."""


@dataclass
class Tenant:
    id: str
    credentials: dict[str, str]
    opened: float


@dataclass
class Seen:
    """What the server recorded for one example."""

    entries: list[dict[str, Any]]  # the tenant's journal, plus unattributed requests of the window
    tasks: list[dict[str, Any]]


class Session:
    """One vendor on one running mock."""

    def __init__(self, url: str, contract: Contract, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.contract = contract
        self.http = http or httpx.Client(timeout=30, trust_env=False)
        self._files = Path(tempfile.mkdtemp(prefix="tryon-verify-"))
        self._file_info: dict[str, dict[str, str]] = {}
        listed = self.admin("GET", "/assets").json()["assets"]
        self.assets = [
            Asset(a["name"], a["media_type"], a["width"], a["height"], a.get("role")) for a in listed
        ]

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, f"{self.url}/_mock{path}", **kwargs)
        response.raise_for_status()
        return response

    @property
    def base_url(self) -> str:
        return self.url + self.contract.client_base_path

    def asset_url(self, name: str) -> str:
        return f"{self.url}/_mock/assets/{name}"

    def asset_file(self, name: str) -> dict[str, str]:
        """A local copy of an asset (downloaded once), for clients that upload files."""
        if name not in self._file_info:
            data = self.http.get(self.asset_url(name)).raise_for_status().content
            path = self._files / name
            path.write_bytes(data)
            media = next(a.media_type for a in self.assets if a.name == name)
            self._file_info[name] = {
                "path": str(path),
                "url": self.asset_url(name),
                "filename": name,
                "content_type": media,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        return self._file_info[name]

    # -- one example -----------------------------------------------------------------------------

    def open(self, scenario: Scenario) -> Tenant:
        """A fresh tenant with one credential of each kind, the scenario's timing and faults. The
        credentials are strict: the server accepts their requests signed in the documented form
        only, not the variants it tolerates for other callers."""
        # a customer-like name, the same for the same scenario (Faker seeded from the draw), and a
        # random tail that keeps two runs on one server apart
        label = realistic.tenant(zlib.crc32(json.dumps(scenario.as_dict(), sort_keys=True).encode()))
        tenant = f"verify-{label}-{secrets.token_hex(4)}"
        creds: dict[str, str] = {}
        registered = []
        for kind in self.contract.credential_kinds:
            fields = {f: _secret(f) for f in kind.fields}
            creds.update(fields)
            registered.append({**fields, "tenant": tenant, "strict": True})
        self.admin("POST", "/credentials", json={self.contract.name: registered})
        self.admin("POST", "/timing", json={"tenant": tenant, **scenario.timing})
        for plan in scenario.faults:
            self.admin(
                "POST", "/faults", json={"vendor": self.contract.name, "tenant": tenant, **plan.rule()}
            )
        return Tenant(tenant, creds, time.time())

    def seen(self, tenant: Tenant, until: float) -> Seen:
        params = {"vendor": self.contract.name}
        own = self.read("/journal", {**params, "tenant": tenant.id})["entries"]
        strangers = self.read("/journal", {**params, "tenant": ANONYMOUS})["entries"]
        strangers = [e for e in strangers if tenant.opened <= e["received"] <= until]
        entries = sorted(own + strangers, key=lambda e: e["seq"])
        tasks = self.read("/tasks", {**params, "tenant": tenant.id})["tasks"]
        return Seen(entries, tasks)

    def read(self, path: str, params: dict[str, str]) -> Any:
        """``GET /_mock/journal`` or ``/_mock/tasks``, checked against contracts/journal.schema.json;
        ServerFormatError, naming the server and the first violation, for another format."""
        check = documents.journal_problems if path == "/journal" else documents.tasks_problems
        response = self.admin("GET", path, params=params)
        try:
            doc = response.json()
        except ValueError:
            problem = f"not JSON ({response.headers.get('content-type', 'no content type')})"
        else:
            found = check(doc)
            if not found:
                return doc
            pointer, message = found[0]
            problem = f"{pointer or '/'}: {message}" + (f" (and {len(found) - 1} more)" if found[1:] else "")
        raise ServerFormatError(
            f"the server at {self.url} answers GET /_mock{path} in another format than "
            f"contracts/journal.schema.json documents: {problem}"
        )

    def stop(self, tenant: Tenant) -> None:
        """End a job past its budget: drop the tenant's fault rules and answer its every further
        request with the vendor's non-retryable refusal (a credential error), so that a client
        that never gives up ends too, however it is run."""
        self.admin("DELETE", "/faults", params={"tenant": tenant.id})
        rule = {"vendor": self.contract.name, "tenant": tenant.id, "error": self._refusal}
        self.admin("POST", "/faults", json=rule)

    @cached_property
    def _refusal(self) -> str:
        """A non-retryable row any request can get: a credential error where there is one."""
        rows = [
            e
            for e in self.contract.errors
            if not e.retryable and e.can_occur("submit") and e.can_occur("query")
        ]
        auth = {self.contract.triggers[s] for s in self.contract.triggers if s.startswith("auth.")}
        return next((e.id for e in rows if e.id in auth), rows[0].id)

    def close(self, tenant: Tenant) -> None:
        """Forget the tenant: its tasks, journal, rules and credentials."""
        self.admin("POST", "/reset", json={"tenant": tenant.id})
        self.admin("DELETE", "/credentials", params={"tenant": tenant.id})

    def shutdown(self) -> None:
        for path in self._files.iterdir():
            path.unlink()
        self._files.rmdir()
        self.http.close()


def _secret(field: str) -> str:
    return ("sk-" if field == "api_key" else "") + secrets.token_hex(12)
