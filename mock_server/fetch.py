"""Turn an image URL from a request into bytes, without leaving this machine unless allowed.

- URLs on the mock itself (``/_mock/...`` on a loopback host or the host the request came to)
  are answered from memory by the registered internal sources (assets, uploads, results).
- Other loopback URLs are fetched, capped in size and time.
- Other hosts follow the ``remote_images`` policy: ``synthesize`` (default: a stand-in sample
  image for the role, so production-like URLs work offline), ``reject`` (unreachable), or
  ``fetch`` (a guarded fetch that refuses private, link-local and metadata addresses).

Every fetch, wherever it goes (the mock's own URLs too), has one deadline in all, ``timeout``
seconds, and ends when the server stops (``close``). A URL of more than ``URL_CHARS`` characters
is unreachable, whatever its host: it is never parsed, fetched or cached. The parsed URLs are
cached, bounded in entries and bytes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

import anyio
import httpx

from mock_server import assets
from mock_server.bounded import Bounded

POLICIES = ("synthesize", "reject", "fetch")
STAND_INS = {
    "person": "person.png",
    "garment": "top.png",
    "coarse": "coarse.png",
    "mask": "mask.png",
    "image": "person.png",
}
UNREACHABLE, TIMEOUT = "unreachable", "timeout"
URL_CHARS = 8192  # the longest image URL read
MOCK = "/_mock/"  # the mock's own paths: what no internal source serves is not downloaded
SPLITS, SPLIT_BYTES = 4096, 4 * 1024 * 1024  # parsed URLs kept: entries, and bytes

Internal = Callable[[str, str, str | None], Awaitable[bytes | None]]  # (rest of path, query, tenant)


@dataclass(frozen=True)
class Fetched:
    data: bytes | None
    failure: str | None = None  # "unreachable" | "timeout" | "bytes" (over the download cap)
    cacheable: bool = False


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Fetcher:
    def __init__(
        self, policy: str = "synthesize", timeout: float = 10.0, max_bytes: int = 32 * 1024 * 1024
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"remote_images must be one of {POLICIES}")
        self.policy = policy
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._internal: dict[str, Internal] = {}
        self._private: set[str] = set()
        self._schemes: dict[str, Internal] = {}
        self._fetching: set[anyio.CancelScope] = set()  # the fetches under way (close ends them)
        self._closed = False
        # the same image URLs come again and again; each URL is held twice (the key, the parts)
        self._splits: Bounded[str, SplitResult] = Bounded(
            SPLITS, max_bytes=SPLIT_BYTES, weigh=lambda url, _: 2 * len(url) + 400
        )

    def mount(self, prefix: str, source: Internal, private: bool = False) -> None:
        """Serve URLs whose path starts with ``prefix`` from ``source(rest_of_path, query, tenant)``;
        ``private``: what it serves depends on the tenant asking."""
        self._internal[prefix] = source
        if private:
            self._private.add(prefix)

    def mount_scheme(self, scheme: str, source: Internal) -> None:
        """Serve every ``<scheme>://<key>`` URL from ``source(key, "", tenant)``: a vendor's own
        storage of files its tenants uploaded (what it serves depends on the tenant asking)."""
        self._schemes[scheme] = source

    def private(self, url: str) -> bool:
        """Whether an internal source that answers per tenant serves ``url``."""
        parts = self._split(url)
        if parts is None:
            return False
        return parts.scheme in self._schemes or parts.path.startswith(tuple(self._private))

    def stored(self, url: str) -> bool:
        """Whether ``url`` names a file in a vendor's own storage (a mounted scheme, in any case)."""
        parts = self._split(url)
        return parts is not None and parts.scheme in self._schemes

    async def get(self, url: str, role: str, own_host: str = "", tenant: str | None = None) -> Fetched:
        """The bytes of an image URL; internal sources see the asking tenant (uploads are its own).
        Within ``timeout`` seconds in all (httpx's timeout is per read: a server that drips its
        answer a byte at a time would hold the request as long as it liked), and cut short when
        the server stops (``close``): then it fails as a download that timed out."""
        with anyio.CancelScope(deadline=anyio.current_time() + self.timeout) as scope:
            self._fetching.add(scope)
            if self._closed:
                scope.cancel()
            try:
                return await self._get(url, role, own_host, tenant)
            finally:
                self._fetching.discard(scope)
        return Fetched(None, TIMEOUT)

    def close(self) -> None:
        """The server stops: every fetch under way ends now, and any other at once (what the
        requests waiting on them answer is the vendor's download timeout)."""
        self._closed = True
        for scope in list(self._fetching):
            scope.cancel()

    async def _get(self, url: str, role: str, own_host: str, tenant: str | None) -> Fetched:
        parts = self._split(url)
        if parts is None:
            return Fetched(None, UNREACHABLE)
        host = parts.hostname or ""
        stored = self._schemes.get(parts.scheme)
        if stored is not None:
            data = await stored(url[len(parts.scheme) + 3 :], "", tenant)
            return Fetched(data, None if data is not None else UNREACHABLE)
        if is_loopback_host(host) or (own_host and parts.netloc == own_host):
            return await self._local(url, parts, tenant)
        if parts.scheme not in ("http", "https", "oss") or not host:
            return Fetched(None, UNREACHABLE)
        if self.policy == "synthesize":
            name = STAND_INS.get(role, "person.png")
            return Fetched(await anyio.to_thread.run_sync(assets.asset_bytes, name), cacheable=True)
        if self.policy == "reject" or parts.scheme == "oss":
            return Fetched(None, UNREACHABLE)
        if not await _public(host, _port(parts)):
            return Fetched(None, UNREACHABLE)
        return await self._download(url)

    def clear(self) -> None:
        """Forget the parsed URLs."""
        self._splits.clear()

    def _split(self, url: str) -> SplitResult | None:
        """The URL's parts (cached), or None for one too long or that no URL parser accepts."""
        if len(url) > URL_CHARS:
            return None
        parts = self._splits.get(url)
        if parts is None:
            parts = _split(url)
            if parts is not None:
                self._splits.put(url, parts)
        return parts

    async def _local(self, url: str, parts: SplitResult, tenant: str | None) -> Fetched:
        """A URL on this machine: an internal source's, else (on a loopback host) downloaded."""
        for prefix, source in self._internal.items():
            if parts.path.startswith(prefix):
                data = await source(parts.path[len(prefix) :], parts.query, tenant)
                return Fetched(data, None if data is not None else UNREACHABLE, cacheable=True)
        if not is_loopback_host(parts.hostname or "") or parts.path.startswith(MOCK):
            return Fetched(None, UNREACHABLE)  # the mock's own API is no image, nor a way round
        return await self._download(url)

    async def _download(self, url: str) -> Fetched:
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client,
                client.stream("GET", url) as resp,
            ):
                if resp.status_code != 200:
                    return Fetched(None, UNREACHABLE)
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        return Fetched(None, "bytes")
                    chunks.append(chunk)
                return Fetched(b"".join(chunks))
        except httpx.TimeoutException:
            return Fetched(None, TIMEOUT)
        except (httpx.HTTPError, OSError, ValueError):
            return Fetched(None, UNREACHABLE)


def _split(url: str) -> SplitResult | None:
    """The URL's parts, its path as a server routes it: percent-decoded (as uvicorn decodes it),
    without dot segments (as httpx drops them before sending) or repeated slashes; None for text
    no URL parser accepts (a bad IPv6 host, a bad port). So ``/_mock/%75ploads/<id>`` and
    ``/_mock/assets/../uploads/<id>`` are the upload they name, read only by its tenant."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        return None
    return parts._replace(path=_routed(parts.path))


def _routed(path: str) -> str:
    if "%" not in path and "/." not in path and "//" not in path:  # the usual image URL
        return path
    segments: list[str] = []
    names = unquote(path).split("/")
    for name in names:
        if name == "..":
            if segments:
                segments.pop()
        elif name not in (".", ""):
            segments.append(name)
    tail = "/" if names[-1] in ("", ".", "..") and segments else ""
    return "/" + "/".join(segments) + tail


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


async def _public(host: str, port: int) -> bool:
    """True when every address the host resolves to is a public one."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {str(info[4][0]) for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)
