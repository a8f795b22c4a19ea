"""Mutant: zlib output equal to a limit is rejected, as if the limits were exclusive (LM-5,
LM-6: each limit is inclusive)."""

from __future__ import annotations

import zlib
from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire import codecs
from daskwire.errors import InvalidCompressedData, LimitExceeded


def zlib_decompress(data: Any, limits: Any) -> bytes:
    """`codecs._zlib_decompress` with `>` turned into `>=`."""
    compressed = memoryview(data).nbytes
    ceiling = min(
        limits.max_decompressed_bytes, limits.max_decompression_ratio * max(compressed, 1)
    )
    stream = zlib.decompressobj()
    try:
        out = stream.decompress(data, ceiling + 1)
    except zlib.error as exc:
        raise InvalidCompressedData(str(exc), requirement="CP-4") from exc
    if len(out) >= ceiling:  # the fault
        raise LimitExceeded(
            "zlib output at a limit", limit="max_decompressed_bytes", requirement="CP-5"
        )
    if not stream.eof or stream.unused_data:
        raise InvalidCompressedData("zlib stream is truncated", requirement="CP-4")
    return out


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with pure_python(), patched(codecs, "_zlib_decompress", zlib_decompress):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
