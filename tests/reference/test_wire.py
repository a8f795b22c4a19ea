"""Wire framing (spec/framing.md): the u64 little-endian prelude, pack and unpack, both ways."""

from __future__ import annotations

import array
import struct

import daskwire
import pytest
from daskwire import LimitExceeded, Limits, TooFewFrames, TrailingBytes, TruncatedInput
from hypothesis import given
from hypothesis import strategies as st

from .strategies import fixed_settings, hexes, hx

#: (frames, wire bytes) pairs, written by hand: u64 LE count, u64 LE lengths, frames (WF-1).
WIRE_TABLE = [
    pytest.param(
        [b"", b""],
        "0200000000000000 0000000000000000 0000000000000000",
        id="two-empty-frames",
    ),
    pytest.param(
        [b"", b"\x80"],
        "0200000000000000 0000000000000000 0100000000000000 80",
        id="empty-map",
    ),
    pytest.param(
        [b"\x81", b"\x01\x02", b"", b"\xff" * 3],
        "0400000000000000 0100000000000000 0200000000000000 0000000000000000 0300000000000000"
        " 81 0102 ffffff",
        id="four-frames-one-empty",
    ),
    pytest.param(
        [b"", b"x" * 0x0102],
        "0200000000000000 0000000000000000 0201000000000000" + " 78" * 0x0102,
        id="length-little-endian",
    ),
]


@pytest.mark.parametrize(("frames", "wire"), WIRE_TABLE)
def test_pack_gives_the_wire_bytes(frames: list[bytes], wire: str) -> None:
    assert daskwire.pack_bytes(frames).hex() == hx(wire).hex()
    packed = daskwire.pack(frames)
    assert b"".join(packed).hex() == hx(wire).hex()


@pytest.mark.parametrize(("frames", "wire"), WIRE_TABLE)
def test_unpack_gives_the_frames(frames: list[bytes], wire: str) -> None:
    assert hexes(daskwire.unpack(hx(wire))) == hexes(frames)


@pytest.mark.parametrize(("frames", "wire"), WIRE_TABLE)
def test_reader_gives_the_frames(frames: list[bytes], wire: str) -> None:
    reader = daskwire.FrameReader()
    [message] = reader.feed(hx(wire))
    reader.close()
    assert hexes(message) == hexes(frames)


def test_pack_puts_the_prelude_first_and_never_copies_frames() -> None:
    frames = [b"", bytearray(b"\x80"), memoryview(b"abc")]
    packed = daskwire.pack(frames)
    assert len(packed) == 4
    assert bytes(packed[0]) == hx(
        "0300000000000000 0000000000000000 0100000000000000 0300000000000000"
    )
    for given_frame, out in zip(frames, packed[1:], strict=True):
        assert out is given_frame


def test_pack_counts_bytes_of_multibyte_frames() -> None:
    ints = array.array("i", [1, 2, 3])
    wire = daskwire.pack_bytes([b"", memoryview(ints)])
    assert struct.unpack_from("<3Q", wire) == (2, 0, 3 * ints.itemsize)
    assert bytes(daskwire.unpack(wire)[1]) == ints.tobytes()


def test_unpack_returns_views_of_the_input() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"payload"])
    frames = daskwire.unpack(wire)
    assert all(isinstance(f, memoryview) and f.obj is wire for f in frames)
    assert [bytes(f) for f in frames] == [b"", b"\x80", b"payload"]


def test_unpack_accepts_any_bytes_like_input() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80"])
    for data in (wire, bytearray(wire), memoryview(wire)):
        assert hexes(daskwire.unpack(data)) == ["", "80"]


def test_non_contiguous_frames_are_api_misuse() -> None:
    strided = memoryview(b"abcdef")[::2]
    with pytest.raises(TypeError):
        daskwire.pack([b"", strided])
    with pytest.raises(TypeError):
        daskwire.unpack(strided)
    with pytest.raises(TypeError):
        daskwire.unpack("not bytes")  # type: ignore[arg-type]


