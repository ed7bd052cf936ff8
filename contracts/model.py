"""A typed, read-only view over the JSON contracts in this package: what a ``Contract`` holds and
answers. Each vendor folder holds ``vendor.json`` (checked against ``meta.schema.json``),
``errors.json`` (checked against ``errors.schema.json``) and the JSON Schemas those name;
``loading`` reads a folder into a ``Contract``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts.service import ObjectUrls, RateLimits
from contracts.vocabulary import EndpointKind, Place, Situation


class ContractError(ValueError):
    """A contract folder that does not describe a usable vendor."""


@dataclass(frozen=True)
class ErrorCode:
    id: str
    http_status: int
    code: str | int
    message: str
    at: frozenset[Place]
    retryable: bool = False
    source: str = ""
    note: str = ""
    envelope: str | None = None
    detail: str = ""  # the detail the vendor always adds to the message, where it has room for one

    def can_occur(self, where: str) -> bool:
        return where in self.at

    def text(self, detail: str = "") -> str:
        """The message, with the case's detail where the vendor's text has a ``%s``."""
        return self.message.replace("%s", detail, 1)


@dataclass(frozen=True)
class ImageLimits:
    formats: frozenset[str]
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    binary: bool = False
    ascii_url: bool = False


@dataclass(frozen=True)
class ImageInput:
    pointer: str
    role: str
    limits: ImageLimits
    persons: int | None = None


@dataclass(frozen=True)
class CredentialKind:
    name: str
    fields: tuple[str, ...]
    tenant_field: str


@dataclass(frozen=True)
class Phase:
    status: str
    weight: float


@dataclass(frozen=True)
class Lifecycle:
    phases: tuple[Phase, ...]
    succeeded: str
    failed: str
    terminal: frozenset[str]
    canceled: str | None = None
    unknown: str | None = None
    cancelable: frozenset[str] = frozenset()

    @property
    def statuses(self) -> tuple[str, ...]:
        ends = (self.succeeded, self.failed, self.canceled, self.unknown)
        return tuple(p.status for p in self.phases) + tuple(e for e in ends if e)


@dataclass(frozen=True)
class Durations:
    """How long an operation's tasks wait and run, and which page or note says so."""

    queue_seconds: float
    run_seconds: float
    source: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    endpoint: str
    request_schema: str
    images: tuple[ImageInput, ...]
    results: int
    queue_seconds: float = 0.0
    run_seconds: float = 0.0
    same_size: tuple[tuple[str, ...], ...] = ()
    result_size_pointer: str | None = None
    result_sizes: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    parts_pointer: str | None = None
    stagger_seconds: float = 0.0
    batch_pointer: str | None = None
    batch_max: int | None = None
    options: tuple[str, ...] = ()
    answer: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    timing_source: str = ""  # where queue_seconds and run_seconds come from
    # the durations other sources give: option name -> choice -> durations
    timings: Mapping[str, Mapping[str, Durations]] = field(default_factory=dict)

    def durations(self, chosen: Mapping[str, str]) -> Durations:
        """Its durations with these vendor options chosen: an option's alternative, else its own
        (the option's default has no alternative)."""
        for option, by_choice in self.timings.items():
            alternative = by_choice.get(chosen.get(option, ""))
            if alternative is not None:
                return alternative
        return self.own_durations

    @cached_property
    def own_durations(self) -> Durations:
        """Its own durations (made once: a submit asks for them)."""
        return Durations(self.queue_seconds, self.run_seconds, self.timing_source)


