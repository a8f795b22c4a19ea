"""Mutant: trusts `_$fcount` and never compares it with the header's `count` (PH-10)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main
from daskwire import CountMismatch


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except CountMismatch:
            return raw_payload(frames)  # the missing check: carry on with _$fcount frames


if __name__ == "__main__":
    run_main(Mutant())
