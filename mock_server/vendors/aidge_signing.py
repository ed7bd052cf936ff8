"""Aidge's two request signatures, both HMAC-SHA256 in upper-case hex, keyed with the app secret.

- v2 (the official HTTP samples, ``sign_ver=v2``): the message is the secret followed by the
  millisecond timestamp; nothing of the request itself is signed.
- IOP (the ``IopClient`` SDKs): the message is the API path followed by every parameter but
  ``sign``, sorted by name, as ``name + value``. The Java SDK leaves out empty names and values,
  the Python SDK keeps them; both are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

V2 = "v2"


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def v2_sign(secret: str, timestamp: str) -> str:
    return _hmac(secret, secret + timestamp)


def iop_message(api_path: str, params: Mapping[str, str], skip_empty: bool = False) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "sign")
    if skip_empty:
        pairs = [(k, v) for k, v in pairs if k and v]
    return api_path + "".join(k + v for k, v in pairs)


def iop_sign(secret: str, api_path: str, params: Mapping[str, str], skip_empty: bool = False) -> str:
    return _hmac(secret, iop_message(api_path, params, skip_empty))


def valid(secret: str, api_path: str, params: Mapping[str, str], strict: bool = False) -> bool:
    """Whether ``params["sign"]`` is right for its scheme (compared in constant time). The hex
    digest's case is not compared, unless ``strict``: then only the documented upper case passes."""
    sent = params.get("sign", "")
    given = (sent if strict else sent.upper()).encode()
    if params.get("sign_ver") == V2:
        candidates = [v2_sign(secret, params.get("timestamp", ""))]
    else:
        candidates = [iop_sign(secret, api_path, params, skip) for skip in (False, True)]
    return any(hmac.compare_digest(c.encode(), given) for c in candidates)
