"""dask-2023.11 TCP framing (spec/dask-2023.11/tcp.md): the u64 no-split read hint H, then
the u64 prelude. Hand-written hex both ways, every legal and many illegal hints, the DT-8
check order, and the incremental FrameReader."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field

import pytest
from daskwire import DaskwireError, Limits, TruncatedInput
from daskwire.dask_2023_11 import FrameReader, pack, pack_bytes, unpack
from daskwire.dask_2023_11.framing import hint_boundaries
from hypothesis import given
from hypothesis import strategies as st

from .common import category_of, fixed_settings, hexes, hx

pytestmark = pytest.mark.timeout(120)

# -- the layout, both ways (DT-1, DT-6) ------------------------------------------------------

#: (frames, hint given to pack or None, wire bytes written by hand): H, N, lengths, frames.
WIRE_TABLE = [
    pytest.param(
        [b"\x80"],
        None,
        "1100000000000000"  # H = 17: 8 (N) + 8 (one length) + 1 (frame 0)
        " 0100000000000000 0100000000000000"  # N = 1, len[0] = 1
        " 80",
        id="one-frame-empty-map",
    ),
    pytest.param(
        [b""],
        None,
        "1000000000000000 0100000000000000 0000000000000000",  # H = 16: the prelude only
        id="one-empty-frame",
    ),
    pytest.param(
        [b"\x80", b"ab", b""],
        None,
        "2300000000000000"  # H = 35 = 8 + 3 * 8 + 1 + 2 + 0, the whole rest (DT-6)
        " 0300000000000000 0100000000000000 0200000000000000 0000000000000000"
        " 80 6162",
        id="three-frames-whole-rest",
    ),
    pytest.param(
        [b"\x80", b"ab", b""],
        32,
        "2000000000000000"  # H = 32: the prelude and no frame (k = 0)
        " 0300000000000000 0100000000000000 0200000000000000 0000000000000000"
        " 80 6162",
        id="three-frames-hint-prelude-only",
    ),
    pytest.param(
        [b"\x80", b"ab", b""],
        33,
        "2100000000000000"  # H = 33: the prelude and frame 0 (k = 1)
        " 0300000000000000 0100000000000000 0200000000000000 0000000000000000"
        " 80 6162",
        id="three-frames-hint-after-frame-0",
    ),
    pytest.param(
        [b"\x90", b"x" * 0x0102],
        None,
        "1b01000000000000"  # H = 0x11b = 283 = 8 + 16 + 1 + 258, little-endian
        " 0200000000000000 0100000000000000 0201000000000000"  # len[1] = 0x0102, LE
        " 90" + " 78" * 0x0102,
        id="lengths-little-endian",
    ),
]


@pytest.mark.parametrize(("frames", "hint", "wire"), WIRE_TABLE)
def test_pack_writes_the_wire_bytes(frames: list[bytes], hint: int | None, wire: str) -> None:
    assert pack_bytes(frames, hint=hint).hex() == hx(wire).hex()
    packed = pack(frames, hint=hint)
    assert b"".join(packed).hex() == hx(wire).hex()
    assert len(packed) == len(frames) + 1
    for given_frame, out in zip(frames, packed[1:], strict=True):
        assert out is given_frame  # frames are handed on, never copied


@pytest.mark.parametrize(("frames", "hint", "wire"), WIRE_TABLE)
def test_unpack_reads_the_frames(frames: list[bytes], hint: int | None, wire: str) -> None:
    data = hx(wire)
    got = unpack(data)
    assert hexes(got) == hexes(frames)
    assert all(isinstance(f, memoryview) and f.obj is data for f in got)


@pytest.mark.parametrize(("frames", "hint", "wire"), WIRE_TABLE)
def test_reader_reads_the_frames(frames: list[bytes], hint: int | None, wire: str) -> None:
    data = hx(wire)
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        reader = FrameReader()
        got = [m for chunk in chunks for m in reader.feed(chunk)]
        reader.close()
        assert [hexes(m) for m in got] == [hexes(frames)]


# -- every legal hint (DT-3, DT-5) -----------------------------------------------------------


def wire_by_hand(frames: list[bytes], hint: int, *, order: str = "<") -> bytes:
    """H, N, lengths and frames, packed with struct here (not by daskwire)."""
    head = struct.pack(f"{order}Q", hint) + struct.pack(
        f"<{len(frames) + 1}Q", len(frames), *map(len, frames)
    )
    return head + b"".join(frames)


def legal_hints(frames: list[bytes]) -> list[int]:
    """The prelude's end, then each frame boundary: 8 + 8N + len[0] + ... + len[k-1]."""
    edges = [8 + 8 * len(frames)]
    for frame in frames:
        edges.append(edges[-1] + len(frame))
    return edges


