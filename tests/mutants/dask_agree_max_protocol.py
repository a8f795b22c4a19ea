"""Mutant (dask-2023.11): the comm handshake agrees on the larger of the two pickle
protocols, "the best both can do", instead of the smaller (DK-5)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import ConnectionOptions

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")


def agree(local: Any, remote: Any) -> ConnectionOptions:
    same = local.compression == remote.compression
    return ConnectionOptions(
        compression=local.compression if same else None,
        pickle_protocol=max(local.pickle_protocol, remote.pickle_protocol),  # the fault
    )


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with patched(HANDSHAKE, "agree", agree):
            return super().handshake(local, frames, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
