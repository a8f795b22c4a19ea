"""Msgpack helpers for case sources and mutations: a minimal-form writer and payload editing."""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import msgpack
from daskwire import Float32

__all__ = [
    "DELETE",
    "edit",
    "pack",
    "unpack_payload",
]


class _Delete:
    """Marker returned by an edit function to delete the map entry or array element."""

    def __repr__(self) -> str:
        return "DELETE"


#: Return this from an `edit` function to delete the addressed entry.
DELETE: Final = _Delete()


def _uint(n: int) -> bytes:
    if n <= 0x7F:
        return bytes([n])
    if n <= 0xFF:
        return b"\xcc" + bytes([n])
    if n <= 0xFFFF:
        return b"\xcd" + struct.pack(">H", n)
    if n <= 0xFFFF_FFFF:
        return b"\xce" + struct.pack(">I", n)
    return b"\xcf" + struct.pack(">Q", n)


def _int(n: int) -> bytes:
    if n >= 0:
        return _uint(n)
    if n >= -32:
        return struct.pack(">b", n)
    if n >= -(2**7):
        return b"\xd0" + struct.pack(">b", n)
    if n >= -(2**15):
        return b"\xd1" + struct.pack(">h", n)
    if n >= -(2**31):
        return b"\xd2" + struct.pack(">i", n)
    return b"\xd3" + struct.pack(">q", n)


def _sized(n: int, fix: tuple[int, int] | None, codes: tuple[int, int, int]) -> bytes:
    """A container/str/bin head: fix form (base, max) if given, then 8/16/32-bit forms."""
    if fix is not None and n <= fix[1]:
        return bytes([fix[0] | n])
    c8, c16, c32 = codes
    if c8 and n <= 0xFF:
        return bytes([c8, n])
    if n <= 0xFFFF:
        return bytes([c16]) + struct.pack(">H", n)
    return bytes([c32]) + struct.pack(">I", n)


def pack(value: Any) -> bytes:
    """Encode a plain message value in the shortest msgpack forms (CE-1).

    `Float32` travels as float32, `float` as float64, bytes-likes as bin, tuples and lists
    as arrays, mappings in their iteration order. Offloaded values have no msgpack form.
    """
    out = bytearray()
    _pack_into(value, out)
    return bytes(out)


def _pack_into(value: Any, out: bytearray) -> None:
    if value is None:
        out += b"\xc0"
    elif value is True:
        out += b"\xc3"
    elif value is False:
        out += b"\xc2"
    elif type(value) is int:
        out += _int(value)
    elif type(value) is Float32:
        out += b"\xca" + struct.pack(">f", value)
    elif type(value) is float:
        out += b"\xcb" + struct.pack(">d", value)
    elif type(value) is str:
        data = value.encode("utf-8")
        out += _sized(len(data), (0xA0, 31), (0xD9, 0xDA, 0xDB)) + data
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        out += _sized(len(data), None, (0xC4, 0xC5, 0xC6)) + data
    elif isinstance(value, tuple | list):
        out += _sized(len(value), (0x90, 15), (0, 0xDC, 0xDD))
        for item in value:
            _pack_into(item, out)
    elif isinstance(value, Mapping):
        out += _sized(len(value), (0x80, 15), (0, 0xDE, 0xDF))
        for key, item in value.items():
            _pack_into(key, out)
            _pack_into(item, out)
    else:
        msg = f"{type(value).__name__} has no msgpack form here"
        raise TypeError(msg)


def unpack_payload(data: bytes) -> Any:
    """Decode a payload with the msgpack library for editing (arrays as tuples, keys loose).

    Raises ValueError if re-packing the result would not give the same bytes (the payload
    uses float32 or non-minimal forms, which an edit would silently change).
    """
    value = msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=False)
    if pack(value) != data:
        msg = "payload does not survive a msgpack round trip; mutate it by hand instead"
        raise ValueError(msg)
    return value


def _same_key(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def edit(value: Any, path: Sequence[Any], fn: Callable[[Any], Any]) -> Any:
    """Return a copy of value with the node at path replaced by fn(node).

    Path items address map keys (compared with exact types) or array indices. If fn returns
    `DELETE` the entry is removed.
    """
    if not path:
        return fn(value)
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        found = False
        for key, item in value.items():
            if not found and _same_key(key, head):
                found = True
                new = edit(item, rest, fn)
                if new is not DELETE:
                    out[key] = new
            else:
                out[key] = item
        if not found:
            msg = f"no key {head!r} in map"
            raise KeyError(msg)
        return out
    if isinstance(value, tuple | list) and type(head) is int:
        items = list(value)
        new = edit(items[head], rest, fn)
        if new is DELETE:
            del items[head]
        else:
            items[head] = new
        return tuple(items)
    msg = f"cannot step into {type(value).__name__} with {head!r}"
    raise KeyError(msg)
