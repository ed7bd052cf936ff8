"""Fault rules set through the admin API or a scenario, with their counters: "the next N requests
of tenant T to endpoint E get error C", or "with probability p" (seeded), after letting some
through. What a rule injects is checked against the contracts before it is kept (``faults``)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mock_server.store.changes import Changes, Tracker


@dataclass(frozen=True)
class RuleSpec:
    """What an admin asked for: which requests (vendor, tenant, endpoint id or kind), how often
    (``times``, ``probability`` with its ``seed``, ``after`` passes, counted per tenant or in all),
    and the fault (``fault``: error, at, network, delay)."""

    fault: Mapping[str, Any]
    vendor: str | None = None
    tenant: str | None = None
    endpoint: str | None = None
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    per_tenant: bool = False
    after: int = 0

    def matches(self, vendor: str, tenant: str, endpoint: str, kind: str) -> bool:
        return (
            (self.vendor is None or self.vendor == vendor)
            and (self.tenant is None or self.tenant == tenant)
            and (self.endpoint is None or self.endpoint in (endpoint, kind))
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "tenant": self.tenant,
            "endpoint": self.endpoint,
            "times": self.times,
            "per_tenant": self.per_tenant,
            "after": self.after,
            "probability": self.probability,
            "seed": self.seed,
            **self.fault,
        }


@dataclass
class Rule:
    """A kept rule: its id and spec, how often it fired, and (privately) its counters."""

    id: str
    spec: RuleSpec
    hits: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _used: dict[str | None, int] = field(default_factory=dict, repr=False)
    _passed: dict[str | None, int] = field(default_factory=dict, repr=False)

    def fire(self, tenant: str) -> bool:
        """Whether this request gets the fault (counting it, or its pass)."""
        key = tenant if self.spec.per_tenant else None
        if self.spec.times is not None and self._used.get(key, 0) >= self.spec.times:
            return False
        if self._passed.get(key, 0) < self.spec.after:
            self._passed[key] = self._passed.get(key, 0) + 1
            return False
        if self.spec.probability is not None and self._rng.random() >= self.spec.probability:
            return False
        self._used[key] = self._used.get(key, 0) + 1
        self.hits += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec.as_dict(), "hits": self.hits}

    def to_doc(self) -> dict[str, Any]:
        version, internal, gauss = self._rng.getstate()
        spec = asdict(self.spec)
        fault = dict(spec.pop("fault"))
        return {
            "id": self.id,
            **spec,
            "spec": fault,
            "hits": self.hits,
            "rng": [version, list(internal), gauss],
            "used": [[k, v] for k, v in self._used.items()],
            "passed": [[k, v] for k, v in self._passed.items()],
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Rule:
        rng = random.Random()
        version, internal, gauss = doc["rng"]
        rng.setstate((version, tuple(internal), gauss))
        names = ("vendor", "tenant", "endpoint", "times", "probability", "seed", "per_tenant", "after")
        return cls(
            id=doc["id"],
            spec=RuleSpec(fault=doc["spec"], **{name: doc[name] for name in names}),
            hits=doc["hits"],
            _rng=rng,
            _used={k: v for k, v in doc["used"]},
            _passed={k: v for k, v in doc["passed"]},
        )


class RuleLimit(ValueError):
    """More rules than the store keeps."""


class MemoryRules:
    """The rules in the order they were added; at most ``limit`` of them. A rule without a seed
    draws from the server's ``seed`` and its place in the order."""

    def __init__(self, limit: int = 1000, seed: int | None = None) -> None:
        self.limit = limit
        self._seed = seed
        self._rules: list[Rule] = []
        self._count = 0
        self._tracker = Tracker()

    async def add(self, spec: RuleSpec) -> Rule:
        if len(self._rules) >= self.limit:
            raise RuleLimit(f"at most {self.limit} fault rules")
        self._count += 1
        seed = spec.seed if spec.seed is not None else (self._seed or 0) * 1_000_003 + self._count
        rule = Rule(id=f"rule-{self._count}", spec=spec, _rng=random.Random(seed))
        self._rules.append(rule)
        self._tracker.mark(rule.id)
        return rule

    async def replace(self, scope: str | None, specs: Iterable[RuleSpec]) -> list[Rule]:
        """Put ``specs`` in place of the rules of exactly this scope (a tenant, or ``None``: the
        rules for every tenant)."""
        specs = list(specs)
        kept = [r for r in self._rules if r.spec.tenant != scope]
        if len(kept) + len(specs) > self.limit:
            raise RuleLimit(f"at most {self.limit} fault rules")
        self._keep(kept)
        return [await self.add(spec) for spec in specs]

    async def pick(self, vendor: str, tenant: str, endpoint: str, kind: str) -> Rule | None:
        """The first rule that applies to this request and fires."""
        for rule in self._rules:
            if rule.spec.matches(vendor, tenant, endpoint, kind):
                self._tracker.mark(rule.id)  # its counters move, whether it fires or not
                if rule.fire(tenant):
                    return rule
        return None

    async def rules(self, tenant: str | None = None) -> list[Rule]:
        """Every rule, or those that apply to one tenant (its own and those for every tenant)."""
        return [r for r in self._rules if tenant is None or r.spec.tenant in (None, tenant)]

    async def clear(self, tenant: str | None = None) -> None:
        """Drop every rule, or one tenant's own."""
        self._keep([r for r in self._rules if tenant is not None and r.spec.tenant != tenant])

    async def changes(self) -> Changes[dict[str, Any]]:
        """The rules added or changed (as documents, counters and all) and the ids gone since the
        last call; the first call: every rule (and from then on, changes are noted)."""
        by_id = {rule.id: rule for rule in self._rules}

        def doc(rule_id: str) -> dict[str, Any] | None:
            rule = by_id.get(rule_id)
            return None if rule is None else rule.to_doc()

        return self._tracker.take(lambda: by_id, doc)

    def _keep(self, rules: list[Rule]) -> None:
        """Keep only ``rules`` (of those there are)."""
        kept = {id(rule) for rule in rules}
        for rule in self._rules:
            if id(rule) not in kept:
                self._tracker.drop(rule.id)
        self._rules = rules

    async def restore(self, docs: Iterable[Mapping[str, Any]], vendors: Iterable[str]) -> None:
        """Keep saved rules as they were, not as changes (those for a vendor not served stay
        out); ids go on after theirs."""
        served = set(vendors)
        for doc in docs:
            rule = Rule.from_doc(doc)
            self._count = max(self._count, int(rule.id.rpartition("-")[2] or 0))
            if rule.spec.vendor is None or rule.spec.vendor in served:
                self._rules.append(rule)