FRAME_LISTS = [
    [b"\x80"],
    [b""],
    [b"\x80", b"ab", b""],
    [b"\x81\xa1a\x01", b"", b"", b"xyz", b"q" * 40],
]


@pytest.mark.parametrize("frames", FRAME_LISTS, ids=lambda f: f"{len(f)}-frames")
def test_every_legal_hint_gives_the_same_frames(frames: list[bytes]) -> None:
    """DT-5: whatever k the hint implies, the frames are the same."""
    hints = legal_hints(frames)
    assert hint_boundaries(frames) == hints
    for hint in hints:
        data = wire_by_hand(frames, hint)
        assert hexes(unpack(data)) == hexes(frames), hint
        assert pack_bytes(frames, hint=hint) == data
        reader = FrameReader()
        assert [hexes(m) for m in reader.feed(data)] == [hexes(frames)]
        reader.close()


# -- illegal hints (DT-4, DT-8 step 2 and step 6) --------------------------------------------

THREE = [b"\x80", b"ab", b""]  # legal hints 32, 33, 35, 35 (the last frame is empty)

ILLEGAL_HINTS = [
    pytest.param(0, "invalid-read-hint", id="zero"),
    pytest.param(1, "invalid-read-hint", id="one"),
    pytest.param(8, "invalid-read-hint", id="eight"),
    pytest.param(15, "invalid-read-hint", id="below-16"),
    pytest.param(16, "invalid-read-hint", id="inside-the-prelude-16"),
    pytest.param(24, "invalid-read-hint", id="inside-the-prelude-24"),
    pytest.param(31, "invalid-read-hint", id="one-before-the-prelude-end"),
    pytest.param(34, "invalid-read-hint", id="inside-frame-1"),
    pytest.param(36, "invalid-read-hint", id="one-past-the-end"),
    pytest.param(1000, "invalid-read-hint", id="far-past-the-end"),
    pytest.param(2**32, "invalid-read-hint", id="max-message-bytes-exactly"),
    pytest.param(2**32 + 1, "limit-exceeded", id="over-max-message-bytes"),
    pytest.param(2**64 - 1, "limit-exceeded", id="u64-max"),
    pytest.param(35 << 56, "limit-exceeded", id="big-endian-35"),
]


@pytest.mark.parametrize(("hint", "category"), ILLEGAL_HINTS)
def test_illegal_hints_are_rejected(hint: int, category: str) -> None:
    data = wire_by_hand(THREE, hint)
    with pytest.raises(DaskwireError) as info:
        unpack(data)
    assert category_of(info.value) == category
    if category == "invalid-read-hint":
        assert info.value.requirement == "DT-4"
    else:
        assert info.value.limit == "max_message_bytes"  # type: ignore[attr-defined]
    reader = FrameReader()
    with pytest.raises(DaskwireError) as streamed:
        reader.feed(data)
    assert category_of(streamed.value) == category


def test_a_big_endian_hint_is_limit_exceeded_by_default_and_off_the_message_otherwise() -> None:
    data = wire_by_hand(THREE, 35, order=">")
    assert data[:8].hex() == "0000000000000023"
    with pytest.raises(DaskwireError) as info:
        unpack(data)
    assert category_of(info.value) == "limit-exceeded"
    # With no bound on the message size, H is simply far past the message's end.
    for hint_bytes in (data, wire_by_hand(THREE, 2**64 - 1)):
        with pytest.raises(DaskwireError) as info:
            unpack(hint_bytes, limits=Limits(max_message_bytes=2**64 - 1))
        assert category_of(info.value) == "invalid-read-hint"


