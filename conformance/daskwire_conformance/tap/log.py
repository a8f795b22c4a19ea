"""The tap's lines made again from a recording, as the live tap printed them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO

from daskwire.limits import Limits

from daskwire_conformance.traffic.limits import TOOL_LIMITS
from daskwire_conformance.traffic.recording import (
    DIRECTIONS,
    RecordedConnection,
    RecordingError,
    TimelineEntry,
    open_recorded,
    read_index,
    read_timeline,
)
from daskwire_conformance.traffic.stream import READ_CHUNK

from .session import Event, Session

__all__ = ["replay_lines"]


def _opened(conn: RecordedConnection) -> float:
    """When a connection opened, from its index line (0 when unreadable)."""
    try:
        return datetime.fromisoformat(conn.opened).timestamp()
    except ValueError:
        return 0.0


def _open(folder: Path, name: str, stack: ExitStack) -> IO[bytes]:
    """A file of the recording, closed with `stack`; never through a symbolic link."""
    return stack.enter_context(open_recorded(folder, name))


def _timed(folder: Path, timeline: Iterator[TimelineEntry], stack: ExitStack) -> Iterator[Event]:
    """The events of a recording with a timeline: exactly what the live tap decoded."""
    connections = {c.connection: c for c in read_index(folder)}
    files: dict[tuple[int, str], IO[bytes]] = {}
    for entry in timeline:
        conn = connections.get(entry.c)
        if conn is None:
            msg = f"{folder}: the timeline names connection {entry.c}, which the index does not"
            raise RecordingError(msg)
        if entry.e == "open":
            for d in DIRECTIONS:
                files[(entry.c, d)] = _open(folder, conn.files[d], stack)
            yield Event(entry.c, "open", entry.t, client=conn.client, upstream=conn.upstream)
        elif entry.e == "data" and entry.d is not None and (entry.c, entry.d) in files:
            left = entry.n
            while left:  # in pieces: a damaged timeline cannot ask for a huge read
                data = files[(entry.c, entry.d)].read(min(left, READ_CHUNK))
                if not data:
                    msg = f"{folder}: connection {entry.c} {entry.d} is shorter than its timeline"
                    raise RecordingError(msg)
                left -= len(data)
                yield Event(entry.c, "data", entry.t, entry.d, data)
        elif entry.e in ("end", "close"):
            if entry.e == "close":  # its files are read: close them (a recording may hold many)
                for d in DIRECTIONS:
                    handle = files.pop((entry.c, d), None)
                    if handle is not None:
                        handle.close()
            yield Event(entry.c, entry.e, entry.t, entry.d or "")


def _untimed(folder: Path) -> Iterator[Event]:
    """The events of a recording without a timeline: each connection in turn, its two
    directions' bytes one after the other, every line at the time it was opened."""
    for conn in read_index(folder):
        when = _opened(conn)
        yield Event(conn.connection, "open", when, client=conn.client, upstream=conn.upstream)
        for d in DIRECTIONS:
            with open_recorded(folder, conn.files[d]) as handle:
                while chunk := handle.read(READ_CHUNK):
                    yield Event(conn.connection, "data", when, d, chunk)
            yield Event(conn.connection, "end", when, d)
        yield Event(conn.connection, "close", when)


def replay_lines(folder: Path, limits: Limits = TOOL_LIMITS) -> list[str]:
    """The lines `daskwire tap` printed for the connections recorded in `folder`, made again
    from its bytes and its timeline (`timeline.jsonl`), with the times they were printed at.
    A recording without a timeline gives each connection in turn, its client's messages
    first, every line with the time the connection opened.

    Raises `RecordingError` when the folder or a file it names cannot be read."""
    session = Session(limits=limits)
    lines: list[str] = []
    with ExitStack() as stack:
        timeline = read_timeline(folder)
        events = _untimed(folder) if timeline is None else _timed(folder, timeline, stack)
        for event in events:
            lines += session.handle(event)
    return lines
