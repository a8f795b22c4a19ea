"""placeholder-v1's framing: the shared u64 framing with at least two frames a message (WF-2)."""

from __future__ import annotations

from typing import Final

from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer
from daskwire.wire import FrameReader as _FrameReader
from daskwire.wire import Framing
from daskwire.wire import unpack as _unpack

from .constants import MIN_FRAMES

__all__ = ["FRAME_COUNT", "FrameReader", "unpack"]

#: Frame 0 and frame 1 at least, or `too-few-frames` (WF-2).
FRAME_COUNT: Final = Framing(minimum=MIN_FRAMES, requirement="WF-2")


def unpack(data: Buffer, *, limits: Limits = DEFAULT_LIMITS) -> list[memoryview]:
    """Split the wire bytes of exactly one placeholder-v1 message into frames (no copy)."""
    return _unpack(data, rule=FRAME_COUNT, limits=limits)


class FrameReader(_FrameReader):
    """Incremental reader of a stream of placeholder-v1 messages (WF-5, WF-6)."""

    __slots__ = ()

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits, rule=FRAME_COUNT)
