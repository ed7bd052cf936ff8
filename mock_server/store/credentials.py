"""Registered credentials per vendor. Each credential belongs to a tenant: its own, unless it
names one (so that, say, an AppCode and an AppKey pair can share a tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.model import Contract
from mock_server.store.changes import Changes, Tracker


class CredentialError(ValueError):
    """A credential that fits none of its vendor's credential kinds."""


@dataclass(frozen=True)
class Credential:
    vendor: str
    fields: Mapping[str, str]
    tenant: str

    def public(self) -> dict[str, str]:
        return {**self.fields, "tenant": self.tenant}

    def to_doc(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "fields": dict(self.fields), "tenant": self.tenant}


def check(contracts: Mapping[str, Contract], doc: Any) -> list[tuple[str, Credential]]:
    """``{"vendor": [credential, ...]}`` as credentials, each keyed by its identifying field (an
    API key, an AppCode, an AppKey); CredentialError for anything that does not fit."""
    if not isinstance(doc, Mapping):
        raise CredentialError("credentials must be an object of {vendor: [credential, ...]}")
    made = []
    for vendor, items in doc.items():
        contract = contracts.get(vendor)
        if contract is None:
            raise CredentialError(f"unknown vendor {vendor!r}: the vendors are {', '.join(contracts)}")
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise CredentialError(f"{vendor} must be a list of credential objects")
        for item in items:
            made.append(_one(contract, item))
    return made


def _one(contract: Contract, credential: Mapping[str, Any]) -> tuple[str, Credential]:
    kind = contract.credential_kind(credential)
    if kind is None:
        shapes = " or ".join("{" + ", ".join(k.fields) + "}" for k in contract.credential_kinds)
        raise CredentialError(f"a {contract.name} credential is {shapes}, each a string")
    tenant = credential.get("tenant") or credential[kind.tenant_field]
    if not isinstance(tenant, str):
        raise CredentialError(f"a {contract.name} credential's tenant must be a string")
    fields = {f: str(credential[f]) for f in kind.fields}
    return credential[kind.tenant_field], Credential(contract.name, fields, tenant)


class MemoryCredentials:
    """At most ``limit`` credentials per vendor."""

    def __init__(self, contracts: Mapping[str, Contract], limit: int = 10_000) -> None:
        self._contracts = contracts
        self.limit = limit
        self._by_vendor: dict[str, dict[str, Credential]] = {name: {} for name in contracts}
        self._tracker = Tracker()  # keys: "vendor key"

    async def load(self, doc: Any) -> list[str]:
        """Register ``{"vendor": [credential, ...]}``, all or nothing: every entry is checked, and
        the new keys counted against each vendor's bound, before any is kept. Returns each one's
        tenant."""
        made = check(self._contracts, doc)
        new: dict[str, set[str]] = {}
        for key, credential in made:
            if key not in self._by_vendor[credential.vendor]:
                new.setdefault(credential.vendor, set()).add(key)
        for vendor, keys in new.items():
            if len(self._by_vendor[vendor]) + len(keys) > self.limit:
                raise CredentialError(f"at most {self.limit} {vendor} credentials")
        for key, credential in made:
            self._by_vendor[credential.vendor][key] = credential
            self._tracker.mark(f"{credential.vendor} {key}")
        return [credential.tenant for _, credential in made]

    async def get(self, vendor: str, key: str) -> Credential | None:
        """The credential whose identifying field (an API key, an AppCode, an AppKey) is ``key``."""
        return self._by_vendor.get(vendor, {}).get(key)

    async def forget(self, tenant: str) -> int:
        """Drop every credential of ``tenant``; how many there were."""
        dropped = 0
        for store in self._by_vendor.values():
            for key in [k for k, c in store.items() if c.tenant == tenant]:
                self._tracker.drop(f"{store[key].vendor} {key}")
                del store[key]
                dropped += 1
        return dropped

    async def changes(self) -> Changes[dict[str, Any]]:
        """The credentials registered (as documents) and those forgotten since the last call;
        the first call: every credential (and from then on, changes are noted)."""

        def everything() -> list[str]:
            return [f"{vendor} {key}" for vendor, store in self._by_vendor.items() for key in store]

        def doc(name: str) -> dict[str, Any] | None:
            vendor, _, key = name.partition(" ")
            credential = self._by_vendor.get(vendor, {}).get(key)
            return None if credential is None else credential.to_doc()

        return self._tracker.take(everything, doc)

    async def listing(self) -> dict[str, list[dict[str, str]]]:
        return {v: [c.public() for c in store.values()] for v, store in self._by_vendor.items()}


def defaults(contracts: Mapping[str, Contract]) -> dict[str, list[dict[str, str]]]:
    """Every vendor's documented default credentials, as a document ``load`` takes."""
    return {name: [dict(c) for c in contract.default_credentials] for name, contract in contracts.items()}
