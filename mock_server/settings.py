"""Settings from defaults, a JSON config file, ``TRYON_MOCK_*`` variables and flags (later wins)."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import contracts
from mock_server import kinds
from mock_server.fetch import POLICIES
from mock_server.timing import Timing, parse_progress

ENV_PREFIX = "TRYON_MOCK_"
# Variables that count when set to "" (the others are then unset): an empty token is refused,
# never taken for no token.
KEPT_EMPTY = frozenset({"ADMIN_TOKEN"})


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    pass


Check = Callable[[str, Any], Any]  # (the name as the user spelt it, the value) -> the value


def _optional(check: Check) -> Check:
    return lambda name, value: None if value is None else check(name, value)


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise kinds.KindError(name, "an object", value)
    return value


def _options(name: str, value: Any) -> Mapping[str, Mapping[str, str]]:
    """``{vendor: {option: value}}``, each value a string (which are valid: ``state``)."""
    if not isinstance(value, Mapping):
        raise kinds.KindError(name, "an object of {vendor: {option: value}}", value)
    for vendor, values in value.items():
        if not isinstance(values, Mapping):
            raise kinds.KindError(f"{name}.{vendor}", "an object of {option: value}", values)
        for option, chosen in values.items():
            kinds.text(f"{name}.{vendor}.{option}", chosen)
    return value


def _vendors(name: str, value: Any) -> tuple[str, ...]:
    known = contracts.vendor_names()
    if not isinstance(value, list | tuple) or not all(v in known for v in value):
        raise kinds.KindError(name, f"a list of vendor names ({', '.join(known)})", value)
    return tuple(value)


def _hosts(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(h, str) for h in value):
        raise kinds.KindError(name, "a list of host names", value)
    return tuple(host_pattern(h) for h in value)


# Each setting's kind, checked wherever a value comes from (a file, a variable, a flag, Python).
FIELD_KINDS: dict[str, Check] = {
    "host": kinds.text,
    "port": lambda n, v: kinds.whole(n, v, 0, 65535),
    "speed": lambda n, v: kinds.number(n, v, 0),
    "remote_images": lambda n, v: kinds.text(n, v, POLICIES),
    "seed": _optional(kinds.whole),
    "scenario": _optional(kinds.text),
    "credentials": _mapping,
    "default_credentials": kinds.flag,
    "options": _options,
    "vendors": _optional(_vendors),
    "public_url": _optional(kinds.text),
    "max_body_bytes": lambda n, v: kinds.whole(n, v, 1),
    "body_timeout": lambda n, v: kinds.number(n, v, 0),
    "header_timeout": lambda n, v: kinds.number(n, v, 0),
    "journal_per_tenant": lambda n, v: kinds.whole(n, v, 1),
    "tasks_per_tenant": lambda n, v: kinds.whole(n, v, 1),
    "nonces_per_key": lambda n, v: kinds.whole(n, v, 1),
    "nonces_in_all": lambda n, v: kinds.whole(n, v, 1),
    "fetch_timeout": lambda n, v: kinds.number(n, v, 0),
    "log_level": lambda n, v: kinds.text(n, v, LOG_LEVELS),
    "state_file": _optional(kinds.text),
    "admin_token": _optional(kinds.text),
    "allowed_hosts": _hosts,
}


def check(name: str, value: Any, spelt: str | None = None) -> Any:
    """``value`` as setting ``name`` takes it; SettingsError naming it as the user spelt it."""
    try:
        return FIELD_KINDS[name](spelt or name, value)
    except kinds.KindError as exc:
        raise SettingsError(str(exc)) from None


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
        for name, _ in FIELD_KINDS.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))
        if self.admin_token is not None:
            self._check_token(self.admin_token)

    @staticmethod
    def _check_token(token: str) -> None:
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
        known = {f.name for f in fields(self)} | {"progress"}
        unknown = set(changes) - known
        if unknown:
            raise SettingsError(kinds.unknown("setting", unknown, known))
        timing = self.timing
        try:
            if "timing" in changes:
                timing = timing.merged(dict(_mapping("timing", changes.pop("timing"))))
            if "progress" in changes:
                timing = timing.merged({"progress": changes.pop("progress")})
        except kinds.KindError as exc:
            named = exc if exc.name in ("progress", "timing") else exc.renamed(f"timing.{exc.name}")
            raise SettingsError(str(named)) from None
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        if "options" in changes:
            changes["options"] = _merge_options(self.options, changes["options"])
        return replace(self, timing=timing, **changes)


def _merge_options(old: Mapping[str, Mapping[str, str]], new: Any) -> dict[str, dict[str, str]]:
    new = check("options", new)
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
    except OSError as exc:
        raise SettingsError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SettingsError(f"cannot read config {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise SettingsError("the config file holds a JSON object")
    return doc


def _text(name: str, raw: str) -> str:
    return raw


def _progress(name: str, raw: str) -> str:
    parse_progress(raw, name)
    return raw


def _host_list(name: str, raw: str) -> tuple[str, ...]:
    return tuple(h for h in raw.replace(",", " ").split() if h)


# Each variable (after the prefix): the setting it sets, and how its text is read.
ENV_VARIABLES: dict[str, tuple[str, Check]] = {
    "HOST": ("host", _text),
    "PORT": ("port", kinds.parse_whole),
    "SPEED": ("speed", kinds.parse_number),
    "PROGRESS": ("progress", _progress),
    "REMOTE_IMAGES": ("remote_images", _text),
    "SEED": ("seed", kinds.parse_whole),
    "SCENARIO": ("scenario", _text),
    "PUBLIC_URL": ("public_url", _text),
    "LOG_LEVEL": ("log_level", _text),
    "ADMIN_TOKEN": ("admin_token", _text),
    "STATE_FILE": ("state_file", _text),
    "ALLOWED_HOSTS": ("allowed_hosts", _host_list),
}
CONFIG_VARIABLE = "CONFIG"  # the config file's path, read by ``load``
# The flag that sets a setting, where it is not --the-setting's-name.
FLAGS = {"allowed_hosts": "--allowed-host", "options": "--option"}


def env_names() -> list[str]:
    return sorted(ENV_PREFIX + suffix for suffix in [*ENV_VARIABLES, CONFIG_VARIABLE])


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``TRYON_MOCK_*`` variables as config changes; SettingsError naming a variable that is
    not one of them (a misspelt one would otherwise be ignored) or whose value does not fit."""
    known = set(env_names())
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)
    if unknown:
        raise SettingsError(kinds.unknown("variable", unknown, known))
    changes: dict[str, Any] = {}
    for suffix, (name, read) in ENV_VARIABLES.items():
        variable = ENV_PREFIX + suffix
        value = environ.get(variable)
        if value or (value is not None and suffix in KEPT_EMPTY):
            try:
                parsed = read(variable, value)
            except kinds.KindError as exc:
                if name in FIELD_KINDS:
                    check(name, value, variable)  # text is no number: says what the setting takes
                raise SettingsError(str(exc)) from None
            changes[name] = parsed if name == "progress" else check(name, parsed, variable)
    return changes


def _flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The flags given, each checked under its own name (``--speed``)."""
    given = {k: v for k, v in flags.items() if v is not None}
    for name, value in given.items():
        spelt = FLAGS.get(name, "--" + name.replace("_", "-"))
        if name == "progress":
            try:
                parse_progress(value, spelt)
            except kinds.KindError as exc:
                raise SettingsError(str(exc)) from None
        elif name in FIELD_KINDS:
            check(name, value, spelt)
    return given


def load(
    config: str | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    settings = Settings()
    config = config or environ.get(ENV_PREFIX + CONFIG_VARIABLE)
    if config:
        doc = read_config(config)
        try:
            settings = settings.with_changes(doc)
        except SettingsError as exc:
            raise SettingsError(f"{exc} (in config file {config})") from None
    settings = settings.with_changes(from_env(environ))
    return settings.with_changes(_flags(flags or {}))
