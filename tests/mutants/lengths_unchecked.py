"""Mutant: a consuming decoder that does not check `lengths` against the merged bytes (CP-6)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main
from daskwire import LengthMismatch


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except LengthMismatch:
            return raw_payload(frames)  # the missing check


if __name__ == "__main__":
    run_main(Mutant())
