"""Mutant: counts `_$findex` from frame 0 instead of from frame 2 (PH-5)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main, walk_placeholders
from daskwire import Materialized, Offloaded


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        message = super().decode(frames, mode=mode, limits=limits)

        def wrong_frames(value: Any, placeholder: Any, in_array: bool) -> Any:
            start, count = placeholder["_$findex"], placeholder["_$fcount"]
            picked = frames[start : start + count]  # the fault: should be 2 + start
            if isinstance(value, Offloaded):
                return Offloaded(value.header, picked)
            if isinstance(value, Materialized):
                return Materialized(value.header, picked)
            return b"".join(picked)

        return walk_placeholders(message, raw_payload(frames), wrong_frames)


if __name__ == "__main__":
    run_main(Mutant())
