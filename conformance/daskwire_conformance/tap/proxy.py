"""The forwarding: an asyncio TCP proxy that passes each byte on first, then shows it to the tap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol, cast

from daskwire.limits import Limits

from daskwire_conformance.common.words import counted
from daskwire_conformance.traffic.limits import TOOL_LIMITS
from daskwire_conformance.traffic.recording import Recorder, prepare_folder

from .buffers import SMALL_READ, Arena, BufferPool
from .lines import stamp
from .session import Event
from .worker import DEFAULT_MAX_BACKLOG, DEFAULT_MAX_TOTAL_BACKLOG, DecodeWorker

__all__ = ["Output", "Tap", "TapConfig", "host_port"]

#: Seconds the tap waits for the upstream to accept a connection.
CONNECT_TIMEOUT: Final = 10.0
#: Bytes waiting to be sent to one side before the tap stops reading the other side, and
#: the level at which it reads again: room for a few reads in flight (asyncio's default of
#: 64 KiB stops reading after every 256 KiB read), bounded per connection and direction.
WRITE_HIGH: Final = 4 << 20
WRITE_LOW: Final = 1 << 20
#: Seconds a socket may be quiet after a large read before its read buffer (an arena,
#: `buffers.ARENA_BYTES`) goes back to the pool: an idle connection holds none.
QUIET_SECONDS: Final = 0.25
#: Seconds between two flushes of the recording's files to disk while the tap runs.
FLUSH_SECONDS: Final = 1.0
#: Seconds the tap waits, when stopping, for its connections to close.
CLOSE_TIMEOUT: Final = 5.0
#: Seconds between two reports of the same trouble of the event loop (such as accept()
#: failing for want of file descriptors): the first is reported, then a count at most this
#: often.
TROUBLE_EVERY: Final = 30.0


class Output(Protocol):
    """Where the tap's lines go (`printer.Printer`): `say` never waits, `emit` may."""

    def say(self, line: str) -> None:
        """A line from the event loop's thread."""

    def emit(self, line: str) -> None:
        """A line from the decoding thread."""


def host_port(host: str, port: int) -> str:
    """HOST:PORT, an IPv6 address in brackets: `[::1]:8786`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TapConfig:
    """Where the tap listens, where it forwards to, and what it keeps."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    upstream_host: str
    upstream_port: int
    #: The local address of the tap's connections to the upstream (None: the system's choice).
    upstream_bind: str | None = None
    record: Path | None = None
    max_backlog: int = DEFAULT_MAX_BACKLOG
    max_total_backlog: int = DEFAULT_MAX_TOTAL_BACKLOG
    #: The limits messages are decoded with (a message beyond one is a violation).
    limits: Limits = TOOL_LIMITS

    @property
    def upstream(self) -> str:
        """The upstream as HOST:PORT."""
        return host_port(self.upstream_host, self.upstream_port)


def _address(transport: asyncio.BaseTransport, key: str) -> str:
    """A socket's peer or own address as HOST:PORT."""
    name = transport.get_extra_info(key)
    return host_port(str(name[0]), int(name[1])) if isinstance(name, tuple) else str(name)


