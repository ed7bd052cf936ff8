"""The words the contracts and the engine share, as types.

- ``EndpointKind``: what an endpoint does (``vendor.json`` endpoints' ``kind``); ``unknown`` is the
  kind of the catch-all that answers paths no endpoint has.
- ``Place``: where an error shows itself (``errors.json`` rows' ``at``): at an endpoint of a
  kind, or ``task`` as a failed task read through the query.
- ``Situation``: what the engine or a vendor module detects; ``vendor.json``'s ``triggers`` maps
  each one the vendor has to a row of its error table. ``meta.schema.json`` admits exactly these
  names as trigger keys (a test holds the two lists equal).
- ``NetworkFault``: a fault of the connection rather than an answer.
"""

from __future__ import annotations

from typing import Final, Literal, cast, get_args

EndpointKind = Literal["submit", "query", "cancel", "list", "process", "upload", "unknown"]
Place = Literal["submit", "query", "cancel", "list", "process", "upload", "task"]
NetworkFault = Literal["reset", "truncate"]

ENDPOINT_KINDS: Final = frozenset(get_args(EndpointKind))
PLACES: Final = frozenset(get_args(Place))
NETWORK_FAULTS: Final[tuple[NetworkFault, ...]] = get_args(NetworkFault)
AFTER_SUBMIT: Final[tuple[Place, ...]] = ("task", "query", "cancel")  # where a submit's error can show later

Situation = Literal[
    "auth.bad_md5",
    "auth.bad_signature",
    "auth.bad_timestamp",
    "auth.empty_signature",
    "auth.invalid",
    "auth.invalid_key",
    "auth.missing",
    "auth.nonce_used",
    "auth.nonces_full",
    "auth.stale",
    "body.empty",
    "body.invalid",
    "body.too_large",
    "fault.server_error",
    "fault.task_failed",
    "fault.throttled",
    "form.field_too_large",
    "form.file_too_large",
    "form.too_many_parts",
    "header.content_type",
    "header.forbidden",
    "header.missing",
    "image.bytes",
    "image.format",
    "image.light",
    "image.multi_person",
    "image.no_person",
    "image.not_binary",
    "image.not_flat_lay",
    "image.side",
    "image.size_mismatch",
    "image.small",
    "image.timeout",
    "image.undecodable",
    "image.unreachable",
    "image.url",
    "list.invalid",
    "operation.unknown",
    "operation.wrong_endpoint",
    "query.missing",
    "quota.exhausted",
    "rate.limited",
    "route.unknown",
    "task.not_cancelable",
    "task.unknown",
    "upload.bad_key_id",
    "upload.bad_policy",
    "upload.bad_signature",
    "upload.condition_failed",
    "upload.exists",
    "upload.expired",
    "upload.malformed",
    "upload.too_large",
]
SITUATIONS: Final = frozenset(get_args(Situation))


def as_place(value: str) -> Place:
    """``value`` as a place; ValueError for a word that is not one."""
    if value not in PLACES:
        raise ValueError(f"{value!r} is not one of {sorted(PLACES)}")
    return cast(Place, value)


def as_situation(value: str) -> Situation:
    """``value`` as a situation; ValueError for a word that is not one."""
    if value not in SITUATIONS:
        raise ValueError(f"{value!r} is not a situation")
    return cast(Situation, value)


def place_of(kind: EndpointKind) -> Place | None:
    """The place an endpoint of ``kind`` is (None for the catch-all of unknown paths)."""
    if kind == "unknown":
        return None
    return kind
