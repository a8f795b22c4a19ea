"""Wire framing of every profile: the u64 prelude, one-message unpacking, an incremental reader."""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from operator import attrgetter

from .constants import PRELUDE_INT_BYTES
from .errors import (
    DaskwireError,
    InvalidReadHint,
    LimitExceeded,
    TooFewFrames,
    TrailingBytes,
    TruncatedInput,
)
from .limits import DEFAULT_LIMITS, Limits
from .model import Buffer

__all__ = [
    "FrameReader",
    "Framing",
    "frame_sizes",
    "frame_view",
    "frame_views",
    "pack",
    "pack_bytes",
    "unpack",
]

_U64 = struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class Framing:
    """What a profile's messages look like on a stream, beyond the shared u64 prelude.

    `minimum` is the fewest frames a message has, set by requirement `requirement`. When
    `hint` names a requirement, each message starts with a u64 no-split read hint: the number
    of bytes after it that make up the prelude and some first frames (dask-2023.11, DT-4).
    """

    minimum: int
    requirement: str
    hint: str | None = None

    @property
    def lead(self) -> int:
        """Bytes before the frame count: the hint's 8, or none."""
        return PRELUDE_INT_BYTES if self.hint is not None else 0


#: Frame types whose len() is their size in bytes and whose memoryview is flat bytes.
_PLAIN = frozenset({bytes, bytearray})


def frame_view(frame: object) -> memoryview:
    """A flat byte view of a frame; raises TypeError for objects that are not bytes-like."""
    if not isinstance(frame, bytes | bytearray | memoryview):
        msg = f"a frame must be bytes, bytearray or memoryview, not {type(frame).__name__}"
        raise TypeError(msg)
    view = memoryview(frame)
    if not view.c_contiguous:
        msg = "a frame must be C-contiguous"
        raise TypeError(msg)
    if view.format == "B" and view.ndim == 1:
        return view
    # A view with a zero in its shape holds no bytes, and cannot be cast.
    return view.cast("B") if view.nbytes else memoryview(b"")


def frame_sizes(frames: Sequence[Buffer]) -> list[int]:
    """The byte size of each frame; raises TypeError as `frame_view` does."""
    if _PLAIN.issuperset(map(type, frames)):
        return list(map(len, frames))
    return [frame_view(f).nbytes for f in frames]


#: The frame types `frame_view` takes.
_BUFFERS = frozenset({bytes, bytearray, memoryview})
#: (C-contiguous, dimensions, format) of a view `frame_view` returns as it is.
_FLAT = frozenset({(True, 1, "B")})
#: A view's (C-contiguous, dimensions, format), to compare with `_FLAT`.
_VIEW_SHAPE = attrgetter("c_contiguous", "ndim", "format")


def frame_views(frames: Sequence[Buffer]) -> list[memoryview]:
    """`frame_view` of each frame, without a Python step per frame for bytes, bytearray and
    flat byte views (what `unpack` and `FrameReader` return)."""
    if _PLAIN.issuperset(map(type, frames)):
        return [memoryview(f) for f in frames]
    if _BUFFERS.issuperset(map(type, frames)):
        views = [memoryview(f) for f in frames]
        if _FLAT.issuperset(map(_VIEW_SHAPE, views)):
            return views
    return [frame_view(f) for f in frames]


def pack(frames: Sequence[Buffer]) -> list[Buffer]:
    """Return `[prelude, *frames]`, ready for `socket.sendmsg` or `writev` (WF-1).

    The frames are not copied or joined.
    """
    lengths = frame_sizes(frames)
    prelude = struct.pack(f"<{len(lengths) + 1}Q", len(lengths), *lengths)
    return [prelude, *frames]


def pack_bytes(frames: Sequence[Buffer]) -> bytes:
    """Return one message's wire bytes as a single `bytes` (this copies the frames)."""
    return b"".join(pack(frames))


