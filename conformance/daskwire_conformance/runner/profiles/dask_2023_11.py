"""dask-2023.11's output checks: an encoder's frame order, and a testee's own handshake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from . import ProfileChecks

__all__ = [
    "CHECKS",
    "HANDSHAKE_KEYS",
    "codecs_used",
    "marker_order_problem",
    "own_handshake_problem",
]

#: The keys of a comm handshake, in the order a writer writes them (DK-2, DK-4); written
#: here, not imported from the reference.
HANDSHAKE_KEYS: Final = ("compression", "python", "pickle-protocol")
#: How many integers the `"python"` entry holds (DK-2).
PYTHON_VERSION_PARTS: Final = 3


def _read(frame: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(frame, raw=False, use_list=False, strict_map_key=False)


def _index_markers(frame0: bytes) -> list[int]:
    """The frame indices of frame 0's index markers, in pre-order (DM-6, DM-11)."""
    found: list[int] = []
    pending: list[Any] = [_read(frame0)]
    while pending:
        item = pending.pop()
        if type(item) is tuple:
            pending.extend(reversed(item))
        elif type(item) is dict:
            (key, index), *rest = list(item.items()) or [(None, None)]
            if not rest and key in ("__Serialized__", "__Pickled__") and type(index) is int:
                found.append(index)
                continue
            pending.extend(reversed(list(item.values())))
    return found


def marker_order_problem(frames: Sequence[bytes]) -> str | None:
    """Why a dask-2023.11 encoder's frames break DT-2, DM-10 or DM-11, read here with msgpack
    alone, or None: the index markers of frame 0, in pre-order, must claim frames 1, 2, ...
    one after another, each its sub-header and `num-sub-frames` data frames, and no frame
    may be left over. (A decoder accepts markers in any order and unclaimed frames, DM-9 and
    DM-10, so decoding the frames cannot show this.)"""
    expected = 1
    try:
        for index in _index_markers(bytes(frames[0])):
            if index != expected:
                return (
                    f"the frames break the encoder's order: a marker points at frame {index}, "
                    f"not {expected} (DM-11)"
                )
            expected = index + 1 + int(_read(bytes(frames[index]))["num-sub-frames"])
    except Exception:  # the decoder has accepted the frames: their shape is not this check's
        return None
    if expected != len(frames):
        return (
            f"the frames break the encoder's order: the markers claim frames up to "
            f"{expected - 1}, of {len(frames)} (DM-10, DT-2)"
        )
    return None


def codecs_used(frames: Sequence[bytes]) -> list[frozenset[str | None]]:
    """For each index marker of frame 0, in pre-order, the entries of its sub-header's
    `"compression"` array (DS-3): the codecs an encoder gave that value's data frames.
    Frames the reference decoded are read; an entry that is not a str or nil counts as its
    repr."""
    used: list[frozenset[str | None]] = []
    for index in _index_markers(bytes(frames[0])):
        header = _read(bytes(frames[index]))
        codecs = header.get("compression") if type(header) is dict else None
        used.append(frozenset(c if c is None or type(c) is str else repr(c) for c in codecs or ()))
    return used


def _pairs(frame: bytes) -> list[tuple[Any, Any]] | None:
    """The entries of a msgpack map frame in wire order, or None when it is not one map."""
    import msgpack

    try:
        value = msgpack.unpackb(
            frame, raw=False, use_list=False, strict_map_key=False, object_pairs_hook=list
        )
    except Exception:
        return None
    return value if type(value) is list else None


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def own_handshake_problem(frames: Sequence[bytes], local: Mapping[str, Any]) -> str | None:
    """Why the frames are not the handshake a side that proposes `local` must write, or None:
    one frame, a map of exactly the keys `compression`, `python`, `pickle-protocol` in that
    order (DK-2, DK-4); the proposal's codec and pickle protocol; three non-negative integers
    as `python`."""
    if len(frames) != 1:
        return f"a handshake is one frame, not {len(frames)} (DK-2)"
    pairs = _pairs(bytes(frames[0]))
    if pairs is None:
        return "frame 0 of the handshake is not one msgpack map (DK-2)"
    keys = tuple(k for k, _ in pairs)
    if keys != HANDSHAKE_KEYS:
        return f"the handshake's keys are {list(keys)}, not {list(HANDSHAKE_KEYS)} (DK-4)"
    entries = dict(pairs)
    compression = entries["compression"]
    if compression != local["compression"] or type(compression) is not type(local["compression"]):
        return (
            f"the handshake proposes compression {compression!r}, not {local['compression']!r}"
            " (DK-4)"
        )
    protocol = entries["pickle-protocol"]
    if not _is_count(protocol) or protocol != local["pickle-protocol"]:
        return (
            f"the handshake proposes pickle-protocol {protocol!r}, not "
            f"{local['pickle-protocol']!r} (DK-4)"
        )
    python = entries["python"]
    if not (
        type(python) is tuple
        and len(python) == PYTHON_VERSION_PARTS
        and all(_is_count(p) for p in python)
    ):
        return f"the handshake's python is {python!r}, not three non-negative integers (DK-2)"
    return None


#: dask-2023.11's checks.
CHECKS: Final = ProfileChecks(
    encoder_output=marker_order_problem,
    own_handshake=own_handshake_problem,
    codecs_used=codecs_used,
)
