"""One module per vendor: only what its contract JSON cannot say."""

from __future__ import annotations

from mock_server.exchange import Vendor
from mock_server.vendors.aidge import Aidge
from mock_server.vendors.ailabtools import AILabTools
from mock_server.vendors.damo import Damo
from mock_server.vendors.dashscope import DashScope

VENDORS: dict[str, type[Vendor]] = {cls.contract.name: cls for cls in (DashScope, Damo, Aidge, AILabTools)}
