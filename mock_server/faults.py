"""Which documented error or network fault a request gets, and why.

Three ways in, checked in this order:

1. the ``X-Mock-Fault`` request header, a one-off override;
2. fault rules set through the admin API or a scenario: "the next N requests of tenant T to
   endpoint E get error C", or "with probability p" (seeded);
3. magic inputs: a ``mock-error=<id>`` marker anywhere in a string of the request body (an image
   URL, typically), so an untouched official SDK can reach every error.

A fault is either a vendor error (from the contract's table, at the place it occurs) or a network
fault (``delay`` before answering, ``reset`` of the connection, ``truncate`` of the body).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.model import Contract, ErrorCode

HEADER = "x-mock-fault"
NETWORK = ("reset", "truncate")
MARKER = re.compile(r"mock-error[=:/]([A-Za-z0-9_.\-]+)")
AFTER_SUBMIT = ("task", "query", "cancel")


class FaultSpecError(ValueError):
    """A fault header or rule that names something the contract does not have."""


@dataclass(frozen=True)
class Fault:
    error: ErrorCode | None = None
    at: str | None = None
    network: str | None = None
    delay: float = 0.0
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": self.error.id if self.error else None,
            "at": self.at,
            "network": self.network,
            "delay_ms": round(self.delay * 1000),
            "source": self.source,
        }


def place(error: ErrorCode, kind: str, at: str | None = None) -> str:
    """Where an error injected at an endpoint of ``kind`` shows itself.

    At that endpoint when the error can occur there; for a submit, else as a failed task, else on
    the task's next query or cancel. An explicit ``at`` wins when it makes sense for ``kind``.
    """
    if at is not None:
        if at == kind or (kind == "submit" and at in AFTER_SUBMIT):
            return at
        raise FaultSpecError(f"{error.id} cannot be placed at {at!r} from a {kind} request")
    if error.can_occur(kind):
        return kind
    if kind == "submit":
        for later in AFTER_SUBMIT:
            if error.can_occur(later):
                return later
    return kind


def parse_header(value: str, contract: Contract, kind: str) -> Fault:
    """``X-Mock-Fault: InvalidPerson`` or ``error=InvalidPerson; at=task; delay=200`` or ``network=reset``."""
    spec: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        key, sep, val = part.partition("=")
        if not sep:
            key, val = "error", key
        spec[key.strip().lower()] = val.strip()
    return build(spec, contract, kind, source="header")


def build(spec: dict[str, Any], contract: Contract, kind: str, source: str) -> Fault:
    unknown = set(spec) - {"error", "at", "network", "delay", "delay_ms"}
    if unknown:
        raise FaultSpecError(f"unknown fault fields {sorted(unknown)}")
    error = _error(contract, spec.get("error"))
    network = spec.get("network")
    if network is not None and network not in NETWORK:
        raise FaultSpecError(f"network must be one of {NETWORK}")
    try:
        delay_ms = float(spec.get("delay_ms", spec.get("delay", 0)) or 0)
    except (TypeError, ValueError) as exc:
        raise FaultSpecError("delay is a number of milliseconds") from exc
    if error is None and network is None and delay_ms <= 0:
        raise FaultSpecError("a fault needs an error, a network fault or a delay")
    at = place(error, kind, spec.get("at")) if error else None
    return Fault(error=error, at=at, network=network, delay=max(delay_ms, 0) / 1000, source=source)


def _error(contract: Contract, ref: Any) -> ErrorCode | None:
    """An error by id or code, or ``@situation`` for the vendor's error for a trigger."""
    if ref is None or ref == "":
        return None
    try:
        text = str(ref)
        return contract.trigger(text[1:]) if text.startswith("@") else contract.error(text)
    except KeyError as exc:
        raise FaultSpecError(f"{contract.name} has no error {ref!r}") from exc


def find_marker(values: Iterable[str], contract: Contract, kind: str) -> Fault | None:
    for text in values:
        match = MARKER.search(text)
        if match:
            error = _error(contract, match.group(1))
            if error is not None:
                return Fault(error=error, at=place(error, kind), source="marker")
    return None


