"""Mutant: an encoder asked for a codec that leaves frame 1 uncompressed writes frame 0 as
`{"compression": nil}` instead of the empty frame 0 (SH-4)."""

from __future__ import annotations

from typing import Any

import msgpack
from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def encode(self, message: Any, *, compression: str | None, **kwargs: Any) -> Any:
        frames = list(super().encode(message, compression=compression, **kwargs))
        if compression is not None and not len(frames[0]):
            frames[0] = msgpack.packb({"compression": None})  # the fault
        return frames


if __name__ == "__main__":
    run_main(Mutant())
