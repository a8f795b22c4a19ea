"""`payload.plain_value` and `payload.same_bytes`: the C parser's result is kept only when
packing it again gives the frame byte for byte (tables of hand-written msgpack)."""

from __future__ import annotations

import pytest
from daskwire import payload
from daskwire.dask_2023_11 import decode
from daskwire.errors import InvalidMapKey

from .strategies import hx

#: (frame, what plain_value gives: a value, or None for NOT_PLAIN)
PLAIN_ROWS = [
    ("81 a1 62 cc 80", {"b": 128}),
    ("92 c3 c0", (True, None)),
    # a float32 (4 bytes longer as float64) and a repeated 4-byte entry (4 bytes shorter once
    # merged): the repack has the frame's length and other bytes
    ("83 a1 61 ca 3fc00000 a1 62 cc 80 a1 62 cc 80", None),
    ("82 a1 62 cc 80 a1 62 cc 80", None),  # a repeated key alone: shorter
    ("81 a1 62 cd 0080", None),  # a longer int form than the shortest: the exact path reads it
    ("81 a1 66 ca 3fc00000", None),  # a float32
]


@pytest.mark.parametrize(("frame", "want"), PLAIN_ROWS)
def test_plain_value_keeps_only_what_packs_to_the_same_bytes(frame: str, want: object) -> None:
    got = payload.plain_value(hx(frame), 256)
    assert got == (payload.NOT_PLAIN if want is None else want)


def test_a_repack_of_the_same_length_is_not_taken_for_the_frame() -> None:
    frame = hx("83 a1 61 ca 3fc00000 a1 62 cc 80 a1 62 cc 80")
    with pytest.raises(InvalidMapKey) as info:
        decode([frame])
    assert info.value.requirement == "DM-2"
    with pytest.raises(InvalidMapKey):
        payload.parse(frame, payload.plain_pairs_hook, 256)


SAME_ROWS = [
    (b"abc", b"abc", True),
    (b"abc", b"abd", False),
    (b"ab", b"abc", False),
    (b"abcd", b"abc", False),
    (b"", b"", True),
    (b"x", b"", False),
]


@pytest.mark.parametrize(("packed", "frame", "want"), SAME_ROWS)
def test_same_bytes(packed: bytes, frame: bytes, want: bool) -> None:
    view = memoryview(b"-" + frame + b"-")[1:-1]  # a view into a larger buffer
    assert payload.same_bytes(packed, view) is want
