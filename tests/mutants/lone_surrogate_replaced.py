"""Mutant: an encoder that writes U+FFFD for a lone surrogate, as TextEncoder does (CE-11)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _base import ReferenceTestee, run_main


def _lossy(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, Mapping):
        return {_lossy(k): _lossy(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(_lossy(v) for v in value)
    return value


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        # the fault: the str is made valid text instead of refused
        return super().encode(
            _lossy(message), compression=compression, shard_size=shard_size, **kwargs
        )


if __name__ == "__main__":
    run_main(Mutant())
