"""Mutant: packs frames with a big-endian prelude (WF-1); its unpack is right."""

from __future__ import annotations

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def pack(self, frames: list[bytes]) -> bytes:
        prelude = [len(frames), *map(len, frames)]
        return b"".join(n.to_bytes(8, "big") for n in prelude) + b"".join(frames)


if __name__ == "__main__":
    run_main(Mutant())
