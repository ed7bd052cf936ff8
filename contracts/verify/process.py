"""Running a client command and watching its output as it arrives.

The command adapter needs more than ``subprocess.run`` gives: the moment the outcome was written,
not the moment the process ended. A client that writes its outcome, then sends one more request,
then exits has sent that request after reporting; judged by its exit, it would look punctual. So
stdout is read as it arrives (one selector loop over the three pipes, as ``communicate`` does) and
the time its last non-blank bytes arrived is the outcome's time.
"""

from __future__ import annotations

import os
import select
import selectors
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 64 * 1024
PIPE_BUF = getattr(select, "PIPE_BUF", 512)  # a write of at most this much cannot block


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    written: float | None  # wall-clock time the last non-blank stdout bytes arrived


class CannotStart(ValueError):
    """The client command cannot be started at all (no such program, not executable, bad quoting):
    a mistake in the arguments, not a finding about the client."""


def split_command(command: str, cwd: str | None = None) -> list[str]:
    """The command's arguments, once its program is known to exist and be executable."""
    try:
        args = shlex.split(command)
    except ValueError as exc:
        raise CannotStart(f"cannot read the client command {command!r}: {exc}") from None
    if not args:
        raise CannotStart("the client command is empty")
    program = args[0]
    if os.sep in program and cwd is not None and not os.path.isabs(program):
        program = str(Path(cwd) / program)
    if shutil.which(program) is None:
        what = "is not executable" if Path(program).exists() else "is not found"
        raise CannotStart(f"cannot start the client command {command!r}: {args[0]!r} {what}")
    return args


def run_timed(args: list[str], data: str, timeout: float, cwd: str | None = None) -> Finished:
    """Run ``args`` with ``data`` on stdin; subprocess.TimeoutExpired (the process killed) when it
    runs past ``timeout`` seconds, OSError when it cannot start."""
    deadline = time.monotonic() + timeout
    process = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
    )
    try:
        out, err, written = _exchange(process, data.encode(), deadline)
        process.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    text = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return Finished(process.returncode, text[0], text[1], written)


def _exchange(
    process: subprocess.Popen[bytes], data: bytes, deadline: float
) -> tuple[bytes, bytes, float | None]:
    """Feed stdin and read stdout and stderr to their ends, noting when stdout last carried more
    than white space."""
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    out, err = bytearray(), bytearray()
    written: float | None = None
    sent = 0
    with selectors.DefaultSelector() as selector:
        if data:
            selector.register(process.stdin, selectors.EVENT_WRITE)
        else:
            process.stdin.close()
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.register(process.stderr, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(process.args, 0)
            for key, _ in selector.select(left):
                stream: IO[bytes] = key.fileobj  # type: ignore[assignment]
                if stream is process.stdin:
                    sent = _feed(selector, stream, data, sent)
                    continue
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    selector.unregister(stream)
                elif stream is process.stdout:
                    out += chunk
                    if chunk.strip():
                        written = time.time()
                else:
                    err += chunk
    return bytes(out), bytes(err), written


def _feed(selector: selectors.BaseSelector, stdin: IO[bytes], data: bytes, sent: int) -> int:
    """Write the next piece of the job (at most PIPE_BUF bytes: a write that cannot block)."""
    try:
        sent += os.write(stdin.fileno(), data[sent : sent + PIPE_BUF])
    except BrokenPipeError:  # the client stopped reading: what it has read is what it gets
        sent = len(data)
    if sent >= len(data):
        selector.unregister(stdin)
        stdin.close()
    return sent