@pytest.mark.parametrize("hint", [0, 15, 16, 31, 34, 36, 2**64 - 1, 35 << 56])
def test_pack_refuses_a_hint_off_a_boundary(hint: int) -> None:
    """DT-3: an encoder never writes a hint that is not on a frame boundary."""
    with pytest.raises(ValueError, match="DT-3"):
        pack(THREE, hint=hint)
    with pytest.raises(ValueError, match="DT-3"):
        pack_bytes(THREE, hint=hint)


# -- the order of the checks (DT-8) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bad:
    id: str
    wire: str
    category: str
    limits: Limits = field(default_factory=Limits)
    #: What a stream reader reports, when it differs (it has no trailing bytes: they start
    #: the next message, which then ends early on close).
    stream: str | None = None


# Building blocks, by hand: u64 little-endian fields.
N0 = "0000000000000000"
N1 = "0100000000000000"
N2 = "0200000000000000"
N3 = "0300000000000000"
L1 = "0100000000000000"
L2 = "0200000000000000"

DT8_ORDER = [
    Bad("empty", "", "truncated-input", stream=""),  # an empty stream ends cleanly
    Bad("seven-bytes", "11000000000000", "truncated-input"),
    # step 2: H itself, before the frame count is even there
    Bad("hint-over-limit-alone", "ffffffffffffffff", "limit-exceeded"),
    Bad("hint-below-16-alone", "0f00000000000000", "invalid-read-hint"),
    Bad("hint-zero-alone", N0, "invalid-read-hint"),
    Bad("hint-over-limit-beats-zero-frames", f"ffffffffffffffff {N0}", "limit-exceeded"),
    Bad("hint-below-16-beats-zero-frames", f"{N0} {N0}", "invalid-read-hint"),
    Bad("hint-below-16-beats-a-cut-count", "0800000000000000 0300", "invalid-read-hint"),
    Bad("hint-below-16-beats-a-cut-prelude", f"0800000000000000 {N3} {L1}", "invalid-read-hint"),
    Bad(
        "hint-over-limit-beats-max-frames",
        f"ffffffffffffffff {N3}",
        "limit-exceeded",
        Limits(max_frames=2),
    ),
    Bad("hint-below-16-beats-max-frames", f"{N0} {N3}", "invalid-read-hint", Limits(max_frames=2)),
    # step 3: the frame count
    Bad("count-cut", "1000000000000000 010000", "truncated-input"),
    Bad("zero-frames", f"1000000000000000 {N0}", "too-few-frames"),
    Bad("max-frames", f"2000000000000000 {N3}", "limit-exceeded", Limits(max_frames=2)),
    # step 4: the lengths, in turn; a cut prelude beats a bad H
    Bad("prelude-cut-good-hint", f"1000000000000000 {N1}", "truncated-input"),
    Bad("prelude-cut-hint-inside-a-frame", f"2200000000000000 {N3} {L1}", "truncated-input"),
    Bad("prelude-cut-hint-past-the-end", f"ff00000000000000 {N3} {L1} {L2}", "truncated-input"),
    Bad(
        "length-over-limit-before-a-cut-length",
        f"1800000000000000 {N2} {L2}",
        "limit-exceeded",
        Limits(max_frame_bytes=1),
    ),
    Bad(
        "length-over-limit-beats-a-bad-hint",
        f"1300000000000000 {N2} {L2} {L1} 6162 63",
        "limit-exceeded",
        Limits(max_frame_bytes=1),
    ),
    # step 5: the message size 16 + 8N + sum of lengths: 16 + 16 + 2 = 34 here
    Bad(
        "message-size-over-limit",
        f"1800000000000000 {N2} {L1} {L1} 61 62",
        "limit-exceeded",
        Limits(max_message_bytes=33),
    ),
    Bad(
        "message-size-beats-a-bad-hint",
        f"1700000000000000 {N2} {L1} {L1} 61 62",
        "limit-exceeded",
        Limits(max_message_bytes=33),
    ),
    Bad(
        "message-size-exactly-at-the-limit",
        f"1a00000000000000 {N2} {L1} {L1} 61 62",
        "",
        Limits(max_message_bytes=34),
    ),
    # step 6: H against the prelude; it beats cut frames and trailing bytes
    Bad("hint-inside-the-prelude", f"1400000000000000 {N2} {L1} {L1} 61 62", "invalid-read-hint"),
    Bad("hint-inside-a-frame", f"1a00000000000000 {N2} {L1} {L2} 61 6263", "invalid-read-hint"),
    Bad("hint-one-past-the-end", f"1b00000000000000 {N2} {L1} {L1} 61 62", "invalid-read-hint"),
    Bad("bad-hint-beats-cut-frames", f"2200000000000000 {N2} {L1} {L1}", "invalid-read-hint"),
    Bad(
        "bad-hint-beats-trailing-bytes",
        f"1b00000000000000 {N2} {L1} {L1} 61 62 00",
        "invalid-read-hint",
    ),
    # steps 7 and 8
    Bad("frames-cut", f"1a00000000000000 {N2} {L1} {L1} 61", "truncated-input"),
    Bad(
        "trailing-byte",
        f"1a00000000000000 {N2} {L1} {L1} 61 62 00",
        "trailing-bytes",
        stream="truncated-input",
    ),
    Bad("legal-hint-k-0", f"1800000000000000 {N2} {L1} {L1} 61 62", ""),
    Bad("legal-hint-k-1", f"1900000000000000 {N2} {L1} {L1} 61 62", ""),
]


