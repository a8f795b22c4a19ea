"""Mutant: a consuming decoder that decompresses shards but never merges them (CP-6, CP-7)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main, walk_placeholders
from daskwire import Materialized
from daskwire.codecs import decompress


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        message = super().decode(frames, mode=mode, limits=limits)

        def unmerged(value: Any, placeholder: Any, in_array: bool) -> Any:
            if not isinstance(value, Materialized):
                return value
            start, count = placeholder["_$findex"], placeholder["_$fcount"]
            codecs = placeholder["_$header"].get("compression") or [None] * count
            shards = frames[2 + start : 2 + start + count]
            out = [
                decompress(c, s, limits) if c else s for c, s in zip(codecs, shards, strict=False)
            ]
            return Materialized(value.header, out)  # the fault: no cut at `lengths`

        return walk_placeholders(message, raw_payload(frames), unmerged)


if __name__ == "__main__":
    run_main(Mutant())
