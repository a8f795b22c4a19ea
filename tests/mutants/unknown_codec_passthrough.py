"""Mutant: treats frames compressed with a codec it lacks as uncompressed (CP-2)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main
from daskwire import UnknownCodec


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except UnknownCodec:
            try:
                return raw_payload(frames)  # the fault: carry on as if uncompressed
            except Exception:
                return {}


if __name__ == "__main__":
    run_main(Mutant())
