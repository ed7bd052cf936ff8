"""Which documented error or network fault a request gets, and why.

Three ways in, checked in this order:

1. the ``X-Mock-Fault`` request header, a one-off override;
2. fault rules set through the admin API or a scenario (kept in the store's ``FaultRules``);
3. magic inputs: a ``mock-error=<id>`` marker anywhere in a string of the request body (an image
   URL, typically), so an untouched official SDK can reach every error.

A fault is either a vendor error (from the contract's table, at the place it shows: ``place``) or
a network fault (``delay`` before answering, ``reset`` of the connection, ``truncate`` of the body).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from contracts.model import Contract, ErrorCode
from contracts.vocabulary import (
    AFTER_SUBMIT,
    NETWORK_FAULTS,
    EndpointKind,
    NetworkFault,
    Place,
    as_place,
    as_situation,
)
from mock_server import kinds
from mock_server.store.rules import RuleSpec

HEADER = "x-mock-fault"
MARKER = re.compile(r"mock-error[=:/]([A-Za-z0-9_.\-]+)")
FAULT_FIELDS = frozenset({"error", "at", "network", "delay", "delay_ms"})
# What a fault rule says besides its fault: which requests, how often.
RULE_FIELDS = frozenset(
    {"vendor", "tenant", "endpoint", "times", "probability", "seed", "per_tenant", "after"}
)


class FaultSpecError(ValueError):
    """A fault header or rule that names something the contract does not have."""


@dataclass(frozen=True)
class Fault:
    error: ErrorCode | None = None
    at: Place | None = None
    network: NetworkFault | None = None
    delay: float = 0.0
    source: str = ""  # header, marker, deferred, or the id of the rule that fired

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": self.error.id if self.error else None,
            "at": self.at,
            "network": self.network,
            "delay_ms": round(self.delay * 1000),
            "source": self.source,
        }


def place(error: ErrorCode, kind: EndpointKind, at: str | None = None) -> Place:
    """Where an error met at an endpoint of ``kind`` (injected there, or found in a submit's
    images) shows itself: the one rule for every failure.

    At that endpoint when the error can occur there; for a submit, else as a failed task, else on
    the task's next query or cancel. An explicit ``at`` wins when it makes sense for ``kind``.
    """
    if kind == "unknown":
        raise FaultSpecError(f"{error.id} cannot be placed on a path the contract does not have")
    if at is not None:
        if at == kind or (kind == "submit" and at in AFTER_SUBMIT):
            return as_place(at)
        raise FaultSpecError(f"{error.id} cannot be placed at {at!r} from a {kind} request")
    if error.can_occur(kind):
        return kind
    if kind == "submit":
        for later in AFTER_SUBMIT:
            if error.can_occur(later):
                return later
    return kind


def parse_header(value: str, contract: Contract, kind: EndpointKind) -> Fault:
    """``X-Mock-Fault: InvalidPerson`` or ``error=InvalidPerson; at=task; delay=200`` or ``network=reset``."""
    spec: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        key, sep, val = part.partition("=")
        if not sep:
            key, val = "error", key
        spec[key.strip().lower()] = val.strip()
    return build(spec, contract, kind, source="header")


def build(spec: Mapping[str, Any], contract: Contract, kind: EndpointKind, source: str) -> Fault:
    unknown = set(spec) - FAULT_FIELDS
    if unknown:
        raise FaultSpecError(kinds.unknown("fault field", unknown, FAULT_FIELDS))
    error = _error(contract, spec.get("error"))
    network = spec.get("network")
    if network is not None and network not in NETWORK_FAULTS:
        raise FaultSpecError(str(kinds.KindError("network", kinds.one_of(NETWORK_FAULTS), network)))
    network_fault = cast(NetworkFault | None, network)
    try:
        delay_ms = float(spec.get("delay_ms", spec.get("delay", 0)) or 0)
    except (TypeError, ValueError) as exc:
        raise FaultSpecError("delay is a number of milliseconds") from exc
    if error is None and network is None and delay_ms <= 0:
        raise FaultSpecError("a fault needs an error, a network fault or a delay")
    at = place(error, kind, spec.get("at")) if error else None
    return Fault(error=error, at=at, network=network_fault, delay=max(delay_ms, 0) / 1000, source=source)


def _error(contract: Contract, ref: Any) -> ErrorCode | None:
    """An error by id or code, or ``@situation`` for the vendor's error for a trigger."""
    if ref is None or ref == "":
        return None
    try:
        text = str(ref)
        return contract.trigger(as_situation(text[1:])) if text.startswith("@") else contract.error(text)
    except (KeyError, ValueError) as exc:
        raise FaultSpecError(
            f"{contract.name} has no error {ref!r}: its errors are the ids and codes of "
            f"GET /_mock/contracts/{contract.name} (errors), or @situation"
        ) from exc


def find_marker(values: Iterable[str], contract: Contract, kind: EndpointKind) -> Fault | None:
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


def marked_item(fault: Fault | None, items: Iterable[Any], contract: Contract, kind: EndpointKind) -> int:
    """Which item of a batch a task fault hits: the one carrying the magic marker when the fault
    came from one, else the first."""
    if fault is not None and fault.source == "marker":
        for i, item in enumerate(items):
            if find_marker(strings(item), contract, kind):
                return i
    return 0


def parse_rule(doc: Mapping[str, Any], contracts: Mapping[str, Contract]) -> RuleSpec:
    """An admin fault rule as a spec, checked against the contracts it can apply to."""
    body = dict(doc)
    vendor = body.pop("vendor", None)
    tenant = body.pop("tenant", None)
    endpoint = body.pop("endpoint", None)
    times = body.pop("times", None)
    probability = body.pop("probability", None)
    seed = body.pop("seed", None)
    per_tenant = body.pop("per_tenant", False)
    after = body.pop("after", 0)
    if vendor is not None and vendor not in contracts:
        raise FaultSpecError(f"unknown vendor {vendor!r}: the vendors are {', '.join(sorted(contracts))}")
    for name, value in (("tenant", tenant), ("endpoint", endpoint)):
        if value is not None and not isinstance(value, str):
            raise FaultSpecError(f"{name} must be a string, not {kinds.shown(value)}")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise FaultSpecError(f"seed must be a whole number, not {kinds.shown(seed)}")
    if not isinstance(per_tenant, bool):
        raise FaultSpecError(f"per_tenant must be true or false, not {kinds.shown(per_tenant)}")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise FaultSpecError("times is a whole number >= 1")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise FaultSpecError("after is a whole number >= 0")
    if probability is not None and (not isinstance(probability, (int, float)) or not 0 <= probability <= 1):
        raise FaultSpecError("probability is a number from 0 to 1")
    for name in [vendor] if vendor else list(contracts):
        _check(body, contracts[name], endpoint)
    return RuleSpec(
        fault=body,
        vendor=vendor,
        tenant=tenant,
        endpoint=endpoint,
        times=times,
        probability=probability,
        seed=seed,
        per_tenant=per_tenant,
        after=after,
    )


def _check(spec: Mapping[str, Any], contract: Contract, endpoint: str | None) -> None:
    names = {e.kind for e in contract.endpoints} | {e.id for e in contract.endpoints}
    if endpoint is not None and endpoint not in names:
        listed = ", ".join(sorted(names))
        raise FaultSpecError(f"{contract.name} has no endpoint {endpoint!r}: its endpoints are {listed}")
    kind: EndpointKind = "submit"
    if endpoint is not None:
        kind = next(e.kind for e in contract.endpoints if endpoint in (e.id, e.kind))
    build(spec, contract, kind, source="check")
