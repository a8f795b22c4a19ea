"""The incremental FrameReader (WF-5, WF-6): same frames however the stream is chunked."""

from __future__ import annotations

import itertools
from typing import Any

import daskwire
import pytest
from daskwire import FrameReader, LimitExceeded, Limits, TooFewFrames, TruncatedInput
from hypothesis import given
from hypothesis import strategies as st

from .strategies import fixed_settings, hexes, messages, offloaded

FRAME_LISTS = st.lists(st.binary(max_size=30), min_size=2, max_size=6)
STREAMS = st.lists(FRAME_LISTS, min_size=1, max_size=5)


def wire_of(stream: list[list[bytes]]) -> bytes:
    return b"".join(daskwire.pack_bytes(frames) for frames in stream)


def read(chunks: list[bytes], limits: Limits | None = None) -> list[list[str]]:
    """Feed every chunk, close, and return the messages as lists of hex frames."""
    reader = FrameReader() if limits is None else FrameReader(limits)
    out: list[list[str]] = []
    for chunk in chunks:
        out.extend(hexes(frames) for frames in reader.feed(chunk))
    reader.close()
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_whole_byte_by_byte_and_in_halves() -> None:
    stream = [[b"", b"\x80"], [b"\x81", b"ab", b""], [b"", b"\x90", b"x" * 20]]
    wire = wire_of(stream)
    expected = [hexes(frames) for frames in stream]
    assert read([wire]) == expected
    assert read([wire[i : i + 1] for i in range(len(wire))]) == expected
    half = len(wire) // 2
    assert read([wire[:half], wire[half:]]) == expected


def test_byte_at_a_time_completes_each_message_on_its_last_byte() -> None:
    frames = [b"", b"\x81\xa1a\x01", b"zz"]
    wire = daskwire.pack_bytes(frames)
    reader = FrameReader()
    for i, byte in enumerate(wire):
        got = reader.feed(bytes([byte]))
        if i < len(wire) - 1:
            assert got == []
            assert reader.buffered == i + 1 - (32 if i + 1 >= 32 else 0)
        else:
            assert [hexes(m) for m in got] == [hexes(frames)]
    assert reader.buffered == 0
    reader.close()


