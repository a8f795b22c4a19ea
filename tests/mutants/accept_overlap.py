"""Mutant: accepts placeholders whose frame ranges overlap (PH-8)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main
from daskwire import OverlappingFrames


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except OverlappingFrames:
            return raw_payload(frames)  # the missing check: frames shared by two values


if __name__ == "__main__":
    run_main(Mutant())
