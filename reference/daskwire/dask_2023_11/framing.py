"""dask-2023.11's TCP framing: a u64 no-split read hint, then the shared u64 prelude (DT-1)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from daskwire.constants import PRELUDE_INT_BYTES
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer
from daskwire.wire import FrameReader as _FrameReader
from daskwire.wire import Framing, frame_sizes
from daskwire.wire import unpack as _unpack

from .constants import MIN_FRAMES

__all__ = ["FRAMING", "FrameReader", "hint_boundaries", "pack", "pack_bytes", "unpack"]

#: One frame at least (DT-2); a read hint before the frame count, on a frame boundary (DT-4).
FRAMING: Final = Framing(minimum=MIN_FRAMES, requirement="DT-2", hint="DT-4")


def unpack(data: Buffer, *, limits: Limits = DEFAULT_LIMITS) -> list[memoryview]:
    """Split the wire bytes of exactly one dask-2023.11 message into frames (no copy).

    The read hint is checked, never used: the prelude alone finds the message's end (DT-4).
    """
    return _unpack(data, rule=FRAMING, limits=limits)


class FrameReader(_FrameReader):
    """Incremental reader of a stream of dask-2023.11 messages (DT-7, WF-5, WF-6)."""

    __slots__ = ()

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits, rule=FRAMING)


def hint_boundaries(frames: Sequence[Buffer]) -> list[int]:
    """Every read hint DT-3 allows for these frames: the prelude, then each frame boundary."""
    edge = PRELUDE_INT_BYTES * (len(frames) + 1)
    out = [edge]
    for size in frame_sizes(frames):
        edge += size
        out.append(edge)
    return out


def pack(frames: Sequence[Buffer], *, hint: int | None = None) -> list[Buffer]:
    """Return `[hint and prelude, *frames]`, ready for `socket.sendmsg` or `writev` (DT-1).

    Without `hint`, the hint is the whole rest of the message (DT-6). A `hint` that is not
    on a frame boundary (DT-3) raises `ValueError`: an encoder never writes one.
    """
    lengths = frame_sizes(frames)
    rest = PRELUDE_INT_BYTES * (len(lengths) + 1) + sum(lengths)
    if hint is None:
        hint = rest
    elif hint not in hint_boundaries(frames):
        msg = f"read hint {hint} is not on a frame boundary of the message (DT-3)"
        raise ValueError(msg)
    head = struct.pack(f"<{len(lengths) + 2}Q", hint, len(lengths), *lengths)
    return [head, *frames]


def pack_bytes(frames: Sequence[Buffer], *, hint: int | None = None) -> bytes:
    """One message's wire bytes as a single `bytes` (this copies the frames)."""
    return b"".join(pack(frames, hint=hint))
