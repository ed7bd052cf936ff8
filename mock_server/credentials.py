"""Registered credentials per vendor. Each credential belongs to a tenant: its own, unless it
names one (so that, say, an AppCode and an AppKey pair can share a tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.model import Contract


class CredentialError(ValueError):
    """A credential that fits none of its vendor's credential kinds."""


@dataclass(frozen=True)
class Credential:
    vendor: str
    kind: str
    fields: Mapping[str, str]
    tenant: str

    def public(self) -> dict[str, str]:
        return {**self.fields, "tenant": self.tenant}


class Credentials:
    def __init__(self, contracts: Mapping[str, Contract], limit: int = 10_000) -> None:
        self._contracts = contracts
        self.limit = limit
        self._by_vendor: dict[str, dict[str, Credential]] = {name: {} for name in contracts}

    def add(self, vendor: str, credential: Mapping[str, Any]) -> str:
        """Register one credential; returns its tenant id."""
        contract = self._contracts.get(vendor)
        if contract is None:
            raise CredentialError(f"unknown vendor {vendor!r}")
        kind = contract.credential_kind(credential)
        if kind is None:
            shapes = [list(k.fields) for k in contract.credential_kinds]
            raise CredentialError(f"{vendor} credentials need string fields, one of {shapes}")
        tenant = credential.get("tenant") or credential[kind.tenant_field]
        if not isinstance(tenant, str):
            raise CredentialError("tenant is a string")
        store = self._by_vendor[vendor]
        key = credential[kind.tenant_field]
        if key not in store and len(store) >= self.limit:
            raise CredentialError(f"at most {self.limit} {vendor} credentials")
        store[key] = Credential(vendor, kind.name, {f: str(credential[f]) for f in kind.fields}, tenant)
        return tenant

    def load(self, doc: Mapping[str, Any]) -> list[str]:
        """Register ``{"vendor": [credential, ...]}``; every entry is checked before any is kept."""
        if not isinstance(doc, Mapping):
            raise CredentialError("credentials are an object of vendor -> list")
        for vendor, items in doc.items():
            contract = self._contracts.get(vendor)
            if contract is None:
                raise CredentialError(f"unknown vendor {vendor!r}")
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise CredentialError(f"{vendor}: a list of credential objects")
            if not all(contract.credential_kind(i) for i in items):
                raise CredentialError(f"{vendor}: a credential fits none of its kinds")
        return [self.add(v, c) for v, items in doc.items() for c in items]

    def add_defaults(self) -> None:
        for name, contract in self._contracts.items():
            for cred in contract.default_credentials:
                self.add(name, cred)

    def get(self, vendor: str, key: str) -> Credential | None:
        """The credential whose identifying field (an API key, an AppCode, an AppKey) is ``key``."""
        return self._by_vendor.get(vendor, {}).get(key)

    def forget(self, tenant: str) -> int:
        """Drop every credential of ``tenant``; how many there were."""
        dropped = 0
        for store in self._by_vendor.values():
            for key in [k for k, c in store.items() if c.tenant == tenant]:
                del store[key]
                dropped += 1
        return dropped

    def all(self) -> list[Credential]:
        return [c for store in self._by_vendor.values() for c in store.values()]

    def listing(self) -> dict[str, list[dict[str, str]]]:
        return {v: [c.public() for c in store.values()] for v, store in self._by_vendor.items()}
