"""Buggy clients that mishandle ONE rare row of their vendor's error table (issue 16, gap 6): each
judges retryability by a rule of thumb (the HTTP status, a family of codes) that is right for
most rows and wrong for one or a few. Random drawing reaches such a row now and then; the suite's
explicit phase (contracts/verify/explicit.py) meets every row in every run."""

from __future__ import annotations

from typing import Any

from tests.clients.aidge import AidgeClient
from tests.clients.ailabtools import AILabToolsClient
from tests.clients.damo import DamoClient
from tests.clients.dashscope import DashScopeClient


class AILabToolsRetriesEvery429(AILabToolsClient):
    """Retries every HTTP 429 as a rate limit, so 429 ``ERROR_NOT_ENOUGH_CREDITS`` (no credits left:
    not retryable) is sent again."""

    def retryable(self, error: dict[str, Any]) -> bool:
        return error.get("http_status") == 429 or super().retryable(error)


class DamoNoGatewayThrottleRetry(DamoClient):
    """Judges the API Gateway's own answers (no body, no DAMO code) by their HTTP status, as for
    most HTTP APIs: 429 and 5xx retried, the rest final. The gateway's throttles come as 403 (codes
    T429...), so they are reported as failures instead of retried."""

    def retryable(self, error: dict[str, Any]) -> bool:
        if str(error.get("code")).isdigit():  # a DAMO code from the body: the table knows it
            return super().retryable(error)
        status = int(error.get("http_status") or 0)
        return status == 429 or status >= 500


class DashScopeRetriesOnly429And500(DashScopeClient):
    """Retries only HTTP 429 and 500, so 503 ``ModelUnavailable`` (retryable) ends the job."""

    def retryable(self, error: dict[str, Any]) -> bool:
        return error.get("http_status") in (429, 500) and super().retryable(error)


class AidgeContentCodesFinal(AidgeClient):
    """Takes every content code (1000-1002) for a final refusal of the input, so 1001 "content
    control failed, please retry" is not retried."""

    def retryable(self, error: dict[str, Any]) -> bool:
        return not str(error.get("code")).startswith("100") and super().retryable(error)
