"""Case mutations of frame lists and wire bytes for every profile, done with msgpack, struct,
python-lz4 and zlib only (not daskwire). A profile says which frame holds its message."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import lz4.block

from daskwire_conformance.vectors.generate.mpk import DELETE, edit
from daskwire_conformance.vectors.generate.sources import CaseError, build_frame, notation_value

__all__ = [
    "U64_MAX",
    "EditMessage",
    "apply_frame_ops",
    "apply_wire_ops",
    "compress_frame",
    "decompress_frame",
    "parse_prelude",
]

#: Decodes a frame list's message, applies a function to it and encodes it back.
EditMessage = Callable[[Sequence[bytes], Callable[[Any], Any]], list[bytes]]

#: The largest u64; a prelude field set to "-1".
U64_MAX: Final = 2**64 - 1


def decompress_frame(codec: str | None, data: bytes) -> bytes:
    """Decompress one frame with python-lz4 or zlib, independently of the reference."""
    if codec is None:
        return data
    if codec == "lz4":
        out: bytes = lz4.block.decompress(data)
        return out
    if codec == "zlib":
        return zlib.decompress(data)
    msg = f"cannot edit a payload compressed with {codec!r}"
    raise CaseError(msg)


def compress_frame(codec: str | None, data: bytes) -> bytes:
    if codec is None:
        return data
    if codec == "lz4":
        out: bytes = lz4.block.compress(data, store_size=True)
        return out
    if codec == "zlib":
        return zlib.compress(data)
    msg = f"cannot edit a payload compressed with {codec!r}"
    raise CaseError(msg)


def _path(node: Any) -> list[Any]:
    if not isinstance(node, list):
        msg = f"a path is a list of keys and indices, not {node!r:.60}"
        raise CaseError(msg)
    return node


def _insert(mapping: Any, key: Any, value: Any, at: int | None) -> dict[Any, Any]:
    if not isinstance(mapping, Mapping):
        msg = "'add' needs a path to a map"
        raise CaseError(msg)
    items = list(mapping.items())
    items.insert(len(items) if at is None else at, (key, value))
    return dict(items)


def _rename(mapping: Any, old: Any, new: Any) -> dict[Any, Any]:
    return {(new if k == old and type(k) is type(old) else k): v for k, v in mapping.items()}


def parse_prelude(wire: bytes, lead: int = 0) -> tuple[int, list[int]]:
    """Read N and the N lengths of a well-formed prelude that starts after `lead` bytes."""
    (n,) = struct.unpack_from("<Q", wire, lead)
    lengths = list(struct.unpack_from(f"<{n}Q", wire, lead + 8))
    return n, lengths


def apply_frame_ops(
    frames: Sequence[bytes], ops: Sequence[Mapping[str, Any]], edit_payload: EditMessage
) -> list[bytes]:
    """Apply case mutations to a frame list (the suite README lists the operations);
    `edit_payload` edits the frame that holds the profile's message."""
    out = list(frames)
    for op in ops:
        out = _frame_op(out, op, edit_payload)
    return out


def _frame_op(frames: list[bytes], op: Mapping[str, Any], edit_payload: EditMessage) -> list[bytes]:
    if "set" in op:
        path = _path(op["set"])
        value = notation_value(op["value"])
        return edit_payload(frames, lambda v: edit(v, path, lambda _old: value))
    if "delete" in op:
        path = _path(op["delete"])
        return edit_payload(frames, lambda v: edit(v, path, lambda _old: DELETE))
    if "rename" in op:
        path = _path(op["rename"])
        new_key = notation_value(op["to"])
        return edit_payload(
            frames, lambda v: edit(v, path[:-1], lambda m: _rename(m, path[-1], new_key))
        )
    if "add" in op:
        path = _path(op["add"])
        key = notation_value(op["key"])
        value = notation_value(op["value"])
        at = op.get("at")
        return edit_payload(frames, lambda v: edit(v, path, lambda m: _insert(m, key, value, at)))
    if "frame" in op:
        index = int(op["frame"])
        frames = list(frames)
        frames[index] = build_frame(op["to"])
        return frames
    if "append_frames" in op:
        return [*frames, *(build_frame(f) for f in op["append_frames"])]
    if "keep_frames" in op:
        return frames[: int(op["keep_frames"])]
    if "drop_frame" in op:
        frames = list(frames)
        del frames[int(op["drop_frame"])]
        return frames
    if "lz4_size" in op:
        spec = op["lz4_size"]
        index = int(spec["frame"])
        frames = list(frames)
        frames[index] = struct.pack("<I", int(spec["value"])) + frames[index][4:]
        return frames
    if "cut" in op:
        spec = op["cut"]
        index = int(spec["frame"])
        frames = list(frames)
        frames[index] = frames[index][: len(frames[index]) - int(spec["drop"])]
        return frames
    if "append_bytes" in op:
        spec = op["append_bytes"]
        index = int(spec["frame"])
        frames = list(frames)
        frames[index] = frames[index] + build_frame(spec["hex"])
        return frames
    msg = f"unknown frame mutation {dict(op)!r:.80}"
    raise CaseError(msg)


def apply_wire_ops(wire: bytes, ops: Sequence[Mapping[str, Any]], lead: int = 0) -> bytes:
    """Apply case mutations to wire bytes: count, length, append, keep, big_endian, and with
    `lead` bytes before the frame count (a read hint), hint."""
    out = wire
    for op in ops:
        if "hint" in op and lead:
            out = struct.pack("<Q", int(op["hint"])) + out[8:]
        elif "count" in op:
            out = out[:lead] + struct.pack("<Q", int(op["count"])) + out[lead + 8 :]
        elif "length" in op:
            index, value = op["length"]
            at = lead + 8 + 8 * int(index)
            out = out[:at] + struct.pack("<Q", int(value)) + out[at + 8 :]
        elif "append" in op:
            out = out + build_frame(op["append"])
        elif "keep" in op:
            out = out[: int(op["keep"])]
        elif "big_endian" in op:
            n, lengths = parse_prelude(out, lead)
            size = lead + 8 * (n + 1)
            head = struct.unpack_from("<Q", out)[0:1] if lead else ()
            out = struct.pack(f">{len(head) + n + 1}Q", *head, n, *lengths) + out[size:]
        else:
            msg = f"unknown wire mutation {dict(op)!r:.80}"
            raise CaseError(msg)
    return out
