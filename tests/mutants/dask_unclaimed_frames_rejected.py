"""Mutant (dask-2023.11): the decoder keeps placeholder-v1's rule that every frame after the
message is claimed (PH-9), and rejects frames no marker claims; this profile must accept
them, as distributed writes them after its pickle fallback (DM-10)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire.errors import FrameOutOfRange

DECODER = importlib.import_module("daskwire.dask_2023_11.decoder")
CLAIM = DECODER._claim


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        claimed: set[int] = set()

        def claim(views: Any, markers: Any, limits: Any) -> Any:
            out = CLAIM(views, markers, limits)
            for marker in markers:
                sub, _ = out[id(marker)]
                claimed.update(range(marker.index, marker.index + sub.count + 1))
            return out

        with patched(DECODER, "_claim", claim):
            message = super().decode(frames, mode=mode, limits=limits)
        unclaimed = sorted(set(range(1, len(frames))) - claimed)
        if unclaimed:  # the fault
            msg = f"frame {unclaimed[0]} is claimed by no marker"
            raise FrameOutOfRange(msg, requirement="DM-10")
        return message


if __name__ == "__main__":
    run_main(Mutant())
