"""dask-2023.11's encoder where its fast path steps aside: the walk's output, by hand.

A set or enum value, a float32, or a float32 in a sub-header sends a message to the walk
(`encoder._Encoding.walk`), and a user map with a reserved key must be refused even beside
the markers the fast path makes. Expected bytes are hand-written msgpack."""

from __future__ import annotations

import pytest
from daskwire import Offloaded, SetValue
from daskwire.dask_2023_11 import encode
from daskwire.errors import UnencodableValue
from daskwire.model import Float32

from .common import K_ASLIST, K_NSF, K_SER, K_SET, hx

ROWS = [
    # a set sends the message to the walk; bytes stay bin there
    ({"s": SetValue([1]), "b": b"x"}, f"82 a1 73 82 {K_SET} c3 {K_ASLIST} 91 01 a1 62 c4 01 78"),
    # a float32 in an array is written as float32 by the walk
    ({"a": [Float32(1.5), 2]}, "81 a1 61 92 ca 3fc00000 02"),
    ({"a": (1, (Float32(1.5),))}, "81 a1 61 92 01 91 ca 3fc00000"),
]


@pytest.mark.parametrize(("message", "frame0"), ROWS)
def test_the_walk_writes(message: object, frame0: str) -> None:
    assert bytes(encode(message)[0]) == hx(frame0)


def test_a_float32_in_a_sub_header_is_written_as_float32() -> None:
    frames = encode({"v": Offloaded({"x": Float32(1.5)}, [b"d"])})
    assert bytes(frames[0]) == hx(f"81 a1 76 81 {K_SER} 01")
    assert bytes(frames[1]) == hx(f"82 a1 78 ca 3fc00000 {K_NSF} 01")
    assert bytes(frames[2]) == b"d"


@pytest.mark.parametrize("key", ["__Set__", "__Enum__", "__Pickled__", "__Serialized__"])
def test_a_reserved_key_beside_a_marker_is_refused(key: str) -> None:
    with pytest.raises(UnencodableValue) as info:
        encode({"a": Offloaded({}, [b"d"]), "b": {key: 1}})
    assert info.value.requirement == "DM-15"


def test_an_offloaded_value_of_300_frames() -> None:
    frames = encode({"v": Offloaded({"compression": (None,) * 300}, [b"d"] * 300)})
    assert len(frames) == 302
