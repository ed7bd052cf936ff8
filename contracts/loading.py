"""Loading a vendor's contract folder: each JSON file checked against its meta-schema, every cross
reference resolved, every schema compiled once, into a read-only ``Contract`` (``model``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft202012Validator

from contracts.model import (
    Contract,
    ContractError,
    CredentialKind,
    Durations,
    Endpoint,
    ErrorCode,
    ImageInput,
    ImageLimits,
    Lifecycle,
    Operation,
    Option,
    Phase,
    RequestErrorRule,
)
from contracts.service import Concurrency, ObjectUrls, RateLimits, RateRule
from contracts.vocabulary import Place, Situation

PACKAGE = "contracts"


def _read_json(folder: Any, name: str) -> Any:
    try:
        return json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read {name}: {exc}") from exc


@cache
def _meta_validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    root = resources.files(PACKAGE)
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
    root = resources.files(PACKAGE)
    return tuple(sorted(e.name for e in root.iterdir() if e.is_dir() and e.joinpath("vendor.json").is_file()))


@cache
def load(name: str) -> Contract:
    """Load, validate and compile one vendor's contract (once per process)."""
    folder = resources.files(PACKAGE).joinpath(name)
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
    options = {k: _option(k, v) for k, v in raw.get("options", {}).items()}
    schema_files = {op.request_schema for op in operations.values()}
    schema_files.update(f for option in options.values() for f in option.request_schemas.values())
    for ep in endpoints:
        schema_files.update(ep.responses.values())
        if ep.request_schema:
            schema_files.add(ep.request_schema)
    schemas = {f: _read_json(folder, f) for f in sorted(schema_files)}
    validators = {}
    for f, schema in schemas.items():
        try:  # against the draft's meta-schema: the Rust check, a tenth of the Python one's time
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as exc:
            raise ContractError(f"{name}/{f} is no JSON Schema: {exc}") from None
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
        triggers=MappingProxyType(cast(dict[Situation, str], dict(raw["triggers"]))),
        request_errors=tuple(RequestErrorRule(**r) for r in raw["request_errors"]),
        options=MappingProxyType(options),
        retention_seconds=float(raw["retention_seconds"]),
        result_ttl_seconds=float(raw["result_ttl_seconds"]),
        time_zone=raw.get("time_zone", "+00:00"),
        quota=MappingProxyType(dict(raw.get("quota", {}))),
        raw=MappingProxyType(raw),
        schemas=MappingProxyType(schemas),
        validators=MappingProxyType(validators),
        compiled=MappingProxyType({f: jsonschema_rs.validator_for(s) for f, s in schemas.items()}),
        rate_limits=_rate_limits(raw.get("rate_limits")),
        object_urls=_object_urls(raw.get("object_urls")),
    )
    _cross_check(contract)
    return contract


def _rate_limits(raw: dict[str, Any] | None) -> RateLimits:
    if raw is None:
        return RateLimits()
    rules = tuple(
        RateRule(
            name=r["name"],
            endpoints=frozenset(r["endpoints"]),
            calls=int(r["calls"]),
            per_seconds=float(r["per_seconds"]),
            per_operation=bool(r.get("per_operation", False)),
            source=r.get("source", ""),
        )
        for r in raw.get("rules", [])
    )
    c = raw.get("concurrency")
    concurrency = (
        Concurrency(
            tasks=int(c["tasks"]),
            operations=frozenset(c["operations"]),
            per_operation=bool(c.get("per_operation", False)),
            source=c.get("source", ""),
        )
        if c
        else None
    )
    return RateLimits(rules, concurrency, raw.get("option"), raw.get("description", ""))


def _object_urls(raw: dict[str, Any] | None) -> ObjectUrls | None:
    if raw is None:
        return None
    header = raw.get("resolve_header")
    return ObjectUrls(
        scheme=raw["scheme"],
        ttl_seconds=float(raw["ttl_seconds"]),
        resolve_header=(header["name"], header["value"]) if header else None,
        policy_seconds=float(raw.get("policy_seconds", 300)),
        bucket=raw.get("bucket", ""),
    )


def _cross_check(c: Contract) -> None:
    problems = (
        *_reference_problems(c),
        *_limit_problems(c),
        *_timing_problems(c),
        *_shape_problems(c),
        *_media_type_problems(c),
        *_example_problems(c),
    )
    for problem in problems:
        raise ContractError(f"{c.name}: {problem}")


