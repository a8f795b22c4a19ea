"""The `daskwire tap` command: parse the options, run the proxy until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, Final, TextIO

from daskwire_conformance.traffic.limits import BYTES_PER_FRAME, add_limit_options, limits_from

from .printer import Printer
from .proxy import Tap, TapConfig
from .worker import DEFAULT_MAX_BACKLOG, DEFAULT_MAX_TOTAL_BACKLOG

__all__ = ["EXIT_CANNOT_LISTEN", "EXIT_OK", "EXIT_USAGE", "register", "run"]

EXIT_OK: Final = 0
#: The listen address cannot be bound, or the recording folder cannot be written.
EXIT_CANNOT_LISTEN: Final = 1
EXIT_USAGE: Final = 2
#: Seconds the tap keeps decoding what is queued after it stopped forwarding.
DRAIN_TIMEOUT: Final = 10.0
#: Seconds the tap waits, once stopping, for its output to take its lines; after that lines
#: that do not fit are dropped (and counted), so a blocked output cannot hold the tap up.
PRINT_TIMEOUT: Final = 3.0
#: The largest TCP port number.
MAX_PORT: Final = 65535


def _host_port(text: str) -> tuple[str, int]:
    """HOST:PORT (or [V6]:PORT), also as Dask prints it, tcp://HOST:PORT; PORT 0 asks for a
    free port. Dask's other schemes are refused: the tap reads plain TCP only."""
    scheme, found, rest = text.partition("://")
    if found:
        if scheme.lower() != "tcp":
            msg = (
                f"{text!r}: the tap forwards plain TCP (tcp://), not {scheme}:// (tls:// is "
                "encrypted: its bytes cannot be read)"
            )
            raise argparse.ArgumentTypeError(msg)
        text = rest
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > MAX_PORT:
        msg = f"{text!r} is not HOST:PORT"
        raise argparse.ArgumentTypeError(msg)
    return host, int(port)


def _size(text: str) -> int:
    """A size in bytes with an optional K, M or G suffix."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    scale = units.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit() or int(digits) * scale < 1:
        msg = f"{text!r} is not a positive size in bytes (like 32M)"
        raise argparse.ArgumentTypeError(msg)
    return int(digits) * scale


def register(subparsers: Any) -> None:
    """Add `daskwire tap` to the `daskwire` parser."""
    parser = subparsers.add_parser(
        "tap",
        help="a TCP proxy in front of a Dask scheduler that logs every message it forwards",
        description="Forward every byte between Dask peers unchanged, and print one line per "
        "message in each direction (profile detected per connection), each connection's "
        "handshake from both sides, and warnings for what breaks clusters: different "
        "compression, pickle protocols or Python versions, and any violation of the "
        "profile with its category and requirement ID. Nothing is ever unpickled. "
        "Stop with Ctrl-C or SIGTERM. Exit 0 when stopped, 1 when it cannot listen or "
        "record, 2 for a usage error.",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_host_port,
        default=("127.0.0.1", 0),
        help="where clients connect (default 127.0.0.1:0, a free port; the first line says which)",
    )
    parser.add_argument(
        "--upstream",
        metavar="HOST:PORT",
        type=_host_port,
        required=True,
        help="where the tap forwards to: the scheduler's address",
    )
    parser.add_argument(
        "--upstream-bind",
        metavar="HOST",
        help="local address of the tap's connections to the upstream (distributed proposes "
        "no compression to a peer on its own address)",
    )
    parser.add_argument(
        "--record",
        metavar="DIR",
        type=Path,
        help="also write each connection's two directions as raw byte files, an index "
        "(index.jsonl) that `daskwire inspect` reads and a timeline, into DIR: a new folder, "
        "or an empty one, made mode 0700 (files 0600)",
    )
    parser.add_argument(
        "--max-backlog",
        metavar="BYTES",
        type=_size,
        default=DEFAULT_MAX_BACKLOG,
        help="stop decoding a connection (never forwarding) when its decoding falls this "
        f"far behind: bytes queued and held, and {BYTES_PER_FRAME} B per frame the message read "
        f"declares (default {DEFAULT_MAX_BACKLOG >> 20}M; K, M, G suffixes)",
    )
    parser.add_argument(
        "--max-total-backlog",
        metavar="BYTES",
        type=_size,
        default=DEFAULT_MAX_TOTAL_BACKLOG,
        help="the same over all connections together: a connection whose next chunk would "
        "take the tap's decoding further behind stops being decoded "
        f"(default {DEFAULT_MAX_TOTAL_BACKLOG >> 20}M)",
    )
    add_limit_options(parser)
    parser.set_defaults(func=_main)


@contextlib.contextmanager
def _signals(
    tap: Tap, stopping: threading.Event, loop: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]
) -> Iterator[None]:
    """Ctrl-C and SIGTERM, from before the event loop starts until the tap returned: the
    first stops the tap, any later one hurries it (`Tap.hurry_up`). Nothing is raised in the
    middle of the tap's code, so a second Ctrl-C gives no traceback. Only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        stopping.set()
        if seen > 1:
            tap.hurry.set()
        with contextlib.suppress(RuntimeError, IndexError):  # no loop (yet, or any more)
            running, stop = loop[0]
            running.call_soon_threadsafe(stop.set if seen == 1 else tap.hurry_up)

    old = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run(config: TapConfig, stream: TextIO = sys.stdout) -> int:
    """Run the tap until SIGINT or SIGTERM; the exit code. A second signal cuts short the
    decoding of what is queued; the recording is flushed all the same."""
    printer = Printer(stream)
    tap = Tap(config, printer)
    stopping = threading.Event()
    loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        stop = asyncio.Event()
        loops.append((asyncio.get_running_loop(), stop))
        if stopping.is_set():  # a signal came before the loop ran
            stop.set()
        await tap.serve(stop)

    code = EXIT_OK
    with _signals(tap, stopping, loops):
        try:
            asyncio.run(serve())
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"daskwire tap: {where}{exc.strerror or exc}", file=sys.stderr)
            tap.hurry.set()
            tap.worker.stop(0.0, tap.hurry)
            tap.stop_recording()
            code = EXIT_CANNOT_LISTEN
        else:
            printer.closing(PRINT_TIMEOUT)
            tap.finish(DRAIN_TIMEOUT)
        written = printer.close(PRINT_TIMEOUT)
    if not written and stream is sys.stdout:
        # The output is blocked (a pipe nobody reads): exiting normally would wait for it
        # forever when flushing stdout. The recording is closed already.
        os._exit(code)
    return code


def _main(args: argparse.Namespace) -> int:
    (listen_host, listen_port), (up_host, up_port) = args.listen, args.upstream
    config = TapConfig(
        listen_host=listen_host,
        listen_port=listen_port,
        upstream_host=up_host,
        upstream_port=up_port,
        upstream_bind=args.upstream_bind,
        record=args.record,
        max_backlog=args.max_backlog,
        max_total_backlog=args.max_total_backlog,
        limits=limits_from(args),
    )
    return run(config)
