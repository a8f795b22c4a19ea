"""Mutant: a stream reader that checks frame lengths only once the whole prelude is in (WF-7)."""

from __future__ import annotations

import struct
from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import LimitExceeded, TooFewFrames, TruncatedInput


class Mutant(ReferenceTestee):
    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        data = b"".join(chunks)
        messages = []
        while data:
            if len(data) < 8:
                raise TruncatedInput("the stream ends inside a frame count")
            (count,) = struct.unpack_from("<Q", data)
            if count > limits.max_frames:
                raise LimitExceeded("too many frames", limit="max_frames")
            if count < 2:
                raise TooFewFrames("fewer than 2 frames")
            prelude = 8 * (count + 1)
            if len(data) < prelude:
                # The fault: it waits for the whole prelude before it looks at any length.
                raise TruncatedInput("the stream ends inside a prelude")
            lengths = struct.unpack_from(f"<{count}Q", data, 8)
            end = prelude + sum(lengths)
            messages.append(super().unpack(data[:end], limits=limits))
            data = data[end:]
        return messages


if __name__ == "__main__":
    run_main(Mutant())
