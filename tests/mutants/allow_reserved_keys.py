"""Mutant: an encoder that writes user maps holding reserved keys as they are (PH-11)."""

from __future__ import annotations

from typing import Any

import msgpack
from _base import ReferenceTestee, run_main
from daskwire import UnencodableValue


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        try:
            return super().encode(message, compression=compression, shard_size=shard_size, **kwargs)
        except UnencodableValue:
            return [b"", msgpack.packb(message, use_bin_type=True)]  # the missing check


if __name__ == "__main__":
    run_main(Mutant())
