"""DAMO through ``aliyun-api-gateway-python`` (0.1.0, the gateway signer): ``ApiGatewayClient.send``
signs (a fresh ``X-Ca-Nonce`` each call) and sends once; HTTP errors come back as a response,
transport failures raise ``ApiGatewayTransportError``. No retries, no poll helper: the glue has
both."""

from __future__ import annotations

import json
from typing import Any

from aliyun_api_gateway import (
    ApiGatewayClient,
    ApiGatewayRequest,
    ApiGatewayResponse,
    ApiGatewayTransportError,
)

from tests.clients.base import batch_outcome
from tests.clients.sdk_glue import Glue, Outcome, Reply, refused

# -- DAMO (Marketplace, behind the API Gateway): aliyun_api_gateway.ApiGatewayClient ---------------

DAMO_QUERY = "/api/v1/tryon/query"
DAMO_TERMINAL = {"SUCCESS", "FAILED"}


class DamoGlue(Glue):
    vendor = "damo"
    transport_errors = (ApiGatewayTransportError, json.JSONDecodeError)

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(job)
        self.client = ApiGatewayClient(
            job["base_url"],
            self.credentials["app_key"],
            self.credentials["app_secret"],
            timeout=float(job["time_budget_seconds"]),
        )

    def post(self, path: str, doc: Any) -> Reply:
        answer = self.client.send(ApiGatewayRequest(method="POST", path=path, json_body=doc))
        return self.read(answer)

    def submit(self) -> Reply:
        return self.post(self.job["endpoint"]["path"], self.job["request"])

    def query(self, task_id: str) -> Reply:
        return self.post(DAMO_QUERY, {"data": {"result_key": task_id}})

    @staticmethod
    def read(answer: ApiGatewayResponse) -> Reply:
        gateway = answer.get_header("X-Ca-Error-Message")
        if gateway is not None and not answer.body:  # the gateway's own refusal: no body
            code = answer.get_header("X-Ca-Error-Code") or gateway
            return Reply(None, refused(code, gateway, answer.status))
        body = answer.json()
        if answer.status != 200 or str(body.get("code")) != "0":
            return Reply(body, refused(body.get("code"), body.get("message"), answer.status))
        return Reply(body)

    def task_id(self, reply: Reply) -> str:
        return str(reply.body["data"]["result_key"])

    def progress(self, reply: Reply) -> Outcome | None:
        tasks = reply.body["data"]["task_list"]
        if not all(t["status"] in DAMO_TERMINAL for t in tasks):
            return None
        return batch_outcome(
            [
                ("succeeded" if t["status"] == "SUCCESS" else "failed", list(t.get("results", [])))
                for t in tasks
            ]
        )


def damo_sdk(job: dict[str, Any]) -> Outcome:
    """DAMO try-on through ``aliyun-api-gateway-python`` (AppKey/AppSecret signatures)."""
    return DamoGlue(job).outcome()
