"""Mutant (dask-2023.11): the handshake is written from a dict with sorted keys, so
"pickle-protocol" comes before "python" (DK-2, DK-4). Peers that read it do not care; the
order is still the profile's."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")
ORIGINAL = HANDSHAKE.write_handshake


def write_handshake(local: Any, python: tuple[int, int, int] = HANDSHAKE.PYTHON_VERSION) -> Any:
    ORIGINAL(local, python)  # the same checks of the proposal
    message = {
        "compression": local.compression,
        "python": list(python),
        "pickle-protocol": local.pickle_protocol,
    }
    return HANDSHAKE.encode(dict(sorted(message.items())))  # the fault: sorted keys


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with patched(HANDSHAKE, "write_handshake", write_handshake):
            return super().handshake(local, frames, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
