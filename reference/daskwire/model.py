"""The value model: frozen types for offloaded values, float32, sets and enums; the buffer alias."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["Buffer", "EnumValue", "Float32", "Materialized", "Offloaded", "Pickled", "SetValue"]

_F32 = struct.Struct("<f")

#: A frame: any contiguous bytes-like object. Frames are held, never copied.
Buffer: TypeAlias = bytes | bytearray | memoryview


_BUFFER_TYPES = frozenset({bytes, bytearray, memoryview})


def _frames_tuple(frames: Sequence[Buffer], owner: str) -> tuple[Buffer, ...]:
    out = tuple(frames)
    if _BUFFER_TYPES.issuperset(map(type, out)):
        return out
    for frame in out:
        if not isinstance(frame, bytes | bytearray | memoryview):
            msg = f"{owner}.frames holds {type(frame).__name__}, not a bytes-like frame"
            raise TypeError(msg)
    return out


@dataclass(frozen=True, slots=True)
class Offloaded:
    """An offloaded value in wire form, as a forwarding receiver keeps it (RX-1).

    `header` is the full header map, transport keys included; `frames` are the value's frames
    exactly as on the wire, possibly split and compressed. An encoder passes such a value
    through unchanged: it only fills in transport keys that are missing (CE-5).
    """

    header: Mapping[Any, Any]
    frames: tuple[Buffer, ...]

    def __init__(self, header: Mapping[Any, Any], frames: Sequence[Buffer]) -> None:
        if type(header) is not dict and not isinstance(header, Mapping):
            msg = f"Offloaded.header must be a mapping, not {type(header).__name__}"
            raise TypeError(msg)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "frames", _frames_tuple(frames, "Offloaded"))


@dataclass(frozen=True, slots=True)
class Materialized:
    """An offloaded value in original form, as a consuming receiver yields it (RX-2).

    `header` holds only serializer keys (no transport keys); `frames` are the original frames,
    decompressed and merged by `lengths`. Given to an encoder, such a value is split at the
    shard size, optionally compressed, and gets fresh transport keys (CE-5, CE-7, CE-8).
    """

    header: Mapping[Any, Any]
    frames: tuple[Buffer, ...]

    def __init__(self, header: Mapping[Any, Any], frames: Sequence[Buffer]) -> None:
        if type(header) is not dict and not isinstance(header, Mapping):
            msg = f"Materialized.header must be a mapping, not {type(header).__name__}"
            raise TypeError(msg)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "frames", _frames_tuple(frames, "Materialized"))


@dataclass(frozen=True, slots=True)
class Pickled:
    """A dask-2023.11 `__Pickled__` value, always in wire form (DR-2, DP-2).

    `header` is its sub-header as decoded (`pickled-obj`, the pickle's bytes, included);
    `frames` are the pickle's out-of-band buffers exactly as on the wire. Nothing here ever
    unpickles `pickled-obj`: it is opaque bytes.
    """

    header: Mapping[Any, Any]
    frames: tuple[Buffer, ...]

    def __init__(self, header: Mapping[Any, Any], frames: Sequence[Buffer]) -> None:
        if type(header) is not dict and not isinstance(header, Mapping):
            msg = f"Pickled.header must be a mapping, not {type(header).__name__}"
            raise TypeError(msg)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "frames", _frames_tuple(frames, "Pickled"))


@dataclass(frozen=True, slots=True)
class SetValue:
    """A dask-2023.11 set marker's value: its elements in wire order (DM-12)."""

    items: tuple[Any, ...]

    def __init__(self, items: Sequence[Any]) -> None:
        object.__setattr__(self, "items", tuple(items))


@dataclass(frozen=True, slots=True)
class EnumValue:
    """A dask-2023.11 enum marker's value: three names, never looked up (DM-13, DP-1)."""

    #: The module of the enum class (`__module__`).
    module: str
    #: The enum class's name (`__name__`).
    class_name: str
    #: The member's name (`name`).
    name: str

    def __post_init__(self) -> None:
        for field_name in ("module", "class_name", "name"):
            if type(getattr(self, field_name)) is not str:
                msg = f"EnumValue.{field_name} must be a str"
                raise TypeError(msg)


class Float32(float):
    """A float that travels as msgpack float32 (PL-5); plain `float` travels as float64.

    The value is rounded to the nearest float32 on construction, so what you hold is exactly
    what a decoder will see.
    """

    __slots__ = ()

    def __new__(cls, value: float | str = 0.0) -> Float32:
        rounded: float = _F32.unpack(_F32.pack(float(value)))[0]
        return super().__new__(cls, rounded)

    def __repr__(self) -> str:
        return f"Float32({float(self)!r})"
