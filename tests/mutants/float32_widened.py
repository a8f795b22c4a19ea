"""Mutant: a decoder that widens every float32 to float64 (PL-5)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, rewrite, run_main
from daskwire import Float32


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        message = super().decode(frames, mode=mode, limits=limits)
        return rewrite(message, lambda v: float(v) if isinstance(v, Float32) else v)


if __name__ == "__main__":
    run_main(Mutant())
