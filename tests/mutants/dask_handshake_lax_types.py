"""Mutant (dask-2023.11): the handshake reader checks that "compression" and
"pickle-protocol" are there but not their types, as distributed does: a pickle-protocol
`true`, a float or a str and a compression of any type are accepted (DK-3)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import ConnectionOptions
from daskwire.errors import InvalidHandshake

HANDSHAKE = importlib.import_module("daskwire.dask_2023_11.handshake")


def read_handshake(frames: Any, limits: Any) -> ConnectionOptions:
    message = HANDSHAKE.decode(frames, mode=HANDSHAKE.FORWARDING, limits=limits)
    if type(message) is not dict:
        raise InvalidHandshake("a handshake is a map", requirement="DK-3")
    for key in ("compression", "pickle-protocol"):
        if key not in message:
            raise InvalidHandshake(f"the handshake has no {key!r} key", requirement="DK-3")
    # the fault: no type checks
    return ConnectionOptions(
        compression=message["compression"], pickle_protocol=message["pickle-protocol"]
    )


def agree(local: Any, remote: Any) -> ConnectionOptions:
    """distributed's own: `==` and `min()`, whatever the types."""
    same = local.compression == remote.compression
    try:
        protocol = min(local.pickle_protocol, remote.pickle_protocol)
    except TypeError:
        protocol = local.pickle_protocol
    return ConnectionOptions(
        compression=local.compression if same else None, pickle_protocol=protocol
    )


class Mutant(ReferenceTestee):
    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        with (
            patched(HANDSHAKE, "read_handshake", read_handshake),
            patched(HANDSHAKE, "agree", agree),
        ):
            reply = super().handshake(local, frames, limits=limits)
        agreed = reply["agreed"]
        if not isinstance(agreed["compression"], str | None):  # keep the reply JSON
            agreed["compression"] = None
        return reply


if __name__ == "__main__":
    run_main(Mutant())
