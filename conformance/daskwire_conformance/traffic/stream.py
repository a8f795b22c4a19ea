"""A stream of one direction of a connection, read message by message with byte offsets."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.profile import StreamReader

__all__ = ["READ_CHUNK", "U64", "Failure", "Message", "MessageStream"]

#: A prelude field: a little-endian u64 (both profiles).
U64: Final = struct.Struct("<Q")
#: A prelude naming more frames than this is no hint (the reader's limits say why).
_MAX_HINT_FRAMES: Final = 1 << 21

#: How many bytes a file is read in at a time: memory stays at one message plus this.
READ_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One message read from the stream: where it starts, how long it is, and its frames."""

    #: Its position in the stream, from 0.
    index: int
    #: The offset of its first byte in the stream.
    offset: int
    #: Its length on the wire: prelude and frames.
    size: int
    frames: tuple[memoryview, ...] = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """The stream broke: its framing cannot be read past this point (WF-6)."""

    #: The message that could not be read, and the offset where it starts.
    index: int
    offset: int
    #: The spec's error category and the requirement broken, when one is to blame.
    category: str
    requirement: str | None
    message: str
    #: Why the reader cannot find the next message: each message's length is in its own
    #: prelude, so after a broken one there is no telling where the next begins.
    why_stop: str = (
        "a message's length is known only from its own prelude: after a broken one, the "
        "next message's start cannot be found"
    )


def _prelude_size(profile: daskwire.Profile, count: int) -> int:
    return len(memoryview(profile.pack([b""] * count)[0]).cast("B"))


class MessageStream:
    """Feeds chunks of one direction of a connection to a profile's stream reader and yields
    each message with its index and byte offset, then a `Failure` if the framing breaks."""

    def __init__(self, profile: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.profile = daskwire.get_profile(profile)
        self._reader: StreamReader = self.profile.stream_reader(limits)
        #: Messages read so far, and the offset where the next one starts.
        self.count = 0
        self.offset = 0
        #: Bytes fed in all.
        self.fed = 0
        self.failure: Failure | None = None
        # A prelude's size is linear in the frame count: learnt once from the profile's own
        # `pack`, so a message's size is its frame lengths plus that, never re-packed.
        two, three = (_prelude_size(self.profile, n) for n in (2, 3))
        self._per_frame = three - two
        self._prelude_base = two - 2 * self._per_frame

    def prelude_size(self, count: int) -> int:
        """The size of the prelude of a message of `count` frames, in this profile."""
        return self._prelude_base + self._per_frame * count

    @property
    def at_boundary(self) -> bool:
        """Whether every byte fed so far is in a message read: the next byte starts one."""
        return self.fed == self.offset and self.failure is None

    def wire_size(self, head: bytes | memoryview) -> int | None:
        """The length on the wire of the message whose first bytes are `head`, read from its
        prelude (the frame count after the profile's leading fields, then one length per
        frame), or None when the prelude is not whole in `head`. A hint for cutting input at
        message boundaries only: the profile's reader still checks every field."""
        lead = self._prelude_base - self._per_frame
        if self._per_frame != U64.size or len(head) < lead + U64.size:
            return None
        (count,) = U64.unpack_from(head, lead)
        end = self.prelude_size(count)
        if count > _MAX_HINT_FRAMES or len(head) < end:
            return None
        lengths: tuple[int, ...] = struct.unpack_from(f"<{count}Q", head, lead + U64.size)
        return end + sum(lengths)

    def feed(self, chunk: bytes | bytearray | memoryview) -> Iterator[Message | Failure]:
        """The messages `chunk` completes, then a `Failure` if the stream broke; nothing
        after a failure."""
        if self.failure is not None:
            return
        self.fed += len(chunk)
        try:
            messages = self._reader.feed(chunk)
        except daskwire.DaskwireError as exc:
            yield self._fail(exc)
            return
        yield from self._messages(messages)

    def close(self) -> Iterator[Failure]:
        """End the stream: a `Failure` when it ends inside a message (truncated-input)."""
        if self.failure is not None:
            return
        try:
            self._reader.close()
        except daskwire.DaskwireError as exc:
            yield self._fail(exc)

    def _messages(self, messages: list[list[memoryview]]) -> Iterator[Message]:
        for frames in messages:
            size = self.prelude_size(len(frames)) + sum(f.nbytes for f in frames)
            yield Message(index=self.count, offset=self.offset, size=size, frames=tuple(frames))
            self.count += 1
            self.offset += size

    def _fail(self, exc: daskwire.DaskwireError) -> Failure:
        self.failure = Failure(
            index=self.count,
            offset=self.offset,
            category=str(exc.category.value),
            requirement=exc.requirement,
            message=str(exc),
        )
        return self.failure
