"""Mutant (dask-2023.11): the comm handshake keeps the codec this side proposed whatever the
peer proposed, as if each side compressed with its own choice (DK-5)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import ConnectionOptions

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")


def agree(local: Any, remote: Any) -> ConnectionOptions:
    return ConnectionOptions(
        compression=local.compression,  # the fault: not nil when the two proposals differ
        pickle_protocol=min(local.pickle_protocol, remote.pickle_protocol),
    )


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with patched(HANDSHAKE, "agree", agree):
            return super().handshake(local, frames, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
