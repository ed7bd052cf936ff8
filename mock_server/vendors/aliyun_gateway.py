"""The Alibaba Cloud API Gateway in front of Marketplace APIs: APPCODE, the AppKey/AppSecret
signature (recomputed, compared in constant time), timestamp and nonce replay protection, and
the string-to-sign the gateway shows back when a signature does not match."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

WINDOW = 15 * 60.0  # seconds a timestamp may be off, and a nonce is remembered
MAX_DIGITS = 16  # a millisecond timestamp this long is centuries away from any clock
APPCODE = re.compile(r"^APPCODE\s+(\S+)\s*$")
ALGORITHMS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}
DEFAULT_METHOD = "HmacSHA256"
UNSIGNED = {"x-ca-signature", "x-ca-signature-headers", "accept", "content-md5", "content-type", "date"}
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Incoming:
    """The parts of a request the gateway signs."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names in lower case (``Call.headers`` or Starlette's Headers)
    body: bytes


def appcode(headers: Mapping[str, str]) -> str | None:
    """The code of ``Authorization: APPCODE <code>``, or None."""
    match = APPCODE.match(headers.get("authorization", ""))
    return match.group(1) if match else None


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """The names listed in X-Ca-Signature-Headers (commas, or colons as one doc page says), as
    written, minus those that are fixed fields of the string-to-sign."""
    listed = re.split(r"[,:]", headers.get("x-ca-signature-headers", ""))
    return sorted({n.strip() for n in listed if n.strip() and n.strip().lower() not in UNSIGNED})


def string_to_sign(req: Incoming) -> str:
    """Method, Accept, Content-MD5, Content-Type, Date, the signed headers (sorted, ``Name:value``)
    and the path with its sorted query and form parameters (first value of a repeated key)."""
    h = req.headers
    fixed = [
        req.method.upper(),
        h.get("accept", ""),
        h.get("content-md5", ""),
        h.get("content-type", ""),
        h.get("date", ""),
    ]
    block = "".join(f"{name}:{h.get(name.lower(), '')}\n" for name in signed_header_names(h))
    params: dict[str, str] = {}
    for key, value in parse_qsl(req.query, keep_blank_values=True):
        params.setdefault(key, value)
    if h.get("content-type", "").lower().startswith(FORM):
        for key, value in parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True):
            params.setdefault(key, value)
    resource = req.path
    if params:
        resource += "?" + "&".join(k if v == "" else f"{k}={v}" for k, v in sorted(params.items()))
    return "\n".join(fixed) + "\n" + block + resource


def signature(secret: str, text: str, method: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), ALGORITHMS[method]).digest()
    return base64.b64encode(digest).decode()


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def for_header(text: str) -> str:
    """Text that can travel in a header: line feeds as '#', other controls dropped, non-ASCII
    percent-encoded."""
    text = text.replace("\n", "#")
    text = "".join(c for c in text if c >= " " or c == "\t")
    return quote(text, safe="".join(chr(i) for i in range(32, 127)))


class Nonces:
    """Nonces seen per AppKey, at most ``per_key`` each (oldest dropped). A nonce is remembered
    while its request could still pass the timestamp check: until it is older than the window
    on every clock the check accepts."""

    def __init__(self, per_key: int = 100_000, keys: int = 10_000) -> None:
        self.per_key = per_key
        self.max_keys = keys
        self._seen: dict[str, OrderedDict[str, tuple[float, ...]]] = {}

    def used(self, key: str, nonce: str, clocks: tuple[float, ...]) -> bool:
        seen = self._seen.get(key)
        if seen is None:
            return False
        while seen and _stale(next(iter(seen.values())), clocks):
            seen.popitem(last=False)
        return nonce in seen

    def remember(self, key: str, nonce: str, clocks: tuple[float, ...]) -> None:
        seen = self._seen.get(key)
        if seen is None:
            while len(self._seen) >= self.max_keys:
                self._seen.pop(next(iter(self._seen)))
            seen = self._seen[key] = OrderedDict()
        seen[nonce] = clocks
        seen.move_to_end(nonce)
        while len(seen) > self.per_key:
            seen.popitem(last=False)


def _stale(then: tuple[float, ...], now: tuple[float, ...]) -> bool:
    return all(n - t > WINDOW for t, n in zip(then, now, strict=True))


def timestamp_problem(value: str, clocks: tuple[float, ...]) -> str | None:
    """``"bad_timestamp"``, ``"stale"`` or None. A timestamp (milliseconds) is good when it is
    within the window of any of the clocks given (the mock's and the wall's)."""
    if not (value.isascii() and value.isdigit()):
        return "bad_timestamp"
    if len(value) > MAX_DIGITS:
        return "stale"
    at = int(value) / 1000
    return None if any(abs(at - now) <= WINDOW for now in clocks) else "stale"
