"""Mutant (dask-2023.11): the packer writes as the no-split hint the size of the whole
message, its own 8 bytes included, rather than the bytes after it: 8 past the end (DT-3)."""

from __future__ import annotations

import struct

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def pack(self, frames: list[bytes]) -> bytes:
        wire = super().pack(frames)
        return struct.pack("<Q", len(wire)) + wire[8:]  # the fault: len(wire), not len(wire) - 8


if __name__ == "__main__":
    run_main(Mutant())
