"""What a vendor's service enforces beyond its requests' shapes: its documented rate and
concurrency limits (``rate_limits``), and the temporary storage its clients upload files to
(``object_urls``). Part of the contract model: imports nothing of ours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateRule:
    """At most ``calls`` calls to ``endpoints`` in any ``per_seconds``, per tenant (and per
    operation the call names, when ``per_operation``)."""

    name: str
    endpoints: frozenset[str]
    calls: int
    per_seconds: float
    per_operation: bool = False
    source: str = ""


@dataclass(frozen=True)
class Concurrency:
    """At most ``tasks`` tasks of ``operations`` running at once per tenant (per operation when
    ``per_operation``); a task beyond that waits in the queue until one of them ends."""

    tasks: int
    operations: frozenset[str]
    per_operation: bool = False
    source: str = ""


@dataclass(frozen=True)
class RateLimits:
    """The vendor's documented limits, on unless its ``option`` is set to ``off``."""

    rules: tuple[RateRule, ...] = ()
    concurrency: Concurrency | None = None
    option: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ObjectUrls:
    """URLs (``<scheme>://<key>``) of files a tenant uploaded to the vendor's own storage: they
    resolve for that tenant only, for ``ttl_seconds``, and only on requests carrying
    ``resolve_header`` (name, value) where the vendor asks for one."""

    scheme: str
    ttl_seconds: float
    resolve_header: tuple[str, str] | None = None
    policy_seconds: float = 300.0  # how long an upload policy stays usable
    bucket: str = ""
