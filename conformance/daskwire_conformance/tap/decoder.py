"""One direction of a connection, decoded beside the forwarding: detection, messages, failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import daskwire
from daskwire.limits import Limits

from daskwire_conformance.traffic.detect import PROBE_BYTES, Detection, detect_profile
from daskwire_conformance.traffic.limits import TOOL_LIMITS
from daskwire_conformance.traffic.stream import Failure, Message, MessageStream
from daskwire_conformance.traffic.summary import (
    HandshakeSummary,
    OffloadedSummary,
    summarize,
)

from .elide import DEFAULT_KEEP_BYTES, Skimmer

__all__ = ["DirectionDecoder", "Report", "Seen"]

#: Bytes a stream must have before detection is tried: a hint or count and one length.
_MIN_PROBE: Final = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One message of a direction, as the tap reports it; no frame bytes are kept."""

    index: int
    offset: int
    size: int
    frames: int
    ops: tuple[str, ...]
    batch: bool
    offloaded: tuple[OffloadedSummary, ...]
    #: What the side proposed, when this is the first message of a profile with a handshake.
    handshake: HandshakeSummary | None
    #: When the message does not decode: the spec's category, the requirement and why.
    category: str | None
    requirement: str | None
    error: str | None
    #: The frames of a handshake message, as they passed (what the other side reads).
    handshake_frames: tuple[bytes, ...] = ()


#: What decoding a direction reports, in stream order.
Report = Detection | Seen | Failure


class DirectionDecoder:
    """Decodes one direction's bytes as they pass; `feed` and `close` return what they found.

    Memory is bounded by `held`: the first bytes kept for detection, then the real bytes of
    the message being read (large data frames are read past, see `elide`).
    """

    def __init__(self, *, limits: Limits = TOOL_LIMITS, keep_bytes: int = DEFAULT_KEEP_BYTES):
        self._limits = limits
        self._keep_bytes = keep_bytes
        self._head = bytearray()
        self._stream: MessageStream | None = None
        self._skimmer: Skimmer | None = None
        self._out: list[Report] = []
        self.profile: str | None = None
        self.stopped = False
        #: Messages and bytes seen.
        self.messages = 0
        self.bytes = 0

    @property
    def held(self) -> int:
        """The bytes this direction's decoding holds now."""
        if self.stopped:
            return 0
        return len(self._head) + (self._skimmer.held if self._skimmer is not None else 0)

    def feed(self, data: bytes | memoryview) -> list[Report]:
        """Decode one chunk, exactly as it was forwarded."""
        self.bytes += len(data)
        if self.stopped:
            return []
        if self._skimmer is None:
            self._head += data
            if len(self._head) < _MIN_PROBE:
                return []
            head = bytes(self._head[:PROBE_BYTES])
            detection = detect_profile(head, self._limits)
            if len(head) < PROBE_BYTES and not self._settled(detection.profile, head):
                return []
            return self._start(detection)
        self._skimmer.feed(memoryview(data).cast("B"))
        return self._take()

    def stop(self) -> None:
        """Decode no more, and let go of every byte held."""
        self.stopped = True
        self._head = bytearray()
        self._stream = None
        self._skimmer = None

    def close(self) -> list[Report]:
        """The stream ended: what its last bytes complete, or why they do not."""
        out: list[Report] = []
        if self._skimmer is None and self._head and not self.stopped:
            out = self._start(detect_profile(bytes(self._head[:PROBE_BYTES]), self._limits))
        if self._stream is not None and not self.stopped:
            self._out.extend(self._stream.close())
            out += self._take()
        self.stopped = True
        return out

    def _settled(self, profile: str, head: bytes) -> bool:
        """Whether `head` holds the whole first message of `profile`, or bytes that can never
        be one: then detection has all it will get, however the stream is chunked."""
        try:
            return bool(daskwire.get_profile(profile).stream_reader(self._limits).feed(head))
        except daskwire.DaskwireError:
            return True

    def _start(self, detection: Detection) -> list[Report]:
        """Detection is done: read the stream as `detection.profile` from its first byte."""
        self.profile = detection.profile
        self._stream = MessageStream(detection.profile, self._limits)
        self._skimmer = Skimmer(detection.profile, self._sink, keep_bytes=self._keep_bytes)
        self._out.append(detection)
        head, self._head = self._head, bytearray()
        self._skimmer.feed(memoryview(head))
        return self._take()

    def _sink(self, piece: memoryview) -> None:
        """Bytes from the skimmer: decode what they complete."""
        assert self._stream is not None
        if self.stopped:
            return
        for item in self._stream.feed(piece):
            if isinstance(item, Message):
                self._out.append(self._seen(item))
            else:
                self._out.append(item)
                self.stopped = True

    def _seen(self, message: Message) -> Seen:
        """One decoded message as the tap reports it."""
        assert self.profile is not None
        summary = summarize(
            self.profile, message.frames, first=message.index == 0, limits=self._limits
        )
        self.messages += 1
        return Seen(
            index=message.index,
            offset=message.offset,
            size=message.size,
            frames=len(message.frames),
            ops=summary.ops,
            batch=summary.batch,
            offloaded=summary.offloaded,
            handshake=summary.handshake,
            category=summary.category,
            requirement=summary.requirement,
            error=summary.error,
            handshake_frames=(
                tuple(bytes(f) for f in message.frames) if summary.handshake is not None else ()
            ),
        )

    def _take(self) -> list[Report]:
        """The reports found since the last call."""
        out, self._out = self._out, []
        return out
