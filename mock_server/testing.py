"""Run the mock inside a test process: a real uvicorn in a thread, and per-test tenants."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

import contracts
from mock_server import protocol
from mock_server.app import create_app
from mock_server.settings import Settings
from mock_server.state import MockState


@dataclass
class Tenant:
    """Fresh credentials for every vendor, isolated from every other tenant on the server."""

    server: MockServer
    credentials: dict[str, dict[str, str]]

    def id(self, vendor: str) -> str:
        return self.credentials[vendor]["tenant"]

    def base_url(self, vendor: str) -> str:
        """What the vendor's clients take as their base URL (DashScope: .../api/v1; DAMO: the host)."""
        return self.server.url + contracts.load(vendor).client_base_path

    def journal(self, vendor: str, endpoint: str | None = None) -> list[dict[str, Any]]:
        params = {"tenant": self.id(vendor), "vendor": vendor}
        if endpoint:
            params["endpoint"] = endpoint
        entries: list[dict[str, Any]] = self.server.admin("GET", "/journal", params=params).json()["entries"]
        return entries

    def tasks(self, vendor: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.server.admin(
            "GET", "/tasks", params={"tenant": self.id(vendor)}
        ).json()["tasks"]
        return rows

    def fault(self, vendor: str, **rule: Any) -> dict[str, Any]:
        rule = {"vendor": vendor, "tenant": self.id(vendor), **rule}
        made: dict[str, Any] = self.server.admin("POST", "/faults", json=rule).json()["rules"][0]
        return made

    def scenario(self, vendor: str, name: str) -> None:
        self.server.admin("POST", f"/scenarios/{name}", json={"tenant": self.id(vendor)})

    def timing(self, vendor: str, **changes: Any) -> dict[str, Any]:
        profile: dict[str, Any] = self.server.admin(
            "POST", "/timing", json={"tenant": self.id(vendor), **changes}
        ).json()
        return profile

    def reset(self) -> None:
        for vendor in self.credentials:
            self.server.admin("POST", "/reset", json={"tenant": self.id(vendor)})


@dataclass
class MockServer:
    """A running mock: its URL and its state (read it; change it through the admin API)."""

    url: str
    state: MockState
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30, trust_env=False))

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, f"{self.url}/_mock{path}", **kwargs)
        response.raise_for_status()
        return response

    def new_tenant(self) -> Tenant:
        """One tenant with a credential of every kind of every vendor (fields merged per vendor)."""
        tenant = f"tenant-{secrets.token_hex(6)}"
        doc: dict[str, list[dict[str, str]]] = {}
        merged: dict[str, dict[str, str]] = {}
        for name, contract in self.state.contracts.items():
            for kind in contract.credential_kinds:
                cred = {f: _secret(name, f) for f in kind.fields}
                doc.setdefault(name, []).append({**cred, "tenant": tenant})
                merged.setdefault(name, {"tenant": tenant}).update(cred)
        self.admin("POST", "/credentials", json=doc)
        return Tenant(self, merged)

    def close(self) -> None:
        self._http.close()


def _secret(vendor: str, name: str) -> str:
    prefix = "sk-" if name == "api_key" else ""
    return f"{prefix}{vendor[:4]}{secrets.token_hex(12)}"


class _Server(uvicorn.Server):
    """uvicorn's server, which ends the mock's image fetches under way when it starts to stop (it
    then waits for the requests in flight)."""

    def __init__(self, config: uvicorn.Config, state: MockState) -> None:
        super().__init__(config)
        self.mock_state = state

    async def shutdown(self, sockets: Any = None) -> None:
        self.mock_state.fetcher.close()
        await super().shutdown(sockets)


@contextmanager
def serve_in_thread(settings: Settings | None = None, timeout: float = 10.0) -> Iterator[MockServer]:
    """``with serve_in_thread(settings) as server:``, a real uvicorn in a daemon thread (default
    settings: ``Settings(port=0)``, a free loopback port), yielding its :class:`MockServer` once it
    listens; stopped, the requests in flight first, when the block ends (README, "In pytest")."""
    settings = settings or Settings(port=0)
    app = create_app(settings)
    config = protocol.uvicorn_config(app, settings, log_level="warning")
    server = _Server(config, app.state.mock)
    thread = threading.Thread(target=server.run, name="tryon-mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("tryon-mock did not start")
        time.sleep(0.005)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    handle = MockServer(url=f"http://{host}:{port}", state=app.state.mock)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout)
