"""Mutant: rejects a decompression ratio equal to the limit, as if it were exclusive (LM-6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        # the fault: the bound is checked one below the configured ratio
        lower = replace(limits, max_decompression_ratio=limits.max_decompression_ratio - 1)
        return super().decode(frames, mode=mode, limits=lower)


if __name__ == "__main__":
    run_main(Mutant())