def _check_hint(hint: int, limits: Limits, rule: Framing) -> None:
    """The checks of a read hint that need nothing after it: a bound, and room for a prelude."""
    if hint > limits.max_message_bytes:
        msg = f"read hint {hint} is over max_message_bytes={limits.max_message_bytes}"
        raise LimitExceeded(msg, limit="max_message_bytes", requirement="WF-7")
    if hint < 2 * PRELUDE_INT_BYTES:
        msg = f"read hint {hint} is shorter than the smallest prelude (16 bytes)"
        raise InvalidReadHint(msg, requirement=rule.hint)


def _on_boundary(hint: int, lengths: Sequence[int]) -> bool:
    """True when a read hint ends the prelude or a frame of its message (DT-4)."""
    edge = PRELUDE_INT_BYTES * (len(lengths) + 1)
    if hint == edge:
        return True
    for length in lengths:
        edge += length
        if hint <= edge:
            break
    return hint == edge


def _check_hint_boundary(hint: int, lengths: Sequence[int], rule: Framing) -> None:
    """A read hint must end after the prelude, on a frame boundary of its message."""
    if not _on_boundary(hint, lengths):
        edge = PRELUDE_INT_BYTES * (len(lengths) + 1) + sum(lengths)
        where = (
            "inside the prelude"
            if hint < PRELUDE_INT_BYTES * (len(lengths) + 1)
            else ("inside a frame" if hint < edge else "past the message's end")
        )
        msg = f"read hint {hint} ends {where}, not on a frame boundary"
        raise InvalidReadHint(msg, requirement=rule.hint)


def _check_count(count: int, limits: Limits, rule: Framing) -> None:
    if count > limits.max_frames:
        msg = f"message declares {count} frames, over max_frames={limits.max_frames}"
        raise LimitExceeded(msg, limit="max_frames", requirement="WF-7")
    if count < rule.minimum:
        msg = f"message declares {count} frames; a message has at least {rule.minimum}"
        raise TooFewFrames(msg, requirement=rule.requirement)


def _check_frame_lengths(lengths: Sequence[int], first: int, limits: Limits) -> None:
    """Check frame lengths `first`, `first + 1`, ... against `max_frame_bytes` (WF-7, WF-9)."""
    if lengths and max(lengths) > limits.max_frame_bytes:
        index, length = next(
            (i, n) for i, n in enumerate(lengths, first) if n > limits.max_frame_bytes
        )
        msg = (
            f"frame {index} declares {length} bytes, over max_frame_bytes={limits.max_frame_bytes}"
        )
        raise LimitExceeded(msg, limit="max_frame_bytes", requirement="WF-7")


def _message_size(lengths: Sequence[int], limits: Limits, lead: int) -> int:
    """Check the message's total size, `lead` bytes before the count included, against
    `max_message_bytes` (WF-7); return it."""
    total = lead + PRELUDE_INT_BYTES * (len(lengths) + 1) + sum(lengths)
    if total > limits.max_message_bytes:
        msg = f"message declares {total} bytes, over max_message_bytes={limits.max_message_bytes}"
        raise LimitExceeded(msg, limit="max_message_bytes", requirement="WF-7")
    return total


