"""Mutant (dask-2023.11): the decoder checks an index marker's value with `>= 0` instead of
`>= 1`, so a marker may point at frame 0, the message itself, which it then reads as a
sub-header (DM-6, DM-7)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire.errors import InvalidMarker

DECODER = importlib.import_module("daskwire.dask_2023_11.decoder")
MARKER = DECODER._marker


def marker(out: dict[Any, Any], markers: list[Any]) -> Any:
    present = DECODER._reserved(out)
    key = present[0] if len(present) == 1 else None
    if key in DECODER.INDEX_KEYS:
        index = out[key]
        if len(out) != 1 or type(index) is not int or index < 0:  # the fault: 0 passes
            msg = f"{{{key!r}: ...}} is not an index marker"
            raise InvalidMarker(msg, requirement="DM-6")
        found = DECODER._Index(key, index)
        markers.append(found)
        return found
    return MARKER(out, markers)


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        # the exact path only: the fast one steps aside for index 0 and would hide nothing
        with (
            patched(DECODER, "_marker", marker),
            patched(DECODER, "_index_markers_fast", lambda *args: None),
        ):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
