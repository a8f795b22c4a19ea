"""Mutant (dask-2023.11): a non-Python peer leaves "python" out of its handshake, since
distributed never reads it (DK-2, DK-4: the writer must write all three keys)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")


def write_handshake(local: Any, python: Any = None) -> Any:
    # the fault: only the two keys a reader uses
    return HANDSHAKE.encode(
        {"compression": local.compression, "pickle-protocol": local.pickle_protocol}
    )


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with patched(HANDSHAKE, "write_handshake", write_handshake):
            return super().handshake(local, frames, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