@dataclass(frozen=True)
class Endpoint:
    id: str
    kind: EndpointKind
    method: str
    paths: tuple[str, ...]
    responses: Mapping[str, str]
    request_schema: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    operation_pointer: str | None = None
    request_content_type: str = "application/json"
    request_media_types: tuple[str, ...] = ()  # what a body must be declared as; () when unchecked
    carrier_fields: tuple[str, ...] = ()  # the body fields that carry the request documents as JSON text
    carrier_media_types: tuple[str, ...] = ()
    summary: str = ""
    description: str = ""
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # target endpoint id -> link
    # documented examples: "request" (as sent) and "responses" ("<status>" or "<status>:<name>" -> body)
    examples: Mapping[str, Any] = field(default_factory=dict)
    triggers: Mapping[Situation, str] = field(default_factory=dict)  # this endpoint's own rows

    def response_schema(self, status: int) -> str | None:
        """The schema file for an answer of this HTTP status (exact, then 4XX-style, then default)."""
        code = str(status)
        for key in (code, code[0] + "XX", "default"):
            if key in self.responses:
                return self.responses[key]
        return None

    def error_schema(self, status: str) -> str | None:
        """The schema of an error answered with this status: under a documented success status
        (vendors that answer errors with HTTP 200, as Aidge) the ``default`` (error) schema, else
        the status's own."""
        if status.startswith("2") and status in self.responses:
            return self.responses.get("default")
        return self.response_schema(int(status))

    def example_schema(self, key: str) -> str | None:
        """The schema file a response example follows: ``"<status>"`` the answer of that status;
        ``"<status>:<name>"`` a named error answer (``error_schema``)."""
        status, _, name = key.partition(":")
        return self.error_schema(status) if name else self.response_schema(int(status))


@dataclass(frozen=True)
class RequestErrorRule:
    error: str
    keyword: str | None = None
    pointer: str | None = None

    def matches(self, keyword: str, pointer: str) -> bool:
        return (self.keyword is None or self.keyword == keyword) and (
            self.pointer is None or self.pointer == pointer
        )


