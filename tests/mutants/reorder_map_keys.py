"""Mutant: an encoder that writes map keys sorted instead of in message order (PL-8, CE-2)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _sorted(value[k]) for k in sorted(value)}
        return {k: _sorted(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(_sorted(v) for v in value)
    return value


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        return super().encode(
            _sorted(message), compression=compression, shard_size=shard_size, **kwargs
        )


if __name__ == "__main__":
    run_main(Mutant())
