"""Aidge through ``lazop-sdk`` (1.0.3, the IOP client; its class is ``LazopClient``): ``execute``
posts once with ``requests`` and re-raises any transport failure. No retries, no poll helper: the
glue has both."""

from __future__ import annotations

import json
from typing import Any

import requests
from lazop_sdk import LazopClient, LazopRequest

from tests.clients.aidge import sub_tasks
from tests.clients.base import batch_outcome
from tests.clients.sdk_glue import Glue, Outcome, Reply, refused

# -- Aidge: lazop_sdk.LazopClient (IOP signature over form fields) ---------------------------------

IOP_GATEWAY = "/rest"  # LazopClient takes the gateway URL, ".../rest", and API names under it
AIDGE_RESULTS = "/ai/virtual/tryon-results"
AIDGE_TERMINAL = {"finished", "failed"}


class AidgeGlue(Glue):
    vendor = "aidge"
    # requests' errors (and its JSONDecodeError); OSError: the SDK logs a failure with
    # socket.gethostbyname(socket.gethostname()) before re-raising it, which can fail itself
    transport_errors = (requests.RequestException, OSError)

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        self.client = LazopClient(
            job["base_url"] + IOP_GATEWAY,
            self.credentials["app_key"],
            self.credentials["app_secret"],
            timeout=float(job["time_budget_seconds"]),
        )

    def execute(self, api: str, params: dict[str, str]) -> Reply:
        request = LazopRequest(api)  # POST: the parameters travel as signed form fields
        for key, value in params.items():
            request.add_api_param(key, value)
        body = self.client.execute(request).body
        if "resCode" not in body:  # the IOP gateway's own envelope: type, code, message
            return Reply(body, refused(body.get("code"), body.get("message")))
        if str(body["resCode"]) != "200":
            return Reply(body, refused(body["resCode"], body.get("resMessage")))
        return Reply(body)

    def submit(self) -> Reply:
        api = self.job["endpoint"]["path"].removeprefix(IOP_GATEWAY)
        return self.execute(api, {"requestParams": json.dumps(self.job["request"])})

    def query(self, task_id: str) -> Reply:
        return self.execute(AIDGE_RESULTS, {"task_id": task_id})

    def task_id(self, reply: Reply) -> str:
        return str(reply.body["data"]["result"]["taskId"])

    def progress(self, reply: Reply) -> Outcome | None:
        data = reply.body["data"]
        if data["taskStatus"] not in AIDGE_TERMINAL:
            return None
        return batch_outcome(sub_tasks(data))


def aidge_sdk(job: dict[str, Any]) -> Outcome:
    """Aidge through ``lazop-sdk``'s IOP client."""
    return AidgeGlue(job).outcome()
