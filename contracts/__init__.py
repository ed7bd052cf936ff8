"""The vendor contracts: the single source of truth both halves of tryon-mock read."""

from contracts.model import Contract, ContractError, ErrorCode, load, vendor_names

__all__ = ["Contract", "ContractError", "ErrorCode", "load", "vendor_names"]
