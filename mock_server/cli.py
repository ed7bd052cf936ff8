"""The ``tryon-mock`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import io
import json
import os
import sys
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
from mock_server.settings import Settings, SettingsError, load, parse_option
from mock_server.state import MockState
from mock_server.version import __version__


async def banner(state: MockState, url: str) -> str:
    """The start-up table: each vendor, its base URL here, and its test credentials."""
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
    lines += [f"  {r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows]
    return "\n".join(lines)


class _Server(uvicorn.Server):
    def __init__(
        self, config: uvicorn.Config, state: MockState, out: TextIO, saver: Saver | None = None
    ) -> None:
        super().__init__(config)
        self.mock_state, self.out, self.saver = state, out, saver
        self.saving: asyncio.Task[None] | None = None

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.saver is not None:
            self.saving = asyncio.create_task(self.saver.run())
        if self.servers and self.servers[0].sockets:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(await banner(self.mock_state, f"http://{shown}:{port}"), file=self.out, flush=True)

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


def serve(app: Starlette, settings: Settings, out: TextIO = sys.stdout) -> None:
    config = protocol.uvicorn_config(app, settings)
    # Everything made at start-up (contracts, validators, modules) leaves the collector's view and
    # young collections run less often, so no full collection walks them mid-request (the figures
    # are in bench/README.md, "What makes the mock fast").
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    images.limit_pillow()  # a process of its own: Pillow refuses what the mock would not decode
    saver: Saver | None = getattr(app.state, "saver", None)
    try:
        _Server(config, app.state.mock, out, saver).run()
    finally:
        if saver is not None:
            saver.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tryon-mock", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tryon-mock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve every vendor and the /_mock admin API")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--config", help="JSON settings file (credentials, options, timing, ...)")
    s.add_argument("--speed", type=float, help="mock seconds per real second; 0 = manual clock")
    s.add_argument("--progress", help="'time' (default) or 'polls:N'")
    s.add_argument("--scenario", help=f"one of: {', '.join(scenario.names())}")
    s.add_argument("--remote-images", choices=("synthesize", "reject", "fetch"))
    s.add_argument("--seed", type=int)
    s.add_argument("--option", action="append", default=[], metavar="VENDOR.NAME=VALUE")
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
    s.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"))
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
        return verify_command.main(args)
    if args.command == "openapi":
        text = json.dumps(openapi.document(contracts.load(args.vendor), args.server_url), indent=2)
        if args.out:
            try:
                Path(args.out).write_text(text + "\n")
            except OSError as exc:
                print(f"tryon-mock: cannot write --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
                return 2
        else:
            print(text)
        return 0
    if args.command == "scenarios":
        for name in scenario.names():
            print(f"{name:<16} {scenario.load(name)['description']}")
        return 0
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
    serve(app, settings)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
