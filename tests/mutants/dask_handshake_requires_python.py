"""Mutant (dask-2023.11): the handshake reader requires the "python" key it never uses, and
rejects a handshake without it (DK-3: every key but the two is ignored)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire.errors import InvalidHandshake

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")
ORIGINAL = HANDSHAKE.read_handshake


def read_handshake(frames: Any, limits: Any) -> Any:
    options = ORIGINAL(frames, limits)
    message = HANDSHAKE.decode(frames, mode=HANDSHAKE.FORWARDING, limits=limits)
    if "python" not in message:  # the fault
        raise InvalidHandshake("the handshake has no 'python' key", requirement="DK-3")
    return options


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with patched(HANDSHAKE, "read_handshake", read_handshake):
            return super().handshake(local, frames, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
