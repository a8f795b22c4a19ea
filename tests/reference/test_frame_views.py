"""`wire.frame_views` against `wire.frame_view` frame by frame, for frames of every shape.

`frame_views` skips the per-frame Python step for bytes, bytearray and flat byte views and
must give what `frame_view` gives for each frame, or raise the same error.
"""

from __future__ import annotations

import array
import ctypes
from typing import Any

import pytest
from daskwire import wire

FLAT = memoryview(b"abcdef")
INTS = memoryview(array.array("i", [1, 2]))
GRID = memoryview(bytes(6)).cast("B", (2, 3))
EMPTY_GRID = memoryview(((ctypes.c_char * 0) * 3)())  # shape (3, 0): no bytes
STRIDED = memoryview(b"abcdef")[::2]

#: (name, frames): each list goes through both functions.
ROWS: list[tuple[str, list[Any]]] = [
    ("bytes", [b"ab", b""]),
    ("bytearray", [bytearray(b"ab"), b"c"]),
    ("flat views", [FLAT, FLAT[1:3], FLAT[:0]]),
    ("read-write flat view", [memoryview(bytearray(b"xy"))]),
    ("a view of ints", [FLAT, INTS]),
    ("a two-dimensional view", [GRID]),
    ("an empty two-dimensional view", [EMPTY_GRID]),
    ("a strided view", [FLAT, STRIDED]),
    ("not bytes-like", [b"a", "text"]),
    ("no frames", []),
]


def _outcome(func: Any, frames: list[Any]) -> Any:
    try:
        views = func(frames)
    except TypeError as exc:
        return ("TypeError", str(exc))
    return [(bytes(v), v.format, v.ndim, v.readonly) for v in views]


@pytest.mark.parametrize(("name", "frames"), ROWS, ids=[r[0] for r in ROWS])
def test_frame_views_is_frame_view_per_frame(name: str, frames: list[Any]) -> None:
    def one_by_one(items: list[Any]) -> list[memoryview]:
        return [wire.frame_view(item) for item in items]

    assert _outcome(wire.frame_views, frames) == _outcome(one_by_one, frames)


def test_frame_views_of_flat_frames_are_new_views() -> None:
    """A flat view is not handed back as it is: the caller may release it."""
    views = wire.frame_views([FLAT])
    assert views[0] is not FLAT
    assert views[0].obj is FLAT.obj
