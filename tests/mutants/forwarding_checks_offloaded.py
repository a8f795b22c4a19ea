"""Mutant: a forwarding receiver that also runs every consuming-only check (RX-3)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        if mode == "forwarding":
            # the fault: offloaded frames are decompressed and merged, and their errors reported
            super().decode(frames, mode="consuming", limits=limits)
        return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
