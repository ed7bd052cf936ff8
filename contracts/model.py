"""A typed, read-only view over the JSON contracts in this package.

Each vendor folder holds ``vendor.json`` (checked against ``meta.schema.json``), ``errors.json``
(checked against ``errors.schema.json``) and the JSON Schemas those name. Loading validates all of
it, resolves the cross references and compiles every schema once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

KINDS = ("submit", "query", "cancel", "list", "process")


class ContractError(ValueError):
    """A contract folder that does not describe a usable vendor."""


@dataclass(frozen=True)
class ErrorCode:
    id: str
    http_status: int
    code: str | int
    message: str
    at: frozenset[str]
    retryable: bool = False
    source: str = ""
    note: str = ""
    envelope: str | None = None

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
    description: str = ""


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
    other: tuple[str, ...] = ()

    @property
    def statuses(self) -> tuple[str, ...]:
        ends = (self.succeeded, self.failed, self.canceled, self.unknown)
        return tuple(p.status for p in self.phases) + tuple(e for e in ends if e)


@dataclass(frozen=True)
class Operation:
    name: str
    endpoint: str
    request_schema: str
    images: tuple[ImageInput, ...]
    render: str
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


@dataclass(frozen=True)
class Endpoint:
    id: str
    kind: str
    method: str
    paths: tuple[str, ...]
    responses: Mapping[str, str]
    request_schema: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    operation_pointer: str | None = None
    request_content_type: str = "application/json"
    carrier_fields: tuple[str, ...] = ()  # the body fields that carry the request documents as JSON text
    carrier_media_types: tuple[str, ...] = ()
    summary: str = ""
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # target endpoint id -> link
    # documented examples: "request" (as sent) and "responses" ("<status>" or "<status>:<name>" -> body)
    examples: Mapping[str, Any] = field(default_factory=dict)

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
    triggers: Mapping[str, str]
    request_errors: tuple[RequestErrorRule, ...]
    options: Mapping[str, Option]
    retention_seconds: float
    result_ttl_seconds: float
    time_zone: str
    quota: Mapping[str, int]
    raw: Mapping[str, Any]
    schemas: Mapping[str, Mapping[str, Any]]
    validators: Mapping[str, Draft202012Validator] = field(repr=False)
    # compiled (Rust) validators of the same schemas: they tell valid from invalid ~20x faster, and
    # only an invalid document goes on to the Python validator, whose errors name the rule to apply
    compiled: Mapping[str, Any] = field(default_factory=dict, repr=False)

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

    def trigger(self, situation: str) -> ErrorCode:
        return self.error(self.triggers[situation])

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.id == endpoint_id:
                return ep
        raise KeyError(f"{self.name} has no endpoint {endpoint_id!r}")

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
        return self.validators[schema_file].iter_errors(doc)

    def request_error(self, violations: Iterator[ValidationError]) -> ErrorCode | None:
        """The error the vendor answers for the first schema violation a rule covers."""
        found = self.request_violation(violations)
        return found[0] if found else None

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


def _keyword(violation: ValidationError) -> str:
    return str(violation.validator)


def _pointer(violation: ValidationError) -> str:
    parts = [str(p) for p in violation.absolute_path]
    if violation.validator == "required" and isinstance(violation.instance, dict):
        missing = [p for p in violation.validator_value if p not in violation.instance]
        if missing:
            parts.append(str(missing[0]))
    return "".join("/" + p for p in parts)


def _read_json(folder: Any, name: str) -> Any:
    try:
        return json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read {name}: {exc}") from exc


@cache
def _meta_validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    root = resources.files(__package__)
    return (
        Draft202012Validator(_read_json(root, "meta.schema.json")),
        Draft202012Validator(_read_json(root, "errors.schema.json")),
    )


def _check(validator: Draft202012Validator, doc: Any, what: str) -> None:
    problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if problems:
        p = problems[0]
        where = "/".join(str(x) for x in p.absolute_path) or "(top)"
        raise ContractError(f"{what}: {where}: {p.message}")


def vendor_names() -> tuple[str, ...]:
    """Every vendor folder shipped in this package."""
    root = resources.files(__package__)
    return tuple(sorted(e.name for e in root.iterdir() if e.is_dir() and e.joinpath("vendor.json").is_file()))


@cache
def load(name: str) -> Contract:
    """Load, validate and compile one vendor's contract (once per process)."""
    folder = resources.files(__package__).joinpath(name)
    meta, errors_meta = _meta_validators()
    raw = _read_json(folder, "vendor.json")
    _check(meta, raw, f"{name}/vendor.json")
    errors_doc = _read_json(folder, "errors.json")
    _check(errors_meta, errors_doc, f"{name}/errors.json")
    return _build(name, folder, raw, errors_doc)