class _Half(asyncio.BufferedProtocol):
    """One socket of a connection; `direction` names the bytes it receives.

    Reads go into a large arena from the tap's pool, one after the other; each read is
    written to the other socket as a view of the arena, then handed to decoding as another
    view of the same bytes (no copy). The arena goes to decoding with its last slice, which
    gives it back to the pool: reused only once no view of it is alive."""

    def __init__(self, link: _Link, direction: str) -> None:
        self.link = link
        self.direction = direction
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._arena: Arena | None = None
        self._used = 0
        #: When a read last went into the arena, and the timer that gives it back once
        #: the socket has been quiet for `QUIET_SECONDS`.
        self._last_read = 0.0
        self._quiet: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The socket is there: bound its write buffer and tell the connection."""
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        self.link.made(self)

    def get_buffer(self, sizehint: int) -> Arena | memoryview:
        """Where the next read goes: the free end of this socket's arena (the arena itself
        when empty: no view of it outlives the read, so it can go back to the pool)."""
        if self._arena is None:
            self._arena = self.link.tap.buffers.take()
            self._used = 0
        return memoryview(self._arena)[self._used :] if self._used else self._arena

    def buffer_updated(self, nbytes: int) -> None:
        """`nbytes` arrived in the arena: forward them, then show them to the tap. A small
        read into an empty arena is copied out and the arena given back (a connection that
        passes small messages holds none). A read that leaves too little room, or a small
        one (the end of a burst), hands the arena on with this last slice; a socket quiet
        for `QUIET_SECONDS` after a large read gives it back: a connection that goes quiet
        holds no arena."""
        arena, start = self._arena, self._used
        assert arena is not None
        end = start + nbytes
        if start == 0 and nbytes < SMALL_READ:
            self._arena = None
            data = bytes(memoryview(arena)[:nbytes])  # the views are gone with the copy
            self.link.tap.buffers.give(arena, unused=True)
            self.link.forward(self, data, None, 0)
            return
        view = memoryview(arena)[start:end]
        room = len(arena) - end
        last = room < SMALL_READ or nbytes < SMALL_READ
        if last:
            self._arena = None
        else:
            self._used = end
            self._keep_until_quiet()
        self.link.forward(self, view, arena if last else None, room if last else 0)

    def _keep_until_quiet(self) -> None:
        """The arena is kept for the next read: give it back if none comes soon."""
        loop = asyncio.get_running_loop()
        self._last_read = loop.time()
        if self._quiet is None:
            self._quiet = loop.call_later(QUIET_SECONDS, self._release_if_quiet)

    def _release_if_quiet(self) -> None:
        """No read for `QUIET_SECONDS`: the arena goes back to the pool (which reuses it
        once no view of it is alive; the slices read into it are decoding's and the
        transport's), and the connection holds none."""
        self._quiet = None
        arena = self._arena
        if arena is None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_read + QUIET_SECONDS - loop.time()
        if wait > 0:
            self._quiet = loop.call_later(wait, self._release_if_quiet)
            return
        self._arena = None
        self.link.tap.buffers.give(arena)

    def eof_received(self) -> bool:
        """The peer shut its sending side: pass the end on."""
        self.link.eof(self)
        return True  # keep the socket: the other direction may still be sending

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket closed; `exc` when it ended otherwise than cleanly (a reset)."""
        self.lost = True
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        self._arena = None
        if exc is not None:
            self.link.broken(self, exc)
        self.link.lost()

    def pause_writing(self) -> None:
        """This side's write buffer is full: stop reading the other side."""
        self.link.other(self).pause_reading(True)

    def resume_writing(self) -> None:
        """This side's write buffer drained: read the other side again."""
        self.link.other(self).pause_reading(False)

    def pause_reading(self, pause: bool) -> None:
        """Stop (`pause`) or resume reading this socket, unless it is closing."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()


class _Link:
    """One proxied connection: the client's socket and the tap's socket to the upstream."""

    def __init__(self, tap: Tap, number: int) -> None:
        self.tap = tap
        self.number = number
        self.client = _Half(self, "c2s")
        self.upstream = _Half(self, "s2c")
        self.open = False
        self.ended: set[str] = set()
        self.done = False
        self.connecting: asyncio.Task[None] | None = None
        #: Whether this connection is being recorded.
        self.recorded = False
        self._broken = False

    def other(self, half: _Half) -> _Half:
        """The socket across from `half`."""
        return self.upstream if half is self.client else self.client

    def made(self, half: _Half) -> None:
        """A socket is there: for the client, connect to the upstream; for the upstream,
        the connection is open and the client is read."""
        assert half.transport is not None
        if half is self.client:
            half.transport.pause_reading()  # nothing is read before the upstream is there
            self.connecting = asyncio.get_running_loop().create_task(self._connect())
        elif not self.client.lost:
            # before the upstream's first bytes can arrive (they come after this call)
            self.open = True
            self.tap.opened(self)
            self.client.pause_reading(False)

    async def _connect(self) -> None:
        """Connect to the upstream for this client; close the client when that fails."""
        config = self.tap.config
        loop = asyncio.get_running_loop()
        bind = (config.upstream_bind, 0) if config.upstream_bind else None
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: self.upstream,
                    config.upstream_host,
                    config.upstream_port,
                    local_addr=bind,
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                why = "no answer"
            elif isinstance(exc, ConnectionRefusedError):
                why = "connection refused"
            elif isinstance(exc, socket.gaierror):  # its errno is the resolver's, not errno's
                why = f"cannot resolve {config.upstream_host}: {exc.strerror or exc}"
            else:  # asyncio's own text names the address with a Python repr: not shown
                why = exc.strerror or (os.strerror(exc.errno) if exc.errno else "")
                why = why or type(exc).__name__
            self.tap.say(f"conn {self.number} cannot reach upstream {config.upstream}: {why}")
            self.close()
            return
        if self.client.lost:
            self.close()

    def forward(
        self, half: _Half, data: bytes | memoryview, arena: Arena | None, spare: int
    ) -> None:
        """Write `data` to the other side, then show it to the tap. `arena`, when `data` is
        its last slice, goes to decoding with it, or back to the pool when not decoded."""
        sink = self.other(half).transport
        if sink is not None and not sink.is_closing():
            # Forwarded first, as a view of its own: a transport that cannot send at once
            # keeps the object it was given (Python >= 3.12 keeps it uncopied), and decoding
            # lets go of its view when done. The arena is reused only once neither view is
            # alive (`buffers.in_use`).
            sink.write(memoryview(data) if isinstance(data, memoryview) else data)
        if not self.tap.observe(self, half.direction, data, arena, spare) and arena is not None:
            # not decoded: back to the pool once the read's own view of it is gone
            asyncio.get_running_loop().call_soon(self.tap.buffers.give, arena)

    def eof(self, half: _Half) -> None:
        """One side shut its sending side: shut the other side's too; close once both did."""
        self.ended.add(half.direction)
        self.tap.ended(self, half.direction)
        sink = self.other(half).transport
        if sink is not None and not sink.is_closing() and sink.can_write_eof():
            sink.write_eof()
        if len(self.ended) == 2:
            self.close()

    def broken(self, half: _Half, exc: Exception) -> None:
        """A socket ended with an error (a reset): say so, once per connection."""
        if not self._broken:
            self._broken = True
            side = "client" if half is self.client else "upstream"
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.tap.say(f"conn {self.number} the {side} ended the connection: {why or exc}")

    def lost(self) -> None:
        """A socket closed: close the other, and finish once both are gone."""
        self.close()
        if self.client.lost and (self.upstream.lost or self.upstream.transport is None):
            self.finish()

    def close(self) -> None:
        """Close both sockets: what was written to each is still sent first."""
        for half in (self.client, self.upstream):
            if half.transport is not None and not half.transport.is_closing():
                half.transport.close()
        if self.client.lost and self.upstream.transport is None:
            self.finish()

    def finish(self) -> None:
        """Both sockets are gone: the connection closed (once)."""
        if not self.done:
            self.done = True
            self.tap.closed(self)


class Tap:
    """A TCP proxy from the listen address to the upstream that shows every message it
    forwards. Its lines go to `output`: `say` from the event loop's thread (never waits),
    `emit` from the decoding thread."""

    def __init__(self, config: TapConfig, output: Output) -> None:
        self.config = config
        self.output = output
        self.buffers = BufferPool()
        self.worker = DecodeWorker(
            output.emit,
            say=output.say,
            recycle=self.buffers.give,
            max_backlog=config.max_backlog,
            max_total_backlog=config.max_total_backlog,
            limits=config.limits,
        )
        self.recorder: Recorder | None = None
        self.links: dict[int, _Link] = {}
        self.count = 0
        self.address: tuple[str, int] | None = None
        self._all_closed: asyncio.Event | None = None
        #: Set by a second Ctrl-C or SIGTERM: stop waiting for connections and decoding.
        self.hurry = threading.Event()
        #: Per kind of event-loop trouble: when it was last reported, and how often since.
        self._trouble: dict[str, tuple[float, int]] = {}
        #: The next flush of the recording (`_flush_recording`).
        self._flushing: asyncio.TimerHandle | None = None

    def say(self, text: str, when: float | None = None) -> None:
        """A line of the forwarding side (never waits for the output)."""
        self.output.say(f"{stamp(self._now() if when is None else when)} {text}")

    def hurry_up(self) -> None:
        """Stop waiting: for connections to close now, for decoding in `finish`."""
        self.hurry.set()
        if self._all_closed is not None:
            self._all_closed.set()

    async def serve(
        self, stop: asyncio.Event, ready: Callable[[str, int], None] | None = None
    ) -> None:
        """Listen and forward until `stop` is set; then close every connection.

        Raises `OSError` when the recording folder cannot be made or the address bound."""
        config = self.config
        if config.record is not None:
            prepare_folder(config.record)
            self.recorder = Recorder(config.record)
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_trouble)
        self.worker.start()
        try:
            server = await loop.create_server(self._accept, config.listen_host, config.listen_port)
        except OSError as exc:  # asyncio's text shows the address as a Python tuple
            where = host_port(config.listen_host, config.listen_port)
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            if isinstance(exc, socket.gaierror):
                why = f"cannot resolve {config.listen_host}: {exc.strerror or exc}"
            msg = f"cannot listen on {where}: {why}"
            raise OSError(exc.errno, msg) from None
        host, port = server.sockets[0].getsockname()[:2]
        self.address = (host, port)
        record = f", recording to {config.record}" if config.record is not None else ""
        self.output.say(
            f"daskwire tap: listening on {host_port(host, port)}, forwarding to "
            f"{config.upstream}{record}"
        )
        if ready is not None:
            ready(host, port)
        if self.recorder is not None:
            self._flushing = loop.call_later(FLUSH_SECONDS, self._flush_recording)
        try:
            await stop.wait()
        finally:
            if self._flushing is not None:
                self._flushing.cancel()
            server.close()
            self._all_closed = asyncio.Event()
            for link in list(self.links.values()):
                if link.connecting is not None:
                    link.connecting.cancel()
                link.close()
            if self.links and not self.hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._all_closed.wait(), CLOSE_TIMEOUT)
            if not self.hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT)

    def _flush_recording(self) -> None:
        """Write what the recording holds to its files, and again in `FLUSH_SECONDS`: a
        recording can be read (`daskwire inspect`) while the tap runs."""
        self._flushing = None
        if self.recorder is None:
            return
        try:
            self.recorder.flush()
        except OSError as exc:
            self.say(f"recording stops: {exc.strerror or exc}; forwarding goes on")
            self.stop_recording()
            return
        loop = asyncio.get_running_loop()
        self._flushing = loop.call_later(FLUSH_SECONDS, self._flush_recording)

    def _loop_trouble(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """What asyncio reports (such as accept() failing for want of file descriptors): one
        line, no traceback, then at most one count every `TROUBLE_EVERY` seconds."""
        message = str(context.get("message", "event loop trouble"))
        exc = context.get("exception")
        why = ""
        if isinstance(exc, OSError) and exc.strerror:
            why = f": {exc.strerror}"
        elif exc is not None:
            why = f": {type(exc).__name__}: {exc}"
        now = time.monotonic()
        last, since = self._trouble.get(message, (-TROUBLE_EVERY, 0))
        if now - last < TROUBLE_EVERY:
            self._trouble[message] = (last, since + 1)
            return
        self._trouble[message] = (now, 0)
        more = f" ({since:,} more times since it was last reported)" if since else ""
        self.say(f"daskwire tap: {message}{why}{more}; the tap goes on")

    def finish(self, timeout: float) -> bool:
        """After `serve`: decode what is queued (for at most `timeout` seconds, less once
        `hurry` is set), flush the recording, say what was seen; False when decoding was
        cut short."""
        finished = self.worker.stop(timeout, self.hurry)
        self.stop_recording()
        w = self.worker.session
        short = "" if finished else "; decoding was cut short"
        if not finished:
            short += " by a second signal" if self.hurry.is_set() else f" after {timeout:g} s"
        self.output.emit(  # waits for the output, as long as the printer lets it
            f"daskwire tap: stopped after {counted(self.count, 'connection')}, "
            f"{w.messages:,} messages decoded, {counted(w.violations, 'violation')}{short}"
        )
        return finished

    def _accept(self) -> _Half:
        """A client connected: a new connection, numbered from 1."""
        self.count += 1
        link = _Link(self, self.count)
        self.links[link.number] = link
        return link.client

    def _now(self) -> float:
        """Now, in seconds since the epoch, rounded to the microsecond as the timeline
        keeps it: a line has the same time live and replayed."""
        return round(time.time(), 6)

    def opened(self, link: _Link) -> None:
        """Both sockets of a connection are there: record it and decode it from now on. When
        its files cannot be created, it is forwarded and decoded, not recorded."""
        now = self._now()
        client_transport = link.client.transport
        assert client_transport is not None
        client = _address(client_transport, "peername")
        upstream = self.config.upstream
        if self.recorder is not None:
            opened = datetime.fromtimestamp(now, UTC).isoformat()
            try:
                self.recorder.open(
                    link.number, client=client, upstream=upstream, opened=opened, when=now
                )
                link.recorded = True
            except OSError as exc:
                self.say(
                    f"conn {link.number} recording stops: {exc.strerror or exc}; this "
                    "connection is forwarded and decoded, not recorded",
                    now,
                )
        self.worker.put(Event(link.number, "open", now, client=client, upstream=upstream))

    def observe(
        self,
        link: _Link,
        direction: str,
        data: bytes | memoryview,
        arena: Arena | None = None,
        spare: int = 0,
    ) -> bool:
        """A chunk was forwarded: record it and queue it for decoding; True when decoding
        took it (and `arena`, the read buffer it ends, to give back once decoded)."""
        if not link.open:
            return False
        now = self._now()
        if self.recorder is not None and link.recorded:
            try:
                self.recorder.write(link.number, direction, data, now)
            except OSError as exc:
                self.say(f"recording stops: {exc.strerror or exc}; forwarding goes on", now)
                self.stop_recording()
        return self.worker.put(
            Event(link.number, "data", now, direction, data, buffer=arena, spare=spare)
        )

    def stop_recording(self) -> None:
        """Close every recording file; nothing more is recorded."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            with contextlib.suppress(OSError):
                recorder.close_all()

    def ended(self, link: _Link, direction: str) -> None:
        """One direction of a connection ended."""
        if link.open:
            now = self._now()
            if self.recorder is not None and link.recorded:
                try:
                    self.recorder.end(link.number, direction, now)
                except OSError as exc:
                    self.say(f"recording stops: {exc.strerror or exc}; forwarding goes on", now)
                    self.stop_recording()
            self.worker.put(Event(link.number, "end", now, direction))

    def closed(self, link: _Link) -> None:
        """A connection closed on both sides: its last line, its files closed."""
        self.links.pop(link.number, None)
        if link.open:
            now = self._now()
            if self.recorder is not None and link.recorded:
                try:
                    self.recorder.close(link.number, now)
                except OSError as exc:
                    self.say(f"recording stops: {exc.strerror or exc}; forwarding goes on", now)
                    self.stop_recording()
            self.worker.put(Event(link.number, "close", now))
        if not self.links and self._all_closed is not None:
            self._all_closed.set()
