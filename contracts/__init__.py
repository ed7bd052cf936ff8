"""The vendor contracts: the single source of truth both halves of tryon-mock read."""

from contracts.loading import load, vendor_names
from contracts.model import Contract, ContractError, ErrorCode

__all__ = ["Contract", "ContractError", "ErrorCode", "load", "vendor_names"]
