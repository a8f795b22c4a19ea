"""Mutant: zlib frames are decompressed without max_decompressed_bytes or
max_decompression_ratio (LM-5, LM-6); lz4 frames are still bounded."""

from __future__ import annotations

import zlib
from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire import codecs
from daskwire.errors import InvalidCompressedData


def zlib_decompress(data: Any, limits: Any) -> bytes:
    """`codecs._zlib_decompress` with no ceiling (the fault)."""
    stream = zlib.decompressobj()
    try:
        out = stream.decompress(data)
    except zlib.error as exc:
        raise InvalidCompressedData(str(exc), requirement="CP-4") from exc
    if not stream.eof or stream.unused_data:
        raise InvalidCompressedData("zlib stream is truncated", requirement="CP-4")
    return out


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with pure_python(), patched(codecs, "_zlib_decompress", zlib_decompress):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
