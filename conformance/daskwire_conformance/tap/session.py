"""The tap's lines from a sequence of connection events: the same live and from a recording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from daskwire.limits import Limits

from daskwire_conformance.common.text import escape
from daskwire_conformance.traffic.limits import TOOL_LIMITS
from daskwire_conformance.traffic.recording import DIRECTIONS

from .buffers import Arena
from .decoder import DirectionDecoder, Report
from .elide import DEFAULT_KEEP_BYTES
from .lines import closed_line, open_line, stamp
from .report import ConnectionLog

__all__ = ["EVENTS", "Event", "Session"]

#: What can happen to a connection: it opens, a chunk passes one way, one direction ends
#: (its sender shut it), it closes on both sides, the tap stops decoding it, or a chunk
#: passes that is not decoded (only its size is counted).
EVENTS: Final = ("open", "data", "end", "close", "drop", "skip")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to a connection, at `when` (seconds since the epoch)."""

    connection: int
    kind: str
    when: float
    direction: str = ""
    #: For "data": the chunk, exactly as forwarded (live, a view of the tap's read buffer).
    data: bytes | memoryview = b""
    #: For "open": who connected, and where to.
    client: str = ""
    upstream: str = ""
    #: For "skip": the size of the chunk that passed undecoded.
    size: int = 0
    #: For "data", live: the read buffer `data` is the last slice of, given back to the tap's
    #: pool once decoded, and its bytes that hold no data (counted in the backlog).
    buffer: Arena | None = None
    spare: int = 0


@dataclass(slots=True)
class _Connection:
    log: ConnectionLog
    decoders: dict[str, DirectionDecoder]
    #: Bytes of each direction that passed after decoding stopped.
    skipped: dict[str, int]
    stopped: bool = False


class Session:
    """Decodes the events of every connection in the order they happened and returns the
    lines they give. Not thread-safe: one thread feeds it."""

    def __init__(
        self, *, limits: Limits = TOOL_LIMITS, keep_bytes: int = DEFAULT_KEEP_BYTES
    ) -> None:
        self._limits = limits
        self._keep_bytes = keep_bytes
        self._connections: dict[int, _Connection] = {}
        #: Totals over the session.
        self.messages = 0
        self.violations = 0

    def held(self, connection: int) -> int:
        """The bytes a connection's decoding holds now (0 for one it does not decode)."""
        conn = self._connections.get(connection)
        return sum(d.held for d in conn.decoders.values()) if conn is not None else 0

    def handle(self, event: Event) -> list[str]:
        """The lines one event gives."""
        n = event.connection
        when = stamp(event.when)
        if event.kind == "open":
            decoders = {
                d: DirectionDecoder(limits=self._limits, keep_bytes=self._keep_bytes)
                for d in DIRECTIONS
            }
            skipped = dict.fromkeys(DIRECTIONS, 0)
            self._connections[n] = _Connection(ConnectionLog(n), decoders, skipped)
            return [escape(f"{when} {open_line(n, event.client, event.upstream)}")]
        conn = self._connections.get(n)
        if conn is None:
            return []
        if event.kind == "skip":
            conn.skipped[event.direction] += event.size
            return []
        if event.kind == "drop":  # forget what decoding holds; keep the counts
            conn.stopped = True
            for decoder in conn.decoders.values():
                decoder.stop()
            return []
        if conn.stopped:
            if event.kind == "data":
                conn.skipped[event.direction] += len(event.data)
            return self._closed(conn, when, n) if event.kind == "close" else []
        if event.kind == "data":
            return self._say(
                conn, when, event.direction, conn.decoders[event.direction].feed(event.data)
            )
        if event.kind == "end":
            return self._say(conn, when, event.direction, conn.decoders[event.direction].close())
        if event.kind == "close":
            out: list[str] = []
            for direction, decoder in conn.decoders.items():
                out += self._say(conn, when, direction, decoder.close())
            return out + self._closed(conn, when, n)
        return []

    def _closed(self, conn: _Connection, when: str, n: int) -> list[str]:
        """The connection's last line; its bookkeeping is freed."""
        counts = {
            d: (dec.messages, dec.bytes + conn.skipped[d]) for d, dec in conn.decoders.items()
        }
        del self._connections[n]
        return [closed_line(when, n, counts, decoded=not conn.stopped)]

    def _say(
        self, conn: _Connection, when: str, direction: str, reports: list[Report]
    ) -> list[str]:
        """The lines of a direction's reports; the totals counted."""
        messages, violations = conn.log.messages, conn.log.violations
        out: list[str] = []
        for report in reports:
            out += conn.log.lines(when, direction, report)
        self.messages += conn.log.messages - messages
        self.violations += conn.log.violations - violations
        return out
