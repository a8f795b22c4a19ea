"""Mutant (dask-2023.11): the stream reader reads each frame with a read loop that takes an
empty read for the end of the stream, so a zero-length frame (an empty bytes value, an
empty shard) ends the message as truncated (DT-1, DT-5)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main
from daskwire.errors import TruncatedInput


def no_empty_frame(frames: Any) -> None:
    if any(len(frame) == 0 for frame in frames):  # the fault
        raise TruncatedInput("the stream ended inside a frame", requirement="WF-4")


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        frames = super().unpack(data, limits=limits)
        no_empty_frame(frames)
        return frames

    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        messages = super().stream(chunks, limits=limits)
        for frames in messages:
            no_empty_frame(frames)
        return messages


if __name__ == "__main__":
    run_main(Mutant())
