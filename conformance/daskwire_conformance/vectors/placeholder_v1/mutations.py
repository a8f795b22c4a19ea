"""placeholder-v1's case mutations: its wire form and its payload frame, with msgpack and struct
only (not daskwire); the operations themselves are the shared ones (generate/mutations.py)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgpack

from daskwire_conformance.vectors.generate import mutations
from daskwire_conformance.vectors.generate.mpk import pack, unpack_payload
from daskwire_conformance.vectors.generate.mutations import (
    U64_MAX,
    compress_frame,
    decompress_frame,
    parse_prelude,
)

__all__ = [
    "U64_MAX",
    "apply_frame_ops",
    "apply_wire_ops",
    "decompress_frame",
    "edit_payload",
    "pack_wire",
    "parse_prelude",
    "plain_payload",
    "small_header_codec",
]


def pack_wire(frames: Sequence[bytes]) -> bytes:
    """The wire form of a frame list (spec/framing.md, WF-1), written independently of daskwire."""
    prelude = struct.pack(f"<{len(frames) + 1}Q", len(frames), *(len(f) for f in frames))
    return prelude + b"".join(frames)


def small_header_codec(frame0: bytes) -> str | None:
    """The codec frame 0 names, or None."""
    if not frame0:
        return None
    header = msgpack.unpackb(frame0, raw=False)
    codec = header.get("compression")
    return codec if isinstance(codec, str) else None


def plain_payload(frames: Sequence[bytes]) -> bytes:
    """Frame 1 as msgpack bytes, decompressed when frame 0 names a codec."""
    return decompress_frame(small_header_codec(frames[0]), frames[1])


def edit_payload(frames: Sequence[bytes], fn: Callable[[Any], Any]) -> list[bytes]:
    """Decode frame 1 (decompressing per frame 0), apply fn, re-encode and re-compress it."""
    codec = small_header_codec(frames[0])
    value = unpack_payload(decompress_frame(codec, frames[1]))
    new = fn(value)
    out = list(frames)
    out[1] = compress_frame(codec, pack(new))
    return out


def apply_frame_ops(frames: Sequence[bytes], ops: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Apply case mutations to a frame list; payload edits change frame 1."""
    return mutations.apply_frame_ops(frames, ops, edit_payload)


def apply_wire_ops(wire: bytes, ops: Sequence[Mapping[str, Any]]) -> bytes:
    """Apply case mutations to wire bytes (no read hint in this profile)."""
    return mutations.apply_wire_ops(wire, ops)