@fixed_settings(300)
@given(stream=STREAMS, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_random_split_points_give_identical_messages(
    stream: list[list[bytes]], cuts: list[int]
) -> None:
    wire = wire_of(stream)
    expected = [hexes(frames) for frames in stream]
    assert read(split(wire, cuts)) == expected
    assert read([wire]) == expected


@fixed_settings(60)
@given(stream=STREAMS)
def test_one_byte_at_a_time_gives_identical_messages(stream: list[list[bytes]]) -> None:
    wire = wire_of(stream)
    assert read([wire[i : i + 1] for i in range(len(wire))]) == [hexes(f) for f in stream]


@fixed_settings(100)
@given(
    stream=st.lists(messages(offloaded(), max_leaves=6), min_size=1, max_size=3),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
)
def test_streams_of_encoded_messages_decode_identically(stream: list[Any], cuts: list[int]) -> None:
    encoded = [daskwire.encode(m) for m in stream]
    wire = b"".join(daskwire.pack_bytes(frames) for frames in encoded)
    reader = FrameReader()
    got = [frames for chunk in split(wire, cuts) for frames in reader.feed(chunk)]
    reader.close()
    assert [hexes(f) for f in got] == [hexes(f) for f in encoded]
    for frames in got:
        daskwire.decode(frames)


@fixed_settings(300)
@given(stream=STREAMS, data=st.data())
def test_a_stream_cut_inside_a_message_is_truncated_on_close(
    stream: list[list[bytes]], data: st.DataObject
) -> None:
    """WF-6: only a cut at a message boundary ends the stream cleanly."""
    wire = wire_of(stream)
    boundaries = {0}
    for frames in stream:
        boundaries.add(max(boundaries) + len(daskwire.pack_bytes(frames)))
    cut = data.draw(st.integers(0, len(wire)))
    chunks = split(wire[:cut], data.draw(st.lists(st.integers(0, 10_000), max_size=4)))
    complete = sum(1 for b in boundaries if 0 < b <= cut)
    reader = FrameReader()
    got = [frames for chunk in chunks for frames in reader.feed(chunk)]
    assert [hexes(f) for f in got] == [hexes(f) for f in stream[:complete]]
    if cut in boundaries:
        reader.close()
    else:
        with pytest.raises(TruncatedInput) as info:
            reader.close()
        assert info.value.requirement == "WF-6"


@pytest.mark.parametrize("cut", [1, 7, 8, 15, 24, 25])
def test_truncated_stream_cases(cut: int) -> None:
    wire = daskwire.pack_bytes([b"", b"\x80\x80", b""])  # 32-byte prelude, 2 bytes of frames
    reader = FrameReader()
    assert reader.feed(wire[:cut]) == []
    with pytest.raises(TruncatedInput):
        reader.close()


def test_errors_are_sticky() -> None:
    reader = FrameReader(Limits(max_frames=3))
    good = daskwire.pack_bytes([b"", b"\x80"])
    assert len(reader.feed(good)) == 1
    with pytest.raises(LimitExceeded) as first:
        reader.feed(daskwire.pack_bytes([b"", b"\x80", b"", b""]))
    assert first.value.limit == "max_frames"
    with pytest.raises(LimitExceeded) as again:
        reader.feed(good)
    assert again.value is first.value
    with pytest.raises(LimitExceeded) as on_close:
        reader.close()
    assert on_close.value is first.value


def test_truncation_on_close_is_sticky() -> None:
    reader = FrameReader()
    reader.feed(b"\x02\x00")
    with pytest.raises(TruncatedInput) as first:
        reader.close()
    with pytest.raises(TruncatedInput) as again:
        reader.feed(b"\x00" * 30)
    assert again.value is first.value
    with pytest.raises(TruncatedInput):
        reader.close()


def test_too_few_frames_in_a_stream() -> None:
    reader = FrameReader()
    with pytest.raises(TooFewFrames):
        reader.feed(daskwire.pack_bytes([b""]))
    with pytest.raises(TooFewFrames):
        reader.close()


@pytest.mark.parametrize(
    ("limits", "name"),
    [
        (Limits(max_frames=2), "max_frames"),
        (Limits(max_frame_bytes=2), "max_frame_bytes"),
        (Limits(max_message_bytes=35), "max_message_bytes"),
    ],
)
def test_limits_are_checked_from_the_prelude_alone(limits: Limits, name: str) -> None:
    """WF-7: the reader rejects declared sizes before the frames arrive."""
    wire = daskwire.pack_bytes([b"", b"\x80", b"abc"])
    prelude = wire[: 8 * 4]
    reader = FrameReader(limits)
    with pytest.raises(LimitExceeded) as info:
        reader.feed(prelude)
    assert info.value.limit == name


def test_the_limit_is_met_exactly() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"abc"])
    limits = Limits(max_frames=3, max_frame_bytes=3, max_message_bytes=len(wire))
    assert len(read([wire], limits)) == 1


def test_writable_chunks_are_copied() -> None:
    wire = bytearray(daskwire.pack_bytes([b"", b"\x80", b"abc"]))
    reader = FrameReader()
    head = bytearray(wire[:-2])
    assert reader.feed(head) == []
    head[:] = b"\xee" * len(head)  # the caller reuses its buffer
    [frames] = reader.feed(memoryview(bytearray(wire[-2:])))
    assert hexes(frames) == ["", "80", b"abc".hex()]


def test_frames_inside_one_readonly_chunk_are_views_of_it() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"abc"])
    [frames] = FrameReader().feed(wire)
    assert all(f.obj is wire for f in frames if f.nbytes)


def test_empty_chunks_and_back_to_back_messages() -> None:
    one = daskwire.pack_bytes([b"", b""])
    reader = FrameReader()
    assert reader.feed(b"") == []
    assert len(reader.feed(one * 3)) == 3
    assert reader.feed(memoryview(b"")) == []
    assert reader.buffered == 0
    reader.close()
    reader.close()


def test_a_prelude_split_across_many_chunks() -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"abcdef"])
    chunks = [wire[:3], wire[3:5], wire[5:11], wire[11:30], wire[30:40], wire[40:]]
    assert read(chunks) == [["", "80", b"abcdef".hex()]]


def test_non_bytes_chunks_are_api_misuse() -> None:
    with pytest.raises(TypeError):
        FrameReader().feed("text")  # type: ignore[arg-type]


def test_messages_before_an_error_are_returned() -> None:
    good = daskwire.pack_bytes([b"", b"\x80"])
    bad = daskwire.pack_bytes([b""])  # one frame: too-few-frames

    def before_error(chunks: list[bytes]) -> list[list[str]]:
        reader = FrameReader()
        got: list[list[str]] = []
        try:
            for chunk in chunks:
                got.extend(hexes(m) for m in reader.feed(chunk))
            reader.close()
        except TooFewFrames:
            return got
        raise AssertionError("no error")

    assert before_error([good, bad]) == [["", "80"]]
    assert before_error([good + bad]) == [["", "80"]]
