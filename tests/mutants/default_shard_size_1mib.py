"""Mutant: an encoder whose default shard size is 1 MiB, not 64 MiB (CE-7)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        if shard_size is None:
            shard_size = 1 << 20  # the fault
        return super().encode(message, compression=compression, shard_size=shard_size, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