def _reference_problems(c: Contract) -> Iterator[str]:
    """Names that point at nothing: error ids, endpoints, options."""
    ids = {e.id for e in c.errors}
    own = [ref for e in c.endpoints for ref in e.triggers.values()]
    for ref in [*c.triggers.values(), *own, *(r.error for r in c.request_errors)]:
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


def _limit_problems(c: Contract) -> Iterator[str]:
    """Rate limits that name what the contract does not have."""
    limits = c.rate_limits
    for rule in limits.rules:
        if not rule.endpoints <= {e.id for e in c.endpoints}:
            yield f"rate limit {rule.name} names an unknown endpoint"
    if limits.concurrency and not limits.concurrency.operations <= set(c.operations):
        yield "concurrency names an unknown operation"
    if limits.option is not None and "off" not in getattr(c.options.get(limits.option), "choices", ()):
        yield f"rate_limits option {limits.option!r} is no option with the choice 'off'"


def _timing_problems(c: Contract) -> Iterator[str]:
    """Durations for an option the contract does not have, or for its default (whose durations
    are the operation's own), or for a value that is not one of its choices."""
    for op in c.operations.values():
        for name, by_choice in op.timings.items():
            option = c.options.get(name)
            if option is None or not set(by_choice) <= set(option.choices) - {option.default}:
                yield f"operation {op.name} times an unknown option or choice, or the default, of {name!r}"


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
        if not set(option.request_schemas) <= set(option.choices):
            yield f"option {option.name} names a schema for a value that is not a choice"
    if any(limit.min_bytes is not None for limit in c.limits.values()) and "image.light" not in c.triggers:
        yield "limits with min_bytes need the trigger image.light"
    statuses = set(c.lifecycle.statuses)
    if not c.lifecycle.terminal <= statuses or not c.lifecycle.cancelable <= statuses:
        yield "lifecycle names a status it does not define"


def _media_type_problems(c: Contract) -> Iterator[str]:
    """Required media types (``request_media_types``) with no error to answer the others, or
    without the endpoint's own request_content_type."""
    for endpoint in c.endpoints:
        if not endpoint.request_media_types:
            continue
        if "header.content_type" not in c.triggers:
            yield f"endpoint {endpoint.id} requires a Content-Type but no error answers header.content_type"
        if endpoint.request_content_type not in endpoint.request_media_types:
            yield f"endpoint {endpoint.id} does not take its own request_content_type"


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
        at=frozenset(cast(list[Place], e["at"])),
        retryable=e.get("retryable", False),
        source=e.get("source", ""),
        note=e.get("note", ""),
        envelope=e.get("envelope"),
        detail=e.get("detail", ""),
    )


def _option(name: str, v: dict[str, Any]) -> Option:
    return Option(
        name,
        v["default"],
        tuple(v["choices"]),
        v["description"],
        MappingProxyType(dict(v.get("request_schemas", {}))),
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
        request_media_types=tuple(e.get("request_media_types", ())),
        carrier_fields=(e["carrier"]["field"], *e["carrier"].get("aliases", ())) if "carrier" in e else (),
        carrier_media_types=tuple(e["carrier"]["media_types"]) if "carrier" in e else (),
        summary=e.get("summary", ""),
        description=e.get("description", ""),
        links=MappingProxyType(dict(e.get("links", {}))),
        examples=MappingProxyType(dict(e.get("examples", {}))),
        triggers=MappingProxyType(cast(dict[Situation, str], dict(e.get("triggers", {})))),
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
        timing_source=v["timing_source"],
        timings=MappingProxyType(
            {
                option: MappingProxyType({choice: _durations(t) for choice, t in by_choice.items()})
                for option, by_choice in v.get("timings", {}).items()
            }
        ),
    )


def _durations(v: dict[str, Any]) -> Durations:
    return Durations(float(v["queue_seconds"]), float(v["run_seconds"]), v["timing_source"])


def _lifecycle(v: dict[str, Any]) -> Lifecycle:
    return Lifecycle(
        phases=tuple(Phase(p["status"], float(p["weight"])) for p in v["phases"]),
        succeeded=v["succeeded"],
        failed=v["failed"],
        canceled=v.get("canceled"),
        unknown=v.get("unknown"),
        cancelable=frozenset(v.get("cancelable", ())),
        terminal=frozenset(v["terminal"]),
    )


def bundle(name: str) -> dict[str, Any]:
    """The whole contract of a vendor as one JSON document (for download)."""
    c = load(name)
    folder = resources.files(PACKAGE).joinpath(name)
    return {
        "vendor": dict(c.raw),
        "errors": _read_json(folder, "errors.json")["errors"],
        "schemas": {k: dict(v) for k, v in c.schemas.items()},
    }