def _build(name: str, folder: Any, raw: dict[str, Any], errors_doc: dict[str, Any]) -> Contract:
    if raw["name"] != name:
        raise ContractError(f"{name}/vendor.json names itself {raw['name']!r}")
    errors = tuple(_error(e) for e in errors_doc["errors"])
    ids = [e.id for e in errors]
    if len(set(ids)) != len(ids):
        raise ContractError(f"{name}/errors.json repeats an id")
    limits = {k: _limits(v) for k, v in raw["limits"].items()}
    endpoints = tuple(_endpoint(e) for e in raw["endpoints"])
    operations = {k: _operation(k, v, limits, name) for k, v in raw["operations"].items()}
    lifecycle = _lifecycle(raw["lifecycle"])
    schema_files = {op.request_schema for op in operations.values()}
    for ep in endpoints:
        schema_files.update(ep.responses.values())
        if ep.request_schema:
            schema_files.add(ep.request_schema)
    schemas = {f: _read_json(folder, f) for f in sorted(schema_files)}
    validators = {}
    for f, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        validators[f] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    contract = Contract(
        name=name,
        title=raw["title"],
        base_path=raw["base_path"],
        client_base_path=raw.get("client_base_path", raw["base_path"]),
        auth_scheme=raw["auth"]["scheme"],
        nonce_header=raw["auth"].get("nonce_header"),
        credential_kinds=tuple(
            CredentialKind(k["name"], tuple(k["fields"]), k["tenant_field"]) for k in raw["auth"]["kinds"]
        ),
        default_credentials=tuple(MappingProxyType(d) for d in raw["auth"]["defaults"]),
        lifecycle=lifecycle,
        limits=MappingProxyType(limits),
        operations=MappingProxyType(operations),
        endpoints=endpoints,
        errors=errors,
        triggers=MappingProxyType(dict(raw["triggers"])),
        request_errors=tuple(RequestErrorRule(**r) for r in raw["request_errors"]),
        options=MappingProxyType(
            {
                k: Option(k, v["default"], tuple(v["choices"]), v["description"])
                for k, v in raw.get("options", {}).items()
            }
        ),
        retention_seconds=float(raw["retention_seconds"]),
        result_ttl_seconds=float(raw["result_ttl_seconds"]),
        time_zone=raw.get("time_zone", "+00:00"),
        quota=MappingProxyType(dict(raw.get("quota", {}))),
        raw=MappingProxyType(raw),
        schemas=MappingProxyType(schemas),
        validators=MappingProxyType(validators),
        compiled=MappingProxyType({f: jsonschema_rs.validator_for(s) for f, s in schemas.items()}),
    )
    _cross_check(contract)
    return contract


def _cross_check(c: Contract) -> None:
    for problem in (*_reference_problems(c), *_shape_problems(c), *_example_problems(c)):
        raise ContractError(f"{c.name}: {problem}")


def _reference_problems(c: Contract) -> Iterator[str]:
    """Names that point at nothing: error ids, endpoints, options."""
    ids = {e.id for e in c.errors}
    for ref in [*c.triggers.values(), *(r.error for r in c.request_errors)]:
        if ref not in ids:
            yield f"unknown error id {ref!r}"
    endpoint_ids = {e.id for e in c.endpoints}
    for op in c.operations.values():
        if op.endpoint not in endpoint_ids:
            yield f"operation {op.name} names unknown endpoint {op.endpoint!r}"
        if not set(op.options) <= set(c.options):
            yield f"operation {op.name} names an unknown option"
    for endpoint in c.endpoints:
        for target in endpoint.links:
            if target not in endpoint_ids:
                yield f"endpoint {endpoint.id} links to unknown endpoint {target!r}"


def _shape_problems(c: Contract) -> Iterator[str]:
    """Parts that contradict each other: credentials, options, lifecycle."""
    for kind in c.credential_kinds:
        if kind.tenant_field not in kind.fields:
            yield f"credential kind {kind.name} has no field {kind.tenant_field}"
    if not all(c.credential_kind(d) for d in c.default_credentials):
        yield "a default credential fits no credential kind"
    for option in c.options.values():
        if option.default not in option.choices:
            yield f"option {option.name} default is not a choice"
    statuses = set(c.lifecycle.statuses)
    if not c.lifecycle.terminal <= statuses or not c.lifecycle.cancelable <= statuses:
        yield "lifecycle names a status it does not define"


