"""Mutant: an encoder that declares encode-limits but keeps its default depth bound (LM-8)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        kwargs.pop("limits", None)  # the fault: the configured max_depth is dropped
        return super().encode(message, compression=compression, shard_size=shard_size, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
