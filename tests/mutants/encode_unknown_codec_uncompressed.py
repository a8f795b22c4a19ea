"""Mutant: an encoder asked for a codec it lacks sends the message uncompressed (CE-14)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import SUPPORTED_CODECS


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        if compression not in SUPPORTED_CODECS:
            compression = None  # the fault: falls back to no compression
        return super().encode(message, compression=compression, shard_size=shard_size, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