@pytest.mark.parametrize("case", DT8_ORDER, ids=lambda c: c.id)
def test_checks_run_in_the_order_of_dt8(case: Bad) -> None:
    data = hx(case.wire)
    if not case.category:
        assert hexes(unpack(data, limits=case.limits)) == ["61", "62"]
        return
    with pytest.raises(DaskwireError) as info:
        unpack(data, limits=case.limits)
    assert category_of(info.value) == case.category, str(info.value)


@pytest.mark.parametrize("case", DT8_ORDER, ids=lambda c: c.id)
def test_a_stream_reader_reports_the_same_first_error(case: Bad) -> None:
    """DT-7 / WF-9: the reader makes the same checks, whole or one byte at a time."""
    data = hx(case.wire)
    expected = case.stream if case.stream is not None else case.category
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        got, category, _ = read_stream(chunks, case.limits)
        if expected:
            assert category == expected
        else:
            assert category is None
            assert got == ([["61", "62"]] if data else [])


# -- the stream reader -----------------------------------------------------------------------

MESSAGE = [b"\x81\xa1a\x01", b"zz", b"", b"q"]
MESSAGE_WIRE = wire_by_hand(MESSAGE, 8 + 8 * 4 + 7)
PRELUDE = 8 + 8 + 8 * 4  # H, N and four lengths


def test_byte_at_a_time_buffers_only_the_message_being_read() -> None:
    """`buffered` counts what was fed and not yet returned, less a prelude already read."""
    reader = FrameReader()
    for i, byte in enumerate(MESSAGE_WIRE):
        got = reader.feed(bytes([byte]))
        fed = i + 1
        if fed < len(MESSAGE_WIRE):
            assert got == []
            assert reader.buffered == (fed if fed < PRELUDE else fed - PRELUDE)
        else:
            assert [hexes(m) for m in got] == [hexes(MESSAGE)]
    assert reader.buffered == 0
    reader.close()


@pytest.mark.parametrize("cut", range(1, len(MESSAGE_WIRE)))
def test_close_inside_a_message_is_truncated_input(cut: int) -> None:
    """WF-6, also when only the hint (cut = 8) or the hint and count (cut = 16) arrived."""
    reader = FrameReader()
    assert reader.feed(MESSAGE_WIRE[:cut]) == []
    with pytest.raises(TruncatedInput) as info:
        reader.close()
    assert info.value.requirement == "WF-6"
    with pytest.raises(TruncatedInput) as again:  # sticky
        reader.feed(MESSAGE_WIRE[cut:])
    assert again.value is info.value


