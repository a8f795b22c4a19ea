"""Mutant: a stream reader that assumes every chunk holds whole messages (WF-5)."""

from __future__ import annotations

import struct
from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        messages = []
        for chunk in chunks:  # the fault: no buffering across chunk boundaries
            rest = chunk
            while rest:
                count = struct.unpack_from("<Q", rest)[0] if len(rest) >= 8 else 0
                fits = count < 2**16 and len(rest) >= 8 * (count + 1)
                lengths = struct.unpack_from(f"<{count}Q", rest, 8) if fits else ()
                end = 8 * (count + 1) + sum(lengths)
                messages.append(super().unpack(rest[:end], limits=limits))
                rest = rest[end:]
        return messages


if __name__ == "__main__":
    run_main(Mutant())