def unpack(data: Buffer, *, rule: Framing, limits: Limits = DEFAULT_LIMITS) -> list[memoryview]:
    """Split the wire bytes of exactly one message into frames (views of `data`, no copy).

    Raises `TruncatedInput` (WF-4), `TrailingBytes` (WF-3), `TooFewFrames` (the profile's
    `rule`), `LimitExceeded` (WF-7) or, with a read hint, `InvalidReadHint`, whichever check
    fails first in the order of WF-9 (DT-8 with a hint).
    """
    view = frame_view(data)
    size = view.nbytes
    lead = rule.lead
    hint = 0
    if lead:
        if size < lead:
            msg = f"{size} bytes cannot hold the 8-byte read hint"
            raise TruncatedInput(msg, requirement="WF-4")
        (hint,) = _U64.unpack_from(view)
        _check_hint(hint, limits, rule)
    if size < lead + PRELUDE_INT_BYTES:
        msg = f"{size} bytes cannot hold the 8-byte frame count"
        raise TruncatedInput(msg, requirement="WF-4")
    (count,) = _U64.unpack_from(view, lead)
    _check_count(count, limits, rule)
    # WF-9: the lengths that are present are checked before a cut prelude is reported.
    present = min(count, (size - lead) // PRELUDE_INT_BYTES - 1)
    lengths = struct.unpack_from(f"<{present}Q", view, lead + PRELUDE_INT_BYTES)
    _check_frame_lengths(lengths, 0, limits)
    prelude_size = PRELUDE_INT_BYTES * (count + 1)
    if present < count:
        msg = f"{size} bytes cannot hold the prelude of {count} frames ({prelude_size} bytes)"
        raise TruncatedInput(msg, requirement="WF-4")
    total = _message_size(lengths, limits, lead)
    if lead:
        _check_hint_boundary(hint, lengths, rule)
    if size < total:
        msg = f"message needs {total} bytes, only {size} present"
        raise TruncatedInput(msg, requirement="WF-4")
    if size > total:
        msg = f"{size - total} bytes follow the message's last frame"
        raise TrailingBytes(msg, requirement="WF-3")
    frames = []
    offset = lead + prelude_size
    for length in lengths:
        frames.append(view[offset : offset + length])
        offset += length
    return frames


def _whole_messages(
    view: memoryview, rule: Framing, limits: Limits
) -> tuple[list[list[memoryview]], int]:
    """The whole messages at the start of `view` that pass every check, and the bytes they
    take. Vouch or step aside: it stops at the first message that is cut short or breaks a
    rule, and `FrameReader`'s state machine reads on from there, deciding every error (WF-9)
    with the frames it returns for a whole message."""
    messages: list[list[memoryview]] = []
    size = view.nbytes
    lead = PRELUDE_INT_BYTES if rule.hint is not None else 0
    offset = 0
    while size >= offset + lead + PRELUDE_INT_BYTES:
        base = offset + lead
        (count,) = _U64.unpack_from(view, base)
        start = base + PRELUDE_INT_BYTES * (count + 1)
        if start > size or count > limits.max_frames or count < rule.minimum:
            break
        lengths = struct.unpack_from(f"<{count}Q", view, base + PRELUDE_INT_BYTES)
        end = start + sum(lengths)
        if end > size or end - offset > limits.max_message_bytes:
            break
        if lengths and max(lengths) > limits.max_frame_bytes:
            break
        if lead:
            (hint,) = _U64.unpack_from(view, offset)
            # the whole rest of the message (DT-6) is the usual hint; others are looked up
            if hint < 2 * PRELUDE_INT_BYTES or (
                hint != end - base
                and (hint > limits.max_message_bytes or not _on_boundary(hint, lengths))
            ):
                break
        edges = list(accumulate(lengths, initial=start))
        messages.append([view[a:b] if a < b else memoryview(b"") for a, b in pairwise(edges)])
        offset = end
    return messages, offset


class FrameReader:
    """Incremental reader of a stream of messages: feed chunks, get whole frame lists (WF-5).

    It buffers at most the message being read plus what was fed beyond it, and checks every
    declared size against `limits` as soon as it has arrived, before waiting for the bytes it
    announces (WF-7, WF-9). Frames that arrived inside one fed chunk are views of that chunk;
    a frame that spans chunks is joined once. Writable chunks (bytearray, writable
    memoryview) are copied on feed, since the caller may reuse them. When a chunk completes
    messages and then breaks the stream, `feed` returns those messages and raises the error
    on the next call, so the result never depends on how the bytes were chunked (WF-5).
    After an error the reader raises the same error on every call.
    """

    __slots__ = (
        "_buffered",
        "_chunks",
        "_count",
        "_error",
        "_held",
        "_hint",
        "_lengths",
        "_limits",
        "_read",
        "_rule",
        "_total",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, rule: Framing) -> None:
        self._limits = limits
        self._rule = rule
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0
        # The prelude being read: its frame count, the lengths read so far, and the bytes
        # of it taken from the chunks (still counted as buffered until the prelude is whole).
        self._hint: int | None = None
        self._count: int | None = None
        self._read: list[int] = []
        self._held = 0
        self._lengths: tuple[int, ...] | None = None
        self._total = 0
        self._error: DaskwireError | None = None

    @property
    def buffered(self) -> int:
        """Bytes fed but not yet returned as part of a message, or held in a partial prelude."""
        return self._buffered + self._held

    def _take(self, size: int) -> memoryview:
        if size == 0:
            return memoryview(b"")
        first = self._chunks[0]
        if first.nbytes >= size:
            piece = first[:size]
            if first.nbytes == size:
                self._chunks.popleft()
            else:
                self._chunks[0] = first[size:]
            self._buffered -= size
            return piece
        parts = bytearray()
        need = size
        while need:
            chunk = self._chunks[0]
            if chunk.nbytes <= need:
                parts += chunk
                need -= chunk.nbytes
                self._chunks.popleft()
            else:
                parts += chunk[:need]
                self._chunks[0] = chunk[need:]
                need = 0
        self._buffered -= size
        return memoryview(bytes(parts))

    def _read_prelude(self) -> tuple[int, ...] | None:
        """Read as much of the prelude as has arrived, checking each field as it comes (WF-9)."""
        limits = self._limits
        if self._count is None:
            if self._hint is None and self._rule.lead:
                if self._buffered < PRELUDE_INT_BYTES:
                    return None
                (hint,) = _U64.unpack(self._take(PRELUDE_INT_BYTES))
                self._held = PRELUDE_INT_BYTES
                _check_hint(hint, limits, self._rule)
                self._hint = hint
            if self._buffered < PRELUDE_INT_BYTES:
                return None
            (count,) = _U64.unpack(self._take(PRELUDE_INT_BYTES))
            self._held += PRELUDE_INT_BYTES
            _check_count(count, limits, self._rule)
            self._count = count
        ready = min(self._count - len(self._read), self._buffered // PRELUDE_INT_BYTES)
        if ready:
            piece = self._take(PRELUDE_INT_BYTES * ready)
            self._held += piece.nbytes
            lengths = struct.unpack_from(f"<{ready}Q", piece)
            _check_frame_lengths(lengths, len(self._read), limits)
            self._read.extend(lengths)
        if len(self._read) < self._count:
            return None
        lengths = tuple(self._read)
        self._count, self._read, self._held = None, [], 0
        return lengths

    def _step(self) -> list[memoryview] | None:
        if self._lengths is None:
            lengths = self._read_prelude()
            if lengths is None:
                return None
            _message_size(lengths, self._limits, self._rule.lead)
            if self._hint is not None:
                _check_hint_boundary(self._hint, lengths, self._rule)
                self._hint = None
            self._total = sum(lengths)
            self._lengths = lengths
        if self._buffered < self._total:
            return None
        frames = [self._take(length) for length in self._lengths]
        self._lengths = None
        return frames

    def feed(self, data: Buffer) -> list[list[memoryview]]:
        """Add bytes; return the messages completed by them, in order (possibly none)."""
        if self._error is not None:
            raise self._error
        if type(data) is bytes:
            view = memoryview(data)  # what frame_view gives: flat and read-only
        else:
            view = frame_view(data)
            if not view.readonly:
                view = memoryview(bytes(view))
        messages: list[list[memoryview]] = []
        if not self._chunks and self._lengths is None and not self._held:
            # At a message boundary: whole messages are cut from the chunk directly.
            messages, used = _whole_messages(view, self._rule, self._limits)
            if used == view.nbytes:
                return messages  # nothing left for the state machine
            view = view[used:]
        if view.nbytes:
            self._chunks.append(view)
            self._buffered += view.nbytes
        try:
            while self._chunks or self._lengths is not None:
                frames = self._step()
                if frames is None:
                    break
                messages.append(frames)
        except DaskwireError as exc:
            self._error = exc
            if not messages:
                raise
            # The messages completed before the error are returned; the error comes next call.
        return messages

    def close(self) -> None:
        """Declare the end of the stream; raises `TruncatedInput` inside a message (WF-6)."""
        if self._error is not None:
            raise self._error
        if self.buffered or self._lengths is not None:
            msg = f"stream ends inside a message ({self.buffered} bytes buffered)"
            self._error = TruncatedInput(msg, requirement="WF-6")
            raise self._error
