"""Mutant (dask-2023.11): the reader checks that the no-split hint lies between the end of
the prelude and the end of the message, but not that it ends on a frame boundary: a hint
that cuts a frame, which makes distributed's own reader fail, is accepted (DT-3, DT-4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import wire


def in_range(hint: int, lengths: Sequence[int]) -> bool:
    prelude = 8 * (len(lengths) + 1)
    return prelude <= hint <= prelude + sum(lengths)  # the fault: any byte in between


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        with patched(wire, "_on_boundary", in_range):
            return super().unpack(data, limits=limits)

    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        with patched(wire, "_on_boundary", in_range):
            return super().stream(chunks, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
