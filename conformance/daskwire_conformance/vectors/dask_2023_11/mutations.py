"""dask-2023.11's case mutations: its wire form (read hint first) and frame 0, with msgpack and
struct only (not daskwire); the operations themselves are the shared ones."""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from daskwire_conformance.vectors.generate import mutations
from daskwire_conformance.vectors.generate.mpk import pack, unpack_payload

__all__ = [
    "HINT_BYTES",
    "apply_frame_ops",
    "apply_wire_ops",
    "edit_message",
    "pack_wire",
    "prelude_size",
]

#: The u64 no-split read hint before the frame count (DT-1).
HINT_BYTES: Final = 8


def prelude_size(count: int) -> int:
    """The read hint, the u64 frame count and one u64 length per frame (DT-1)."""
    return struct.calcsize(f"<{count + 2}Q")


def pack_wire(frames: Sequence[bytes]) -> bytes:
    """The wire form of a frame list (DT-1), the hint being the whole rest (DT-6), written
    independently of daskwire."""
    lengths = [len(f) for f in frames]
    rest = 8 * (len(frames) + 1) + sum(lengths)
    return struct.pack(f"<{len(frames) + 2}Q", rest, len(frames), *lengths) + b"".join(frames)


def edit_message(frames: Sequence[bytes], fn: Callable[[Any], Any]) -> list[bytes]:
    """Decode frame 0 (never compressed, DM-1), apply fn, and encode it again."""
    out = list(frames)
    out[0] = pack(fn(unpack_payload(frames[0])))
    return out


def apply_frame_ops(frames: Sequence[bytes], ops: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Apply case mutations to a frame list; message edits change frame 0."""
    return mutations.apply_frame_ops(frames, ops, edit_message)


def apply_wire_ops(wire: bytes, ops: Sequence[Mapping[str, Any]]) -> bytes:
    """Apply case mutations to wire bytes; `hint` sets the read hint."""
    return mutations.apply_wire_ops(wire, ops, HINT_BYTES)
