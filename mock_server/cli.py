"""tryon-mock: an offline emulator of commercial virtual try-on APIs (DashScope, the Alibaba Cloud
Marketplace DAMO try-on, Aidge, AILabTools). 'serve' answers on each vendor's own paths, with a
/_mock/ admin API; 'verify' runs a client against a vendor's contract; 'openapi' prints a vendor's
OpenAPI document; 'scenarios' lists the named scenarios. 'tryon-mock COMMAND --help' for more."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import functools
import gc
import io
import json
import os
import shutil
import signal
import socket
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TextIO

import anyio
import uvicorn
from starlette.applications import Starlette

import contracts
from contracts.verify import command as verify_command
from mock_server import images, openapi, protocol, scenario
from mock_server.app import create_app
from mock_server.persistence import Saver
from mock_server.settings import ENV_PREFIX, Settings, SettingsError, load, parse_option
from mock_server.state import MockState
from mock_server.version import __version__


async def banner(state: MockState, url: str, everywhere: str = "") -> str:
    """The start-up table: each vendor, its base URL here, and its test credentials; with
    ``everywhere``, the line saying the server listens on all interfaces, and where."""
    rows = [("vendor", "base URL", "credentials")]
    listing = await state.store.credentials.listing()
    for name, contract in sorted(state.contracts.items()):
        creds = listing.get(name, [])
        fields = [{k: v for k, v in c.items() if k != "tenant"} for c in creds[:2]]
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in fields) or "-"
        rows.append((name, url + contract.client_base_path, shown))
    rows.append(("admin", url + "/_mock/", "-"))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [
        f"tryon-mock {__version__} serving on {url}  (clock {state.clock.mode}, "
        f"x{state.clock.speed:g}; progress {(await state.timing(None)).progress})"
    ]
    lines += [everywhere] if everywhere else []
    lines += [f"  {r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows]
    return "\n".join(lines)


def shown_url(host: str, port: int) -> tuple[str, str]:
    """The URL to print for a socket bound to ``host``, one that can be opened (loopback for an
    all-interfaces address), and for all interfaces the line that says so, with this machine's
    name for the other machines."""
    wildcard = host in ("", "0.0.0.0", "::")
    if wildcard:
        host = "::1" if host == "::" else "127.0.0.1"
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if not wildcard:
        return url, ""
    return url, f"  listening on all interfaces: other machines use http://{socket.gethostname()}:{port}"


class _Server(uvicorn.Server):
    def __init__(
        self, config: uvicorn.Config, state: MockState, out: TextIO, saver: Saver | None = None
    ) -> None:
        super().__init__(config)
        self.mock_state, self.out, self.saver = state, out, saver
        self.saving: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGINT or SIGTERM: stop gracefully (a second SIGINT: at once). uvicorn's own handler
        notes the signal and raises it again after the stop, which ends a Ctrl-C in an asyncio
        CancelledError and KeyboardInterrupt traceback, and a SIGTERM in exit status 143; a stop
        asked for is a clean end here: one line, exit status 0."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.saver is not None:
            self.saving = asyncio.create_task(self.saver.run())
        if self.servers and self.servers[0].sockets:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(await banner(self.mock_state, *shown_url(host, port)), file=self.out, flush=True)
            if self.saver is not None:
                print(self.saver.restored, file=self.out, flush=True)

    async def shutdown(self, sockets: Any = None) -> None:
        """End the image fetches under way (uvicorn waits for the requests in flight, and one
        waiting on a slow image server would hold the stop up to the fetch deadline); after the
        connections have closed, save the state a last time and close the file, so that it is
        whole on its own, its WAL folded in (uvicorn re-raises the stopping signal once ``serve``
        returns, so this is the last moment that runs)."""
        self.mock_state.fetcher.close()
        await super().shutdown(sockets)
        if self.saving is not None:
            self.saving.cancel()  # a write under way ends first: the last save comes after it
            with contextlib.suppress(asyncio.CancelledError):
                await self.saving
        if self.saver is not None:
            await self.saver.save()
            await anyio.to_thread.run_sync(self.saver.close)


class PortInUse(Exception):
    """The address the server is to listen on is taken (the message says what to do)."""


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound (as uvicorn binds it); PortInUse when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is in use (another tryon-mock?): stop that server, or give "
                f"another port with --port (make serve PORT=...; --port 0 picks a free one)"
            ) from exc
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve(app: Starlette, settings: Settings, out: TextIO = sys.stdout) -> None:
    """Serve until SIGINT or SIGTERM, then say that it stopped (and where the state was saved).
    PortInUse, before anything is served, when the address is taken."""
    config = protocol.uvicorn_config(app, settings)
    # Everything made at start-up (contracts, validators, modules) leaves the collector's view and
    # young collections run less often, so no full collection walks them mid-request (the figures
    # are in bench/README.md, "What makes the mock fast").
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    images.limit_pillow()  # a process of its own: Pillow refuses what the mock would not decode
    saver: Saver | None = getattr(app.state, "saver", None)
    try:
        sock = listen(settings.host, settings.port)
        with sock:
            _Server(config, app.state.mock, out, saver).run(sockets=[sock])
    finally:
        if saver is not None:
            saver.close()
    print(f"stopped (state saved to {saver.file.path})" if saver else "stopped", file=out, flush=True)


def _options_listing() -> str:
    """The vendors' ``--option`` names, their choices (the default first) and what each does, from
    the contracts that define them."""
    lines = ["vendor options (--option VENDOR.NAME=VALUE; the default first):"]
    for vendor in contracts.vendor_names():
        for option in contracts.load(vendor).options.values():
            choices = [option.default, *(c for c in option.choices if c != option.default)]
            summary = option.description.split(". ")[0].rstrip(".")
            text = f"{vendor}.{option.name}={'|'.join(choices)}: {summary}"
            lines.append(textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="      "))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tryon-mock", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tryon-mock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = Settings()
    s = sub.add_parser(
        "serve",
        help="serve every vendor and the /_mock admin API",
        description=textwrap.fill(
            "Serve every vendor's API and the /_mock/ admin API until Ctrl-C (SIGINT) or SIGTERM. "
            "Each setting comes from, the later winning: its default, the --config file, a "
            f"{ENV_PREFIX}* variable ({ENV_PREFIX} and the flag's name in capitals: "
            f"{ENV_PREFIX}PORT, {ENV_PREFIX}STATE_FILE, {ENV_PREFIX}CONFIG, ...; "
            f"{ENV_PREFIX}ALLOWED_HOSTS takes a list; --option has none), the flag.",
            100,
        ),
        epilog=_options_listing(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--host", help=f"address to listen on; 0.0.0.0 for all interfaces (default: {d.host})")
    s.add_argument("--port", type=int, help=f"port to listen on; 0 picks a free one (default: {d.port})")
    s.add_argument("--config", help="JSON settings file (credentials, options, timing, ...)")
    s.add_argument(
        "--speed", type=float, help=f"mock seconds per real second; 0 = manual clock (default: {d.speed:g})"
    )
    s.add_argument("--progress", help="'time' (default) or 'polls:N'")
    s.add_argument("--scenario", help=f"one of: {', '.join(scenario.names())}")
    s.add_argument(
        "--remote-images",
        choices=("synthesize", "reject", "fetch"),
        help="image URLs that are not the mock's own: stand in a sample image, refuse them as "
        f"unreachable, or download them (default: {d.remote_images})",
    )
    s.add_argument("--seed", type=int, help="seed of the random choices (ids, faults), for repeatable runs")
    s.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="VENDOR.NAME=VALUE",
        help="a vendor option, repeatable; the valid ones are listed below",
    )
    s.add_argument("--public-url", help="base URL written into result links")
    s.add_argument("--state-file", help="SQLite file: tasks, credentials, faults, uploads survive restarts")
    s.add_argument("--admin-token", help="let non-loopback clients use /_mock with X-Mock-Admin-Token")
    s.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST",
        help="another name /_mock answers (besides loopback, --host and --public-url's host); "
        ".domain for its subdomains too; repeatable",
    )
    s.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        help=f"the server's log level (default: {d.log_level})",
    )
    sub.add_parser("scenarios", help="list the named scenarios")
    o = sub.add_parser("openapi", help="print (or write) a vendor's OpenAPI 3.1 document")
    o.add_argument("--vendor", required=True, choices=contracts.vendor_names())
    o.add_argument("--out", help="write to this file instead of stdout")
    o.add_argument("--server-url", default="http://127.0.0.1:8000", help="the document's server URL")
    # The suite owns its command's arguments; this is the one module that wires it to the mock's.
    verify_command.add_arguments(
        sub.add_parser("verify", help="verify a client (any language) against a contract")
    )
    return parser


def _verify(args: argparse.Namespace) -> int:
    status = verify_command.main(args)
    if status == 1 and (note := _replay_note()):
        print(note, file=sys.stderr)
    return status


def _replay_note() -> str:
    """The replay lines a failed ``verify`` prints begin with ``tryon-mock``: when a shell here
    would not run this tryon-mock by that name, how to run them as printed ("" when it would)."""
    mine = shutil.which("tryon-mock", path=str(Path(sys.executable).parent))
    found = shutil.which("tryon-mock")
    if mine is None or (found is not None and os.path.samefile(found, mine)):
        return ""
    activate = Path(mine).parent / "activate"
    first = f"first `. {activate}` (it puts tryon-mock on PATH), or " if activate.exists() else ""
    return (
        f"tryon-mock is not on PATH here: to run a replay line as printed, {first}write {mine} for tryon-mock"
    )


P = ParamSpec("P")


def _quiet_when_the_reader_goes(command: Callable[P, int]) -> Callable[P, int]:
    """``tryon-mock openapi ... | head``: when the reader closes the pipe, the command ends
    quietly (status 0: the reader has what it wanted), not with a BrokenPipeError traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            try:
                return command(*args, **kwargs)
            finally:
                sys.stdout.flush()  # a reader gone shows here (after --help too), not at exit
        except BrokenPipeError:
            # keep Python from flushing into the closed pipe again at exit
            with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0

    return run