@dataclass(frozen=True)
class Option:
    name: str
    default: str
    choices: tuple[str, ...]
    description: str
    # by choice: a schema file the request documents of the operations naming the option pass too
    request_schemas: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Contract:
    """Everything the mock knows about one vendor, as its contract folder says it."""

    name: str
    title: str
    base_path: str
    client_base_path: str
    auth_scheme: str
    nonce_header: str | None
    credential_kinds: tuple[CredentialKind, ...]
    default_credentials: tuple[Mapping[str, str], ...]
    lifecycle: Lifecycle
    limits: Mapping[str, ImageLimits]
    operations: Mapping[str, Operation]
    endpoints: tuple[Endpoint, ...]
    errors: tuple[ErrorCode, ...]
    triggers: Mapping[Situation, str]
    request_errors: tuple[RequestErrorRule, ...]
    options: Mapping[str, Option]
    retention_seconds: float
    result_ttl_seconds: float
    time_zone: str
    quota: Mapping[str, int]
    raw: Mapping[str, Any]
    schemas: Mapping[str, Mapping[str, Any]]
    validators: Mapping[str, Draft202012Validator] = field(repr=False)
    # compiled (Rust) validators of the same schemas: they tell valid from invalid fast, and
    # only an invalid document goes on to the Python validator, whose errors name the rule to apply
    compiled: Mapping[str, Any] = field(default_factory=dict, repr=False)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    object_urls: ObjectUrls | None = None

    def credential_kind(self, credential: Mapping[str, Any]) -> CredentialKind | None:
        """The first kind whose fields the credential all has (as non-empty strings)."""
        for kind in self.credential_kinds:
            if all(isinstance(credential.get(f), str) and credential.get(f) for f in kind.fields):
                return kind
        return None

    def error(self, ref: str) -> ErrorCode:
        """An error by id, or else the first row with that vendor code."""
        for err in self.errors:
            if err.id == ref:
                return err
        for err in self.errors:
            if str(err.code) == ref:
                return err
        raise KeyError(f"{self.name} has no error {ref!r}")

    def limits_on(self, options: Mapping[str, str]) -> bool:
        """Whether the vendor has rate or concurrency limits and, with these option values, they
        are on (their option is not ``off``)."""
        limits = self.rate_limits
        if not limits.rules and limits.concurrency is None:
            return False
        return limits.option is None or self.option(limits.option, options) != "off"

    def trigger(self, situation: Situation, endpoint: Endpoint | None = None) -> ErrorCode:
        """The row a situation is answered with (at ``endpoint``, its own row where it has one)."""
        if endpoint is not None and situation in endpoint.triggers:
            return self.error(endpoint.triggers[situation])
        return self.error(self.triggers[situation])

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.id == endpoint_id:
                return ep
        raise KeyError(f"{self.name} has no endpoint {endpoint_id!r}")

    def operation_at(self, endpoint_id: str) -> Operation:
        """The (first) operation an endpoint serves."""
        for op in self.operations.values():
            if op.endpoint == endpoint_id:
                return op
        raise KeyError(f"{self.name} has no operation at {endpoint_id!r}")

    def validator(self, schema_file: str) -> Draft202012Validator:
        return self.validators[schema_file]

    def is_valid(self, schema_file: str, doc: Any) -> bool:
        """Whether the document follows the schema (the compiled validator; the Python one for
        text Rust cannot hold, such as a lone surrogate)."""
        try:
            return bool(self.compiled[schema_file].is_valid(doc))
        except ValueError:
            return not any(True for _ in self.validators[schema_file].iter_errors(doc))

    def violations(self, schema_file: str, doc: Any) -> Iterator[ValidationError]:
        """The document's violations of a schema (none at all, fast, for a valid one)."""
        if self.is_valid(schema_file, doc):
            return iter(())
        found: Iterator[ValidationError] = self.validators[schema_file].iter_errors(doc)
        return found

    def request_violation(self, violations: Iterator[ValidationError]) -> tuple[ErrorCode, str, str] | None:
        """(error, keyword, JSON pointer) of the first violation a rule covers, or None."""
        found = [(_keyword(v), _pointer(v)) for v in violations]
        if not found:
            return None
        for rule in self.request_errors:
            for kw, ptr in found:
                if rule.matches(kw, ptr):
                    return self.error(rule.error), kw, ptr
        kw, ptr = found[0]
        return self.error(self.request_errors[-1].error), kw, ptr

    def option(self, name: str, chosen: Mapping[str, str]) -> str:
        return chosen.get(name, self.options[name].default)

    def request_schemas(self, operation: Operation, chosen: Mapping[str, str]) -> tuple[str, ...]:
        """The schema files a request document of ``operation`` passes, with these options chosen:
        its request schema, then what each of its options adds for the value chosen."""
        extra = (self.options[n].request_schemas.get(self.option(n, chosen)) for n in operation.options)
        return (operation.request_schema, *(f for f in extra if f))


def _keyword(violation: ValidationError) -> str:
    return str(violation.validator)


def _pointer(violation: ValidationError) -> str:
    parts = [str(p) for p in violation.absolute_path]
    if violation.validator == "required" and isinstance(violation.instance, dict):
        missing = [p for p in violation.validator_value if p not in violation.instance]
        if missing:
            parts.append(str(missing[0]))
    return "".join("/" + p for p in parts)


@cache
def _tokens(pointer: str) -> tuple[tuple[str, int], ...]:
    """A JSON pointer's reference tokens, unescaped, each with its array index (-1 if none).
    Pointers come from contracts: few, parsed once."""
    if not pointer:
        return ()
    keys = [raw.replace("~1", "/").replace("~0", "~") for raw in pointer.lstrip("/").split("/")]
    return tuple((key, int(key) if key.isdigit() else -1) for key in keys)


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None where the path does not exist."""
    cur = doc
    for key, index in _tokens(pointer):
        if isinstance(cur, dict):
            cur = cur.get(key)
            if cur is None:
                return None
        elif isinstance(cur, list) and 0 <= index < len(cur):
            cur = cur[index]
        else:
            return None
    return cur
