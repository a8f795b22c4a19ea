"""Mutant: reads the prelude's u64 integers big-endian (upstream's native "Q" on a BE host)."""

from __future__ import annotations

import struct
from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import LimitExceeded, TooFewFrames, TrailingBytes, TruncatedInput

_U64 = struct.Struct(">Q")  # the fault: WF-1 says little-endian


def _split(data: bytes, limits: Any) -> tuple[list[bytes], int]:
    if len(data) < 8:
        raise TruncatedInput("input ends inside the frame count")
    (count,) = _U64.unpack_from(data, 0)
    if count > limits.max_frames:
        raise LimitExceeded("too many frames", limit="max_frames")
    if count < 2:
        raise TooFewFrames("fewer than 2 frames")
    end = 8 * (count + 1)
    if len(data) < end:
        raise TruncatedInput("input ends inside the prelude")
    lengths = [_U64.unpack_from(data, 8 * (i + 1))[0] for i in range(count)]
    frames = []
    for length in lengths:
        if len(data) < end + length:
            raise TruncatedInput("input ends inside a frame")
        frames.append(data[end : end + length])
        end += length
    return frames, end


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        frames, end = _split(data, limits)
        if end != len(data):
            raise TrailingBytes("bytes after the last frame")
        return frames

    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        data = b"".join(chunks)
        messages = []
        while data:
            frames, end = _split(data, limits)
            messages.append(frames)
            data = data[end:]
        return messages


if __name__ == "__main__":
    run_main(Mutant())