def _example_problems(c: Contract) -> Iterator[str]:
    """Examples the exported documents could not place: a request for an endpoint that takes none,
    an answer of a status the endpoint does not document, a named error without an error schema."""
    for endpoint in c.endpoints:
        takes = bool(endpoint.request_schema or endpoint.carrier_fields) or any(
            op.endpoint == endpoint.id for op in c.operations.values()
        )
        if "request" in endpoint.examples and not takes:
            yield f"endpoint {endpoint.id} has a request example but takes no request"
        documented = {s for s in endpoint.responses if s != "default"}
        documented |= {str(e.http_status) for e in c.errors if e.can_occur(endpoint.kind)}
        for key in endpoint.examples.get("responses", {}):
            if key.partition(":")[0] not in documented or not endpoint.example_schema(key):
                yield f"endpoint {endpoint.id} has an example of an undocumented answer {key!r}"


def _error(e: dict[str, Any]) -> ErrorCode:
    return ErrorCode(
        id=e["id"],
        http_status=e["http_status"],
        code=e["code"],
        message=e["message"],
        at=frozenset(e["at"]),
        retryable=e.get("retryable", False),
        source=e.get("source", ""),
        note=e.get("note", ""),
        envelope=e.get("envelope"),
    )


def _limits(v: dict[str, Any]) -> ImageLimits:
    return ImageLimits(
        formats=frozenset(v["formats"]),
        min_bytes=v.get("min_bytes"),
        max_bytes=v.get("max_bytes"),
        min_side=v.get("min_side"),
        max_side=v.get("max_side"),
        binary=v.get("binary", False),
        ascii_url=v.get("ascii_url", False),
        description=v.get("description", ""),
    )


def _endpoint(e: dict[str, Any]) -> Endpoint:
    return Endpoint(
        id=e["id"],
        kind=e["kind"],
        method=e["method"],
        paths=tuple(e["paths"]),
        responses=MappingProxyType(dict(e["responses"])),
        request_schema=e.get("request_schema"),
        headers=MappingProxyType(dict(e.get("headers", {}))),
        content_type=e.get("content_type", "application/json"),
        operation_pointer=e.get("operation_pointer"),
        request_content_type=e.get("request_content_type", "application/json"),
        carrier_fields=(e["carrier"]["field"], *e["carrier"].get("aliases", ())) if "carrier" in e else (),
        carrier_media_types=tuple(e["carrier"]["media_types"]) if "carrier" in e else (),
        summary=e.get("summary", ""),
        links=MappingProxyType(dict(e.get("links", {}))),
        examples=MappingProxyType(dict(e.get("examples", {}))),
    )


def _operation(name: str, v: dict[str, Any], limits: dict[str, ImageLimits], vendor: str) -> Operation:
    images = []
    for i in v["images"]:
        if i["limits"] not in limits:
            raise ContractError(f"{vendor}: operation {name} names unknown limits {i['limits']!r}")
        images.append(ImageInput(i["pointer"], i["role"], limits[i["limits"]], i.get("persons")))
    size = v.get("result_size")
    sizes = {k: (tuple(s) if s else None) for k, s in (size or {}).get("sizes", {}).items()}
    return Operation(
        name=name,
        endpoint=v["endpoint"],
        request_schema=v["request_schema"],
        images=tuple(images),
        render=v["render"],
        results=v["results"],
        queue_seconds=float(v.get("queue_seconds", 0)),
        run_seconds=float(v.get("run_seconds", 0)),
        same_size=tuple(tuple(g) for g in v.get("same_size", [])),
        result_size_pointer=size["pointer"] if size else None,
        result_sizes=MappingProxyType(sizes),
        parts_pointer=v.get("parts", {}).get("pointer"),
        stagger_seconds=float(v.get("stagger_seconds", 0)),
        batch_pointer=v["batch"]["pointer"] if "batch" in v else None,
        batch_max=v.get("batch", {}).get("max_items"),
        options=tuple(v.get("options", ())),
        answer=MappingProxyType(dict(v.get("answer", {}))),
        description=v.get("description", ""),
    )


def _lifecycle(v: dict[str, Any]) -> Lifecycle:
    return Lifecycle(
        phases=tuple(Phase(p["status"], float(p["weight"])) for p in v["phases"]),
        succeeded=v["succeeded"],
        failed=v["failed"],
        canceled=v.get("canceled"),
        unknown=v.get("unknown"),
        cancelable=frozenset(v.get("cancelable", ())),
        terminal=frozenset(v["terminal"]),
        other=tuple(v.get("other", [])),
    )


def bundle(name: str) -> dict[str, Any]:
    """The whole contract of a vendor as one JSON document (for download)."""
    c = load(name)
    folder = resources.files(__package__).joinpath(name)
    return {
        "vendor": dict(c.raw),
        "errors": _read_json(folder, "errors.json")["errors"],
        "schemas": {k: dict(v) for k, v in c.schemas.items()},
    }


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