def strings(doc: Any) -> Iterable[str]:
    """Every string in a JSON document (keys excluded), however deep."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@dataclass
class Rule:
    """An admin fault rule. ``after`` lets that many matching requests through first; ``times``
    counts down; ``probability`` draws from its own seeded RNG."""

    id: str
    spec: dict[str, Any]
    vendor: str | None = None
    tenant: str | None = None
    endpoint: str | None = None
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    per_tenant: bool = False
    after: int = 0
    hits: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _used: dict[str | None, int] = field(default_factory=dict, repr=False)
    _passed: dict[str | None, int] = field(default_factory=dict, repr=False)

    def applies(self, vendor: str, tenant: str | None, endpoint: str, kind: str) -> bool:
        return (
            (self.vendor is None or self.vendor == vendor)
            and (self.tenant is None or self.tenant == tenant)
            and (self.endpoint is None or self.endpoint in (endpoint, kind))
            and (self.times is None or self._used.get(self._key(tenant), 0) < self.times)
        )

    def fire(self, tenant: str | None) -> bool:
        key = self._key(tenant)
        if self._passed.get(key, 0) < self.after:
            self._passed[key] = self._passed.get(key, 0) + 1
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self._used[key] = self._used.get(key, 0) + 1
        self.hits += 1
        return True

    def _key(self, tenant: str | None) -> str | None:
        return tenant if self.per_tenant else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "tenant": self.tenant,
            "endpoint": self.endpoint,
            "times": self.times,
            "per_tenant": self.per_tenant,
            "after": self.after,
            "probability": self.probability,
            "seed": self.seed,
            "hits": self.hits,
            **self.spec,
        }


class FaultBook:
    """The admin fault rules, in the order they were added; at most ``limit`` of them."""

    def __init__(self, limit: int = 1000, seed: int | None = None) -> None:
        self.limit = limit
        self._seed = seed
        self._rules: list[Rule] = []
        self._count = 0

    def add(self, rule: dict[str, Any], contracts: dict[str, Contract]) -> Rule:
        body = dict(rule)
        vendor = body.pop("vendor", None)
        tenant = body.pop("tenant", None)
        endpoint = body.pop("endpoint", None)
        times = body.pop("times", None)
        probability = body.pop("probability", None)
        seed = body.pop("seed", None)
        per_tenant = bool(body.pop("per_tenant", False))
        after = body.pop("after", 0)
        if vendor is not None and vendor not in contracts:
            raise FaultSpecError(f"unknown vendor {vendor!r}")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise FaultSpecError("times is a whole number >= 1")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise FaultSpecError("after is a whole number >= 0")
        if probability is not None and (
            not isinstance(probability, (int, float)) or not 0 <= probability <= 1
        ):
            raise FaultSpecError("probability is a number from 0 to 1")
        for name in [vendor] if vendor else list(contracts):
            self._check(body, contracts[name], endpoint)
        if len(self._rules) >= self.limit:
            raise FaultSpecError(f"at most {self.limit} fault rules")
        self._count += 1
        rule_seed = seed if seed is not None else (self._seed or 0) * 1_000_003 + self._count
        made = Rule(
            id=f"rule-{self._count}",
            spec=body,
            vendor=vendor,
            tenant=tenant,
            endpoint=endpoint,
            times=times,
            probability=probability,
            seed=seed,
            per_tenant=per_tenant,
            after=after,
            _rng=random.Random(rule_seed),
        )
        self._rules.append(made)
        return made

    def restore(self, rule: Rule) -> None:
        """Keep a rule as it was (from a state file), ids going on after it."""
        self._rules.append(rule)
        self._count = max(self._count, int(rule.id.rpartition("-")[2] or 0))

    def pick(self, contract: Contract, tenant: str | None, endpoint: str, kind: str) -> Fault | None:
        for rule in self._rules:
            if rule.applies(contract.name, tenant, endpoint, kind) and rule.fire(tenant):
                return build(rule.spec, contract, kind, source=rule.id)
        return None

    def rules(self, tenant: str | None = None) -> list[Rule]:
        return [r for r in self._rules if tenant is None or r.tenant in (None, tenant)]

    def clear(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._rules.clear()
        else:
            self.clear_scope(tenant)

    def clear_scope(self, tenant: str | None) -> None:
        """Drop the rules of exactly this scope (``None``: the rules for every tenant)."""
        self._rules = [r for r in self._rules if r.tenant != tenant]

    @staticmethod
    def _check(spec: dict[str, Any], contract: Contract, endpoint: str | None) -> None:
        kinds = {e.kind for e in contract.endpoints}
        ids = {e.id for e in contract.endpoints}
        if endpoint is not None and endpoint not in kinds | ids:
            raise FaultSpecError(f"{contract.name} has no endpoint {endpoint!r}")
        kind = endpoint if endpoint in kinds else None
        if kind is None and endpoint is not None:
            kind = contract.endpoint(endpoint).kind
        build(spec, contract, kind or "submit", source="check")
