"""Registered credentials per vendor. Each credential is its own tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.model import Contract


class CredentialError(ValueError):
    """A credential that lacks the fields its vendor's contract asks for."""


class Credentials:
    def __init__(self, contracts: Mapping[str, Contract], limit: int = 10_000) -> None:
        self._contracts = contracts
        self.limit = limit
        self._by_vendor: dict[str, dict[str, dict[str, str]]] = {name: {} for name in contracts}

    def add(self, vendor: str, credential: Mapping[str, Any]) -> str:
        """Register one credential; returns its tenant id."""
        contract = self._contracts.get(vendor)
        if contract is None:
            raise CredentialError(f"unknown vendor {vendor!r}")
        missing = [
            f
            for f in contract.credential_fields
            if not isinstance(credential.get(f), str) or not credential.get(f)
        ]
        if missing:
            raise CredentialError(f"{vendor} credentials need string fields {missing}")
        store = self._by_vendor[vendor]
        tenant = str(credential[contract.tenant_field])
        if tenant not in store and len(store) >= self.limit:
            raise CredentialError(f"at most {self.limit} {vendor} credentials")
        store[tenant] = {f: str(credential[f]) for f in contract.credential_fields}
        return tenant

    def load(self, doc: Mapping[str, Any]) -> list[str]:
        """Register ``{"vendor": [credential, ...]}``; every entry is checked before any is kept."""
        if not isinstance(doc, Mapping):
            raise CredentialError("credentials are an object of vendor -> list")
        for vendor, items in doc.items():
            if vendor not in self._contracts:
                raise CredentialError(f"unknown vendor {vendor!r}")
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise CredentialError(f"{vendor}: a list of credential objects")
        return [self.add(v, c) for v, items in doc.items() for c in items]

    def add_defaults(self) -> None:
        for name, contract in self._contracts.items():
            for cred in contract.default_credentials:
                self.add(name, cred)

    def get(self, vendor: str, tenant: str) -> dict[str, str] | None:
        return self._by_vendor.get(vendor, {}).get(tenant)

    def remove(self, vendor: str, tenant: str) -> bool:
        return self._by_vendor.get(vendor, {}).pop(tenant, None) is not None

    def listing(self) -> dict[str, list[dict[str, str]]]:
        return {v: list(store.values()) for v, store in self._by_vendor.items()}
