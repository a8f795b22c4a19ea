"""Mutant: reports a cut prelude before checking the frame lengths it holds (WF-9)."""

from __future__ import annotations

import struct
from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import TruncatedInput


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        if len(data) >= 8:
            (count,) = struct.unpack_from("<Q", data)
            if 2 <= count <= limits.max_frames and len(data) < 8 * (count + 1):
                # The fault: the lengths present are never compared with max_frame_bytes.
                raise TruncatedInput("input ends inside the prelude")
        return super().unpack(data, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
