"""Mutant: a single-message unpacker that ignores bytes after the last frame (WF-3)."""

from __future__ import annotations

import struct
from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import TrailingBytes


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        try:
            return super().unpack(data, limits=limits)
        except TrailingBytes:
            (count,) = struct.unpack_from("<Q", data)
            lengths = struct.unpack_from(f"<{count}Q", data, 8)
            end = 8 * (count + 1) + sum(lengths)
            return super().unpack(data[:end], limits=limits)  # the fault: rest dropped


if __name__ == "__main__":
    run_main(Mutant())
