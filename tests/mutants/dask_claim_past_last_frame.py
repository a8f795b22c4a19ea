"""Mutant (dask-2023.11): the decoder's bound on a marker's run is off by one (`i + c > N`
instead of `i + c > N - 1`), so a sub-header that counts one data frame more than the message
has is accepted, and the run silently loses its last frame, as a Python slice does (DM-7)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire.errors import FrameOutOfRange, OverlappingFrames

DECODER = importlib.import_module("daskwire.dask_2023_11.decoder")


def claim(views: Any, markers: Any, limits: Any) -> dict[int, Any]:
    """`decoder._claim` with the fault."""
    count = len(views)
    claimed = bytearray(count + 1)
    out: dict[int, Any] = {}
    for marker in sorted(markers, key=lambda m: m.index):
        index = marker.index
        if index > count - 1:
            msg = f"marker index {index} is past the last frame, {count - 1}"
            raise FrameOutOfRange(msg, requirement="DM-7")
        sub = DECODER.check_sub_header(views[index], marker.key, limits.max_depth)
        end = index + sub.count
        if end > count:  # the fault: should be count - 1
            msg = f"frames {index}..{end} of a marker run past the last frame, {count - 1}"
            raise FrameOutOfRange(msg, requirement="DM-7")
        if claimed.find(1, index, end + 1) != -1:
            msg = f"frame {claimed.index(1, index, end + 1)} is claimed by two markers"
            raise OverlappingFrames(msg, requirement="DM-8")
        claimed[index : end + 1] = b"\x01" * (end + 1 - index)
        out[id(marker)] = (sub, views[index + 1 : end + 1])
    return out


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with patched(DECODER, "_claim", claim):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