def test_close_after_only_the_hint_is_truncated_input() -> None:
    reader = FrameReader()
    assert reader.feed(hx("2700000000000000")) == []
    assert reader.buffered == 8
    with pytest.raises(TruncatedInput):
        reader.close()


def test_back_to_back_messages_with_different_hints() -> None:
    hints = legal_hints(MESSAGE)
    wire = b"".join(wire_by_hand(MESSAGE, h) for h in hints)
    reader = FrameReader()
    got = reader.feed(wire)
    reader.close()
    assert [hexes(m) for m in got] == [hexes(MESSAGE)] * len(hints)


def test_messages_before_an_error_are_returned_then_the_error_is_sticky() -> None:
    good = wire_by_hand([b"\x80"], 17)
    bad = wire_by_hand([b"\x80"], 18)  # one past the end
    reader = FrameReader()
    assert [hexes(m) for m in reader.feed(good + bad + good)] == [["80"]]
    with pytest.raises(DaskwireError) as first:
        reader.feed(good)
    assert category_of(first.value) == "invalid-read-hint"
    with pytest.raises(DaskwireError) as again:
        reader.close()
    assert again.value is first.value


# -- any chunking gives the same messages and the same final error ----------------------------

STREAM_FRAMES = st.lists(st.binary(max_size=20), min_size=1, max_size=5)


@st.composite
def hinted_message(draw: st.DrawFn) -> bytes:
    frames = draw(STREAM_FRAMES)
    return wire_by_hand(frames, draw(st.sampled_from(legal_hints(frames))))


#: Tails that break a stream: each row of DT8_ORDER with default limits that a reader rejects.
BAD_TAILS = [hx(c.wire) for c in DT8_ORDER if c.category and c.limits == Limits() and not c.stream]


def read_stream(
    chunks: list[bytes], limits: Limits | None = None
) -> tuple[list[list[str]], str | None, list[int]]:
    """Messages, final error category (or None) and `buffered` after each feed."""
    reader = FrameReader() if limits is None else FrameReader(limits)
    got: list[list[str]] = []
    buffered: list[int] = []
    try:
        for chunk in chunks:
            got.extend(hexes(m) for m in reader.feed(chunk))
            buffered.append(reader.buffered)
        reader.close()
    except DaskwireError as exc:
        return got, category_of(exc), buffered
    return got, None, buffered


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted({p % (len(data) + 1) for p in points}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@fixed_settings(200)
@given(
    stream=st.lists(hinted_message(), max_size=4),
    tail=st.sampled_from([b"", *BAD_TAILS]),
    points=st.lists(st.integers(0, 10_000), max_size=10),
)
def test_any_chunking_gives_the_same_messages_and_error(
    stream: list[bytes], tail: bytes, points: list[int]
) -> None:
    wire = b"".join(stream) + tail
    whole = read_stream([wire])
    chunked = read_stream(cut(wire, points))
    assert chunked[:2] == whole[:2]
    assert len(whole[0]) == len(stream)  # every good message comes out before the error
    assert (whole[1] is None) == (tail == b"")


@fixed_settings(200)
@given(
    stream=st.lists(hinted_message(), min_size=1, max_size=4),
    points=st.lists(st.integers(0, 10_000), max_size=10),
)
def test_memory_stays_bounded_by_the_message_being_read(
    stream: list[bytes], points: list[int]
) -> None:
    """The reader never holds more than the bytes fed and not yet returned in a message."""
    wire = b"".join(stream)
    ends = list(itertools.accumulate(len(m) for m in stream))
    reader = FrameReader()
    fed = 0
    returned = 0
    for chunk in cut(wire, points):
        returned += len(reader.feed(chunk))
        fed += len(chunk)
        done = ends[returned - 1] if returned else 0
        assert 0 <= reader.buffered <= fed - done
    assert returned == len(stream)
    assert reader.buffered == 0
    reader.close()
