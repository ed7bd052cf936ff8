"""Which requests the admin API's control routes (those that change the mock or read its secrets)
answer: the client, the name it reached the mock by, the page it comes from, its body's type.

- The client: loopback, or in this process, or one that shows the configured token.
- ``Host`` must name the mock (loopback names and addresses, the bind address, ``public_url``'s
  host, ``allowed_hosts``), so a page whose DNS name is rebound to 127.0.0.1 cannot read or
  change it. In-process clients (Starlette's TestClient) reach no socket and are not checked.
- ``Origin``, when present, must be the mock's own (the request's scheme and ``Host``, or
  ``public_url``'s origin): a page a developer visits cannot post a "simple" request to it.
- A body a JSON route reads must be declared ``application/json`` (415 otherwise), which no
  cross-site form or simple request can send.

Each refusal is the admin API's JSON error, saying what would let the request in. The vendors'
routes never come here: SDKs and CI runners reach the mock by any name.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_server.settings import Settings

TOKEN_HEADER = "x-mock-admin-token"
IN_PROCESS = ("testclient",)  # Starlette's in-process test transport names its client so
DEFAULT_PORTS = {"http": 80, "https": 443}
JSON_TYPE = "application/json"


def split_host(value: str) -> tuple[str, int | None] | None:
    """``Host`` (or an origin's authority) as a lower-case name without brackets or trailing dot,
    and its port; None when it is no host name."""
    value = value.strip().lower()
    port = ""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:
        name = value  # a bare name, or an IPv6 address without brackets
    if (port and not port.isdigit()) or not name:
        return None
    return name.rstrip("."), int(port) if port else None


def _loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a URL or an ``Origin`` value, the default port filled in."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _refusal(message: str, status: int = 403) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Admission:
    """The checks of one mock's settings, prepared once."""

    def __init__(self, settings: Settings) -> None:
        self.token = settings.admin_token.encode() if settings.admin_token else None
        self.public = _origin(settings.public_url) if settings.public_url else None
        names = {"localhost", settings.host.strip("[]").lower().rstrip(".")}
        if self.public:
            names.add(self.public[1])
        self.any_host = "*" in settings.allowed_hosts
        self.domains = tuple(h for h in settings.allowed_hosts if h.startswith("."))
        self.names = frozenset(names | {h for h in settings.allowed_hosts if not h.startswith(".")})

    def refusal(self, request: Request, json_body: bool) -> JSONResponse | None:
        """The admin API's error for a control request it does not answer, or None."""
        client = request.client.host if request.client else None
        in_process = client is None or client in IN_PROCESS
        if not (in_process or _loopback(client or "") or self._token_shown(request)):
            return _refusal(
                "the admin API answers loopback clients, or X-Mock-Admin-Token when a token is set"
            )
        host = split_host(request.headers.get("host", ""))
        if not in_process and "host" in request.headers and not self._names_the_mock(host):
            shown = host[0] if host else request.headers["host"]
            return _refusal(
                f"the admin API does not answer Host {shown!r}: it answers loopback names, the "
                "bind address (--host) and --public-url's host; allow another name with "
                "--allowed-host (TRYON_MOCK_ALLOWED_HOSTS, allowed_hosts in the config file)"
            )
        origin = request.headers.get("origin")
        if origin is not None and not self._own_origin(origin, request.scope.get("scheme", "http"), host):
            return _refusal(
                f"the admin API does not answer pages of another origin ({origin.strip()!r}): "
                "it takes requests from its own origin or --public-url's, or without Origin"
            )
        if json_body and request.method == "POST" and not self._declares_json(request):
            return _refusal(f"the admin API reads a body declared Content-Type: {JSON_TYPE}", 415)
        return None

    def _token_shown(self, request: Request) -> bool:
        given = request.headers.get(TOKEN_HEADER, "")
        return self.token is not None and hmac.compare_digest(given.encode(), self.token)

    def _names_the_mock(self, host: tuple[str, int | None] | None) -> bool:
        if host is None:
            return False
        name = host[0]
        return (
            self.any_host
            or name in self.names
            or _loopback(name)
            or any(name.endswith(d) or name == d[1:] for d in self.domains)
        )

    def _own_origin(self, origin: str, scheme: str, host: tuple[str, int | None] | None) -> bool:
        seen = _origin(origin)
        if seen is None:
            return False  # "null" (a sandboxed page, a file), or no http(s) origin at all
        if seen == self.public:
            return True
        return host is not None and seen == (scheme, host[0], host[1] or DEFAULT_PORTS.get(scheme, 0))

    @staticmethod
    def _declares_json(request: Request) -> bool:
        declared = request.headers.get("content-type")
        if declared is None:  # no body to read, or one of no declared type
            return (
                request.headers.get("content-length", "0") == "0"
                and "transfer-encoding" not in request.headers
            )
        return declared.split(";", 1)[0].strip().lower() == JSON_TYPE