# -- rejections --------------------------------------------------------------------------

VALID = daskwire.pack_bytes([b"", b"\x81\xa1a\x01", b"xyz"])


@pytest.mark.parametrize("cut", range(len(VALID)))
def test_every_truncation_is_truncated_input(cut: int) -> None:
    """WF-4: the bytes end inside the prelude or inside a frame."""
    with pytest.raises(TruncatedInput) as info:
        daskwire.unpack(VALID[:cut])
    assert info.value.category == "truncated-input"


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * 8, VALID])
def test_bytes_after_the_last_frame_are_trailing_bytes(extra: bytes) -> None:
    """WF-3: a message decoded on its own has nothing after its last frame."""
    with pytest.raises(TrailingBytes):
        daskwire.unpack(VALID + extra)


@pytest.mark.parametrize(
    "wire",
    [
        "0000000000000000",
        "0100000000000000 0000000000000000",
        "0100000000000000 0100000000000000 80",
    ],
    ids=["zero-frames", "one-empty-frame", "one-frame"],
)
def test_fewer_than_two_frames(wire: str) -> None:
    """WF-2: N >= 2."""
    with pytest.raises(TooFewFrames):
        daskwire.unpack(hx(wire))
    with pytest.raises(TooFewFrames):
        daskwire.FrameReader().feed(hx(wire))


def test_too_few_frames_is_known_from_the_count_alone() -> None:
    with pytest.raises(TooFewFrames):
        daskwire.unpack(hx("0100000000000000"))


def test_big_endian_prelude_is_not_read_as_such() -> None:
    """WF-8: a big-endian count of 2 reads as 2**57 frames, over max_frames."""
    wire = hx("0000000000000002 0000000000000000 0000000000000001 80")
    with pytest.raises(LimitExceeded) as info:
        daskwire.unpack(wire)
    assert info.value.limit == "max_frames"


def test_huge_declared_sizes_fail_before_any_allocation() -> None:
    """WF-7: limits are checked on the prelude, not after reading the frames."""
    wire = hx("0200000000000000 0000000000000000 ffffffffffffffff")
    with pytest.raises(LimitExceeded) as info:
        daskwire.unpack(wire)
    assert info.value.limit == "max_frame_bytes"
    reader = daskwire.FrameReader()
    with pytest.raises(LimitExceeded):
        reader.feed(wire)


def test_limits_apply_to_unpack() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"abcd"])
    assert len(daskwire.unpack(wire, limits=Limits(max_frames=3, max_frame_bytes=4))) == 3
    assert daskwire.unpack(wire, limits=Limits(max_message_bytes=len(wire)))
    for limits, name in [
        (Limits(max_frames=2), "max_frames"),
        (Limits(max_frame_bytes=3), "max_frame_bytes"),
        (Limits(max_message_bytes=len(wire) - 1), "max_message_bytes"),
    ]:
        with pytest.raises(LimitExceeded) as info:
            daskwire.unpack(wire, limits=limits)
        assert info.value.limit == name
        assert info.value.requirement == "WF-7"


# -- properties ------------------------------------------------------------------------------

FRAME_LISTS = st.lists(st.binary(max_size=40), min_size=2, max_size=8)


@fixed_settings(300)
@given(frames=FRAME_LISTS)
def test_unpack_inverts_pack(frames: list[bytes]) -> None:
    wire = daskwire.pack_bytes(frames)
    assert len(wire) == 8 * (len(frames) + 1) + sum(map(len, frames))
    assert hexes(daskwire.unpack(wire)) == hexes(frames)


@fixed_settings(300)
@given(frames=FRAME_LISTS, data=st.data())
def test_any_strict_prefix_is_truncated(frames: list[bytes], data: st.DataObject) -> None:
    wire = daskwire.pack_bytes(frames)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(TruncatedInput):
        daskwire.unpack(wire[:cut])
