"""Result images: drawn from a recipe on first download (kept here per result key for parsing
and crops; a try-on's recipe is read off its task), served under links that carry an expiry and
a signature like an object store's presigned URLs.

An expired or tampered link answers as Alibaba Cloud OSS answers one (403 with an XML body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import quote_plus

ACCESS_KEY_ID = "LTAI5tTryonMockResults"
PREFIX = "/_mock/results/"


def result_key(task_id: str, index: int) -> str:
    """The key of a task's ``index``-th result image."""
    return f"{task_id}-{index}"


def result_of(key: str) -> tuple[str, int] | None:
    """The task id and index a result key names (``result_key`` read back), or None."""
    task_id, _, index = key.rpartition("-")
    return (task_id, int(index)) if task_id and index.isdigit() else None


def path(key: str) -> str:
    """The path of a result image's link (its query string carries the expiry and signature)."""
    return f"{PREFIX}{key}.png"


# Why a link fails -> (HTTP status, OSS error code, OSS message).
OSS_ERRORS = {
    "signature": (
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "expired": (403, "AccessDenied", "Request has expired."),
    "missing": (404, "NoSuchKey", "The specified key does not exist."),
}


class Recipe(NamedTuple):
    """How to draw one result image: ``kind`` tryon (base + garments) or parsing/crop of a part."""

    kind: str
    base: str
    garments: tuple[str, ...] = ()
    size: tuple[int, int] | None = None
    label: str = ""
    part: str = ""
    host: str = ""
    tenant: str | None = None  # whose inputs (uploads are per tenant)


def oss_error(code: str, message: str, request_id: str, **extra: str) -> str:
    """An OSS-style XML error document."""
    fields = "".join(f"  <{k}>{v}</{k}>\n" for k, v in extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>tryon-mock</HostId>\n{fields}</Error>\n"
    )


def gmt(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Results:
    def __init__(self, secret: bytes, recipes: int = 50_000, cache_bytes: int = 128 * 1024 * 1024) -> None:
        self._secret = secret
        self._recipes: OrderedDict[str, Recipe] = OrderedDict()
        self.max_recipes = recipes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_total = 0
        self.cache_bytes = cache_bytes

    @property
    def secret(self) -> bytes:
        return self._secret

    def recipes(self) -> list[tuple[str, Recipe]]:
        return list(self._recipes.items())

    def add(self, key: str, recipe: Recipe) -> None:
        self._recipes[key] = recipe
        while len(self._recipes) > self.max_recipes:
            old, _ = self._recipes.popitem(last=False)
            self._forget(old)

    def drop(self, key: str) -> None:
        """Forget a result: its recipe (if one is kept) and any image drawn for it."""
        self._recipes.pop(key, None)
        self._forget(key)

    def recipe(self, key: str) -> Recipe | None:
        return self._recipes.get(key)

    def url(self, base_url: str, key: str, expires: float) -> str:
        exp = int(expires)
        signature = quote_plus(self._sign(key, exp))  # what urlencode makes of the three fields
        query = f"Expires={exp}&OSSAccessKeyId={ACCESS_KEY_ID}&Signature={signature}"
        return f"{base_url.rstrip('/')}{path(key)}?{query}"

    def verify(self, key: str, expires: str, signature: str) -> bool:
        if not expires.isdigit():
            return False
        return hmac.compare_digest(self._sign(key, int(expires)), signature)

    def cached(self, key: str) -> bytes | None:
        data = self._cache.get(key)
        if data is not None:
            self._cache.move_to_end(key)
        return data

    def keep(self, key: str, data: bytes) -> None:
        if len(data) > self.cache_bytes:
            return
        self._forget(key)
        self._cache[key] = data
        self._cache_total += len(data)
        while self._cache_total > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cache_total -= len(old)

    def clear(self) -> None:
        self._recipes.clear()
        self._cache.clear()
        self._cache_total = 0

    def _forget(self, key: str) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cache_total -= len(old)

    def _sign(self, key: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"GET\n{key}\n{expires}".encode(), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode()
