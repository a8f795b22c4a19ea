"""Mutant: a stream reader that fails with IndexError on an empty frame once the buffered
bytes are used up, as at the end of a message whose last frame is empty (WF-5, WF-6)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import wire


def take(self: Any, size: int) -> memoryview:
    """`FrameReader._take` without its shortcut for size 0 (the fault)."""
    first = self._chunks[0]
    if first.nbytes >= size:
        piece = first[:size]
        if first.nbytes == size:
            self._chunks.popleft()
        else:
            self._chunks[0] = first[size:]
        self._buffered -= size
        return piece
    parts = bytearray()
    need = size
    while need:
        chunk = self._chunks[0]
        if chunk.nbytes <= need:
            parts += chunk
            need -= chunk.nbytes
            self._chunks.popleft()
        else:
            parts += chunk[:need]
            self._chunks[0] = chunk[need:]
            need = 0
    self._buffered -= size
    return memoryview(bytes(parts))


class Mutant(ReferenceTestee):
    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        with patched(wire.FrameReader, "_take", take):
            return super().stream(chunks, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
