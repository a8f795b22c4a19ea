"""Mutant: an encoder that drops offloaded values with no frames (PH-13)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import Materialized, Offloaded


def _drop(value: Any) -> Any:
    def empty(v: Any) -> bool:
        return isinstance(v, Offloaded | Materialized) and not v.frames

    if isinstance(value, dict):
        return {k: _drop(v) for k, v in value.items() if not empty(v)}
    if isinstance(value, tuple | list):
        return tuple(_drop(v) for v in value if not empty(v))
    return value


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        return super().encode(
            _drop(message), compression=compression, shard_size=shard_size, **kwargs
        )


if __name__ == "__main__":
    run_main(Mutant())
