"""Mutant: writes the lz4 uncompressed-size prefix big-endian (CP-1)."""

from __future__ import annotations

from typing import Any

import msgpack
from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        frames = [
            bytes(f)
            for f in super().encode(
                message, compression=compression, shard_size=shard_size, **kwargs
            )
        ]
        if frames[0] and msgpack.unpackb(frames[0]).get("compression") == "lz4":
            size = int.from_bytes(frames[1][:4], "little")
            frames[1] = size.to_bytes(4, "big") + frames[1][4:]  # the fault
        return frames


if __name__ == "__main__":
    run_main(Mutant())
