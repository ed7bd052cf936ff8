"""Contract-test adapters (job -> outcome) that drive each vendor's official SDK for every HTTP call.

The adapter owns only the glue: the job turned into SDK calls, the SDK's answers turned into an
outcome, a poll loop where the SDK has none or one too slow for a test, retries where the SDK has
none, and the job's time budget. The glue they share is in sdk_glue.py; each vendor's adapter, with
what its SDK does on its own (read from its installed source), in sdk_dashscope.py (``dashscope``
2.0.2), sdk_damo.py (``aliyun-api-gateway-python`` 0.1.0), sdk_aidge.py (``lazop-sdk`` 1.0.3) and
sdk_ailabtools.py (``ailabtools-sdk`` 0.5.4).

Which answers are retryable is read from the contract's error table, as tests/clients/base.py does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.clients.sdk_aidge import aidge_sdk
from tests.clients.sdk_ailabtools import ailabtools_sdk
from tests.clients.sdk_damo import damo_sdk
from tests.clients.sdk_dashscope import dashscope_sdk
from tests.clients.sdk_glue import Outcome

__all__ = ["SDK_ADAPTERS", "aidge_sdk", "ailabtools_sdk", "damo_sdk", "dashscope_sdk"]

SDK_ADAPTERS: dict[str, Callable[[dict[str, Any]], Outcome]] = {
    "dashscope": dashscope_sdk,
    "damo": damo_sdk,
    "aidge": aidge_sdk,
    "ailabtools": ailabtools_sdk,
}
