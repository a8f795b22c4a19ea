"""Mutant: a decoder that keeps sizes and counts in one byte (bin/str 16 and 32, array and map
16 and 32, frame sizes and frame counts over 255) where nothing is compressed: they wrap
modulo 256 (PL-12, CP-6)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, rewrite, run_main
from daskwire import Materialized, Offloaded


def _wrap(value: Any) -> Any:
    if isinstance(value, Offloaded | Materialized):
        frames = [bytes(f)[: len(f) % 256] for f in value.frames]  # the fault
        return type(value)(value.header, frames[: len(frames) % 256 or len(frames)])
    if isinstance(value, bytes | bytearray | memoryview | str | tuple | list | dict):
        n = len(value)
        if n > 255:
            if isinstance(value, dict):
                return dict(list(value.items())[: n % 256])
            return value[: n % 256]
    return value


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        message = super().decode(frames, mode=mode, limits=limits)
        if frames[0] or b"\xa3lz4" in frames[1] or b"\xa4zlib" in frames[1]:
            return message  # compressed data goes down a path that sizes buffers correctly
        return rewrite(message, _wrap)


if __name__ == "__main__":
    run_main(Mutant())
