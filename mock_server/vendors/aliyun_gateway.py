"""The Alibaba Cloud API Gateway in front of Marketplace APIs: APPCODE, and the AppKey/AppSecret
signature's string-to-sign (recomputed and shown back when a signature does not match). The
timestamp window is ``timestamps``'; the nonces seen are kept in the store's ``Nonces``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import quote

APPCODE = re.compile(r"^APPCODE\s+(\S+)\s*$")
ALGORITHMS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}
DEFAULT_METHOD = "HmacSHA256"
UNSIGNED = {"x-ca-signature", "x-ca-signature-headers", "accept", "content-md5", "content-type", "date"}


def appcode(headers: Mapping[str, str]) -> str | None:
    """The code of ``Authorization: APPCODE <code>``, or None."""
    match = APPCODE.match(headers.get("authorization", ""))
    return match.group(1) if match else None


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """The names listed in X-Ca-Signature-Headers (commas, or colons as one doc page says), as
    written, minus those that are fixed fields of the string-to-sign."""
    listed = re.split(r"[,:]", headers.get("x-ca-signature-headers", ""))
    return sorted({n.strip() for n in listed if n.strip() and n.strip().lower() not in UNSIGNED})


def string_to_sign(method: str, path: str, headers: Mapping[str, str], params: Mapping[str, str]) -> str:
    """Method, Accept, Content-MD5, Content-Type, Date, the signed headers (sorted, ``Name:value``)
    and the path with its sorted query and form parameters (``params``: the first value of a
    repeated key). ``headers`` by lower-case name."""
    fixed = [
        method.upper(),
        headers.get("accept", ""),
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        headers.get("date", ""),
    ]
    block = "".join(f"{name}:{headers.get(name.lower(), '')}\n" for name in signed_header_names(headers))
    resource = path
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
