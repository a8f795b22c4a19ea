"""Mutant: a stream reader that, when a frame ends inside a later chunk, drops the rest of that
chunk (the start of the next frame) (WF-5)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import wire


def take(self: Any, size: int) -> memoryview:
    """`FrameReader._take`, dropping what follows a spanning frame in its last chunk."""
    if size == 0:
        return memoryview(b"")
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
            self._chunks.popleft()  # the fault: the rest of the chunk is lost
            self._buffered -= chunk.nbytes - need
            need = 0
    self._buffered -= size
    return memoryview(bytes(parts))


class Mutant(ReferenceTestee):
    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        with patched(wire.FrameReader, "_take", take):
            return super().stream(chunks, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