@_quiet_when_the_reader_goes
def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        return _verify(args)
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "scenarios":
        for name in scenario.names():
            print(f"{name:<16} {scenario.load(name)['description']}")
        return 0
    return _serve(args)


def _openapi(args: argparse.Namespace) -> int:
    text = json.dumps(openapi.document(contracts.load(args.vendor), args.server_url), indent=2)
    if not args.out:
        print(text)
        return 0
    try:
        Path(args.out).write_text(text + "\n")
    except OSError as exc:
        print(f"tryon-mock: cannot write --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        options: dict[str, dict[str, str]] = {}
        for text in args.option:
            for vendor, values in parse_option(text).items():
                options.setdefault(vendor, {}).update(values)
        settings = load(
            args.config,
            flags={
                "host": args.host,
                "port": args.port,
                "speed": args.speed,
                "progress": args.progress,
                "scenario": args.scenario,
                "remote_images": args.remote_images,
                "seed": args.seed,
                "options": options or None,
                "public_url": args.public_url,
                "admin_token": args.admin_token,
                "allowed_hosts": tuple(args.allowed_host) if args.allowed_host else None,
                "state_file": args.state_file,
                "log_level": args.log_level,
            },
        )
        app = create_app(settings)
    except (SettingsError, ValueError) as exc:
        print(f"tryon-mock: {exc}", file=sys.stderr)
        return 2
    try:
        serve(app, settings)
    except PortInUse as exc:
        print(f"tryon-mock: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
