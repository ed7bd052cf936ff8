"""Correct clients that make one legitimate read-only call of another endpoint of the contract
before they report: the verdict comes from the answers about the job's own task, so the call must
not change it. DashScope lists its tasks, Aidge reads its quota balance; DAMO and AILabTools have no
endpoint besides submit and query (no read-only call to add)."""

from __future__ import annotations

from typing import Any

from tests.clients.aidge import AidgeClient
from tests.clients.dashscope import DashScopeClient


class DashScopeListsTasks(DashScopeClient):
    """Lists the key's tasks (``GET /tasks``) once the job has ended, before reporting."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        self.http.get("/tasks", headers={"Authorization": self.headers()["Authorization"]})
        return outcome


class AidgeChecksBalance(AidgeClient):
    """Reads the quota balance of the API it used (``/ai/query/balance``) before reporting."""

    def run(self) -> dict[str, Any]:
        outcome = super().run()
        api = "/ai/virtual/" + self.job["endpoint"]["path"].rsplit("/", 1)[-1]
        self.http.post("/rest/ai/query/balance", params=self.signed(), json={"apiPath": api})
        return outcome
