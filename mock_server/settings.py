"""Settings from defaults, a JSON config file, ``TRYON_MOCK_*`` variables and flags (later wins)."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mock_server.fetch import POLICIES
from mock_server.timing import Timing, parse_progress

ENV_PREFIX = "TRYON_MOCK_"
# Variables that count when set to "" (the others are then unset): an empty token is refused,
# never taken for no token.
KEPT_EMPTY = frozenset({"ADMIN_TOKEN"})


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    speed: float = 1.0
    timing: Timing = field(default_factory=Timing)
    remote_images: str = "synthesize"
    seed: int | None = None
    scenario: str | None = None
    credentials: Mapping[str, Any] = field(default_factory=dict)
    default_credentials: bool = True
    options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    vendors: tuple[str, ...] | None = None
    public_url: str | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    body_timeout: float = 30.0  # seconds a request body may take to arrive in full
    header_timeout: float = 10.0  # seconds a request's headers may take (then the connection closes)
    journal_per_tenant: int = 1000
    tasks_per_tenant: int = 10_000
    nonces_per_key: int = 250_000  # live signature nonces of one credential (then: throttled)
    nonces_in_all: int = 500_000  # live signature nonces of every credential together
    fetch_timeout: float = 10.0
    log_level: str = "warning"
    state_file: str | None = None  # SQLite: tasks, credentials, faults, uploads outlive a restart
    admin_token: str | None = None  # lets non-loopback clients use the admin API (X-Mock-Admin-Token)
    # Host names the admin API answers besides loopback, the bind address and public_url's host:
    # a name, ".domain" (it and its subdomains) or "*" (any)
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.remote_images not in POLICIES:
            raise SettingsError(f"remote_images must be one of {POLICIES}")
        if self.speed < 0:
            raise SettingsError("speed must be >= 0")
        if not 0 <= self.port <= 65535:
            raise SettingsError("port must be 0..65535")
        if self.admin_token is not None:
            self._check_token(self.admin_token)
        if isinstance(self.allowed_hosts, str) or not all(isinstance(h, str) for h in self.allowed_hosts):
            raise SettingsError("allowed_hosts is a list of host names")
        object.__setattr__(self, "allowed_hosts", tuple(host_pattern(h) for h in self.allowed_hosts))

    @staticmethod
    def _check_token(token: object) -> None:
        if not isinstance(token, str):
            raise SettingsError("admin_token is a string")
        if not token.strip():
            # `--admin-token "$TOKEN"` with TOKEN unset: an empty token would match a request
            # that sends none, opening the admin API to every client on the network.
            raise SettingsError(
                "admin_token is empty (--admin-token, TRYON_MOCK_ADMIN_TOKEN or admin_token in the "
                "config file): give a token, or none to keep the admin API to loopback clients"
            )

    def with_changes(self, changes: Mapping[str, Any]) -> Settings:
        """A copy with config-style changes applied (``progress`` and ``timing`` go into timing)."""
        changes = dict(changes)
        timing = self.timing
        if "timing" in changes:
            timing = timing.merged(dict(changes.pop("timing")))
        if "progress" in changes:
            timing = timing.merged({"progress": changes.pop("progress")})
        if "options" in changes:
            changes["options"] = _merge_options(self.options, changes["options"])
        if "vendors" in changes and changes["vendors"] is not None:
            changes["vendors"] = tuple(changes["vendors"])
        if isinstance(changes.get("allowed_hosts"), list):
            changes["allowed_hosts"] = tuple(changes["allowed_hosts"])
        known = {f.name for f in fields(self)} - {"timing"}
        unknown = set(changes) - known
        if unknown:
            raise SettingsError(f"unknown settings {sorted(unknown)}")
        try:
            return replace(self, timing=timing, **changes)
        except (TypeError, ValueError) as exc:
            raise SettingsError(str(exc)) from exc


def _merge_options(old: Mapping[str, Mapping[str, str]], new: Any) -> dict[str, dict[str, str]]:
    if not isinstance(new, Mapping):
        raise SettingsError("options are {vendor: {name: value}}")
    merged = {k: dict(v) for k, v in old.items()}
    for vendor, values in new.items():
        merged.setdefault(vendor, {}).update(values)
    return merged


def host_pattern(text: str) -> str:
    """An allowed host as the admin API compares it: lower case, no trailing dot, an IPv6
    address without brackets; SettingsError for anything with a scheme, a port or a path."""
    name = text.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.startswith("*."):
        name = name[1:]
    name = name.rstrip(".") if name != "." else name
    bad = not name or name == "." or any(c in name for c in "/@?# \t[]") or ("*" in name and name != "*")
    if not bad and ":" in name:
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            bad = True
    if bad:
        raise SettingsError(
            f"allowed host {text!r}: give a host name, .domain (it and its subdomains) or *, "
            "without scheme, port or path"
        )
    return name


def parse_option(text: str) -> dict[str, dict[str, str]]:
    """``dashscope.refiner_result=results`` -> ``{"dashscope": {"refiner_result": "results"}}``."""
    key, sep, value = text.partition("=")
    vendor, dot, name = key.partition(".")
    if not sep or not dot or not vendor or not name:
        raise SettingsError(f"an option is vendor.name=value, not {text!r}")
    return {vendor: {name: value}}


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise SettingsError("the config file holds a JSON object")
    return doc


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``TRYON_MOCK_*`` variables as config changes."""
    casts: dict[str, Any] = {
        "HOST": ("host", str),
        "PORT": ("port", int),
        "SPEED": ("speed", float),
        "PROGRESS": ("progress", str),
        "REMOTE_IMAGES": ("remote_images", str),
        "SEED": ("seed", int),
        "SCENARIO": ("scenario", str),
        "PUBLIC_URL": ("public_url", str),
        "LOG_LEVEL": ("log_level", str),
        "ADMIN_TOKEN": ("admin_token", str),
        "STATE_FILE": ("state_file", str),
        "ALLOWED_HOSTS": ("allowed_hosts", lambda v: tuple(h for h in v.replace(",", " ").split() if h)),
    }
    changes: dict[str, Any] = {}
    for suffix, (name, cast) in casts.items():
        value = environ.get(ENV_PREFIX + suffix)
        if value or (value is not None and suffix in KEPT_EMPTY):
            try:
                changes[name] = cast(value)
            except ValueError as exc:
                raise SettingsError(f"{ENV_PREFIX}{suffix}: {exc}") from exc
    if "progress" in changes:
        parse_progress(changes["progress"])
    return changes


def load(
    config: str | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    settings = Settings()
    config = config or environ.get(ENV_PREFIX + "CONFIG")
    if config:
        settings = settings.with_changes(read_config(config))
    settings = settings.with_changes(from_env(environ))
    return settings.with_changes({k: v for k, v in (flags or {}).items() if v is not None})
