"""The comm handshake of dask-2023.11: the first message each side writes (spec: handshake.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from daskwire.errors import InvalidHandshake
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer
from daskwire.notation import value_kind
from daskwire.profile import ConnectionOptions

from .decoder import FORWARDING, decode
from .encoder import encode

__all__ = [
    "KEY_COMPRESSION",
    "KEY_PICKLE_PROTOCOL",
    "KEY_PYTHON",
    "PYTHON_VERSION",
    "PYTHON_VERSION_PARTS",
    "agree",
    "handshake",
    "read_handshake",
    "write_handshake",
]

#: Handshake key: the codec the writer proposes, a str, or nil for none (DK-2).
KEY_COMPRESSION: Final = "compression"
#: Handshake key: the writer's Python version, three non-negative ints; never read (DK-2).
KEY_PYTHON: Final = "python"
#: Handshake key: the highest pickle protocol the writer reads (DK-2).
KEY_PICKLE_PROTOCOL: Final = "pickle-protocol"
#: How many non-negative integers `"python"` holds (DK-2).
PYTHON_VERSION_PARTS: Final = 3
#: The Python version the reference writes as `"python"`: that of the peers it expects (DK-4).
PYTHON_VERSION: Final = (3, 11, 7)


def write_handshake(
    local: ConnectionOptions, python: tuple[int, int, int] = PYTHON_VERSION
) -> list[Buffer]:
    """The frames of this side's handshake: one frame, its three keys in order (DK-2, DK-4)."""
    if local.compression is not None and type(local.compression) is not str:
        msg = f"compression must be a str or None, not {local.compression!r}"
        raise TypeError(msg)
    if not _protocol_ok(local.pickle_protocol):
        msg = f"pickle_protocol must be a non-negative int, not {local.pickle_protocol!r}"
        raise TypeError(msg)
    if len(python) != PYTHON_VERSION_PARTS or not all(_protocol_ok(part) for part in python):
        msg = f"python must be three non-negative ints, not {python!r}"
        raise TypeError(msg)
    message = {
        KEY_COMPRESSION: local.compression,
        KEY_PYTHON: list(python),
        KEY_PICKLE_PROTOCOL: local.pickle_protocol,
    }
    return encode(message)


def _protocol_ok(value: Any) -> bool:
    """A pickle protocol (or a part of a Python version) is an int, not a bool, and not
    negative (DK-2, DK-3)."""
    return type(value) is int and value >= 0


def read_handshake(frames: Sequence[Buffer], limits: Limits = DEFAULT_LIMITS) -> ConnectionOptions:
    """What the peer proposed in its handshake, the first message it wrote (DK-3).

    The message is decoded as a forwarding receiver decodes any message, whose errors keep
    their categories; a message that decodes but is no handshake raises `InvalidHandshake`.
    Every key but `"compression"` and `"pickle-protocol"` is ignored, `"python"` included.
    """
    message = decode(frames, mode=FORWARDING, limits=limits)
    if type(message) is not dict:
        msg = f"a handshake is a map, not {value_kind(message)}"
        raise InvalidHandshake(msg, requirement="DK-3")
    for key in (KEY_COMPRESSION, KEY_PICKLE_PROTOCOL):
        if key not in message:
            msg = f"the handshake has no {key!r} key"
            raise InvalidHandshake(msg, requirement="DK-3")
    compression = message[KEY_COMPRESSION]
    if compression is not None and type(compression) is not str:
        msg = f"the handshake's {KEY_COMPRESSION!r} is neither a str nor nil"
        raise InvalidHandshake(msg, requirement="DK-3")
    protocol = message[KEY_PICKLE_PROTOCOL]
    if not _protocol_ok(protocol):
        msg = f"the handshake's {KEY_PICKLE_PROTOCOL!r} is not a non-negative integer"
        raise InvalidHandshake(msg, requirement="DK-3")
    return ConnectionOptions(compression=compression, pickle_protocol=protocol)


def agree(local: ConnectionOptions, remote: ConnectionOptions) -> ConnectionOptions:
    """The options both sides compute from the two handshakes (DK-5): the codec both
    proposed, or None when they differ; the smaller pickle protocol."""
    same = local.compression == remote.compression
    return ConnectionOptions(
        compression=local.compression if same else None,
        pickle_protocol=min(local.pickle_protocol, remote.pickle_protocol),
    )


def handshake(
    local: ConnectionOptions, peer: Sequence[Buffer], limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Buffer], ConnectionOptions]:
    """One side of a connection: the handshake it writes first (DK-1), then what it agrees
    with the peer whose handshake frames it read (DK-5)."""
    mine = write_handshake(local)
    return mine, agree(local, read_handshake(peer, limits))
