"""What `inspect` reports, as frozen records that the text and the JSON writers both render."""

from __future__ import annotations

from dataclasses import dataclass

from daskwire_conformance.inspect.context import ErrorContext
from daskwire_conformance.traffic.detect import Detection
from daskwire_conformance.traffic.summary import HandshakeSummary, Summary

__all__ = [
    "ConnectionReport",
    "FailureReport",
    "InputReport",
    "MessageReport",
    "StreamEnd",
    "StreamStart",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStart:
    """A stream about to be read: what it is, how long, and the profile it is read as."""

    label: str
    connection: int | None
    direction: str | None
    peers: str | None
    #: Its length in bytes, or None for messages given as frames.
    size: int | None
    detection: Detection
    #: True when the profile was detected rather than named with --profile.
    detected: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReport:
    """One message: where it is, its frames, and what it holds or why it does not decode."""

    label: str
    connection: int | None
    direction: str | None
    profile: str
    index: int
    #: Its first byte in the stream and its length on the wire; None for a frames file.
    offset: int | None
    size: int | None
    frame_sizes: tuple[int, ...]
    summary: Summary
    #: Why the first message was not read as a comm handshake, when it was not.
    handshake_note: str | None = None
    #: For a message that does not decode: the bytes around the fault.
    context: ErrorContext | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureReport:
    """The framing broke: reading this stream stops here, and why it cannot go on."""

    label: str
    connection: int | None
    direction: str | None
    index: int
    offset: int
    category: str
    requirement: str | None
    message: str
    why_stop: str
    context: ErrorContext


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEnd:
    """A stream read to its end, or to where its framing broke."""

    label: str
    connection: int | None
    direction: str | None
    messages: int
    shown: int
    errors: int
    #: Bytes read as whole messages, and the stream's length; None for a frames file.
    read: int | None
    size: int | None
    stopped: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class InputReport:
    """An input, or a stream of a recording, that cannot be read at all."""

    label: str
    category: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionReport:
    """A recorded connection's two handshakes side by side, and what the peers agree (DK-5)."""

    connection: int
    c2s: HandshakeSummary
    s2c: HandshakeSummary
    compression: str | None
    pickle_protocol: int
    #: Plain-words warnings about what breaks clusters: differing settings or Pythons.
    warnings: tuple[str, ...]
