"""dask-2023.11's fast paths against the exact ones they vouch for or step aside to.

Vouch or step aside: the decoder's fast path of frame 0 (`decoder._index_markers_fast`) and
the reader's whole-message loop (`wire._whole_messages`) either give what the exact path gives
or leave the input to it. Each table row is hand-written bytes and says which way the fast
path must go; every row also checks that the result, or the error's category and requirement,
is the exact path's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import pytest
from daskwire import DaskwireError, Limits, Materialized, Offloaded, Pickled, SetValue, wire
from daskwire.dask_2023_11 import FrameReader, decoder
from daskwire.dask_2023_11.framing import FRAMING as DASK_FRAMING
from daskwire.limits import DEFAULT_LIMITS
from daskwire.model import Float32
from daskwire.placeholder_v1.framing import FRAME_COUNT as P1_FRAMING
from daskwire.placeholder_v1.framing import FrameReader as P1Reader
from hypothesis import given
from hypothesis import strategies as st

from .common import (
    K_ASLIST,
    K_PIC,
    K_SER,
    K_SET,
    category_of,
    fixarray,
    fixed_settings,
    fixmap,
    hx,
    pic,
    pickled_sub,
    ser,
    sub,
)

VOUCH = "vouch"
ASIDE = "aside"
DATA = b"DATA"


@dataclass(frozen=True, slots=True)
class Row:
    """Frame 0 as hex, the frames after it, the fast path's way, and the limits."""

    name: str
    frame0: str
    rest: tuple[bytes, ...]
    way: str
    limits: Limits = DEFAULT_LIMITS


ONE_SER = (sub(1), DATA)
ONE_PIC = (pickled_sub(0),)

FRAME0_ROWS = [
    Row("serialized marker in a map", fixmap(f"a1 61 {ser(1)}"), ONE_SER, VOUCH),
    Row("pickled marker in an array", fixarray("a1 78", pic(1)), ONE_PIC, VOUCH),
    Row(
        "two markers in index order",
        fixmap(f"a1 61 {ser(1)}", f"a1 62 {pic(3)}"),
        (*ONE_SER, *ONE_PIC),
        VOUCH,
    ),
    Row(
        "two markers, frames in the other order (DM-11 is the encoder's)",
        fixmap(f"a1 61 {ser(2)}", f"a1 62 {pic(1)}"),
        (*ONE_PIC, *ONE_SER),
        VOUCH,
    ),
    Row("'__' in a str only", fixmap("a1 61 a3 5f5f78"), (), VOUCH),
    Row("a marker past the last frame (DM-7)", fixmap(f"a1 61 {ser(5)}"), ONE_SER, VOUCH),
    Row("a marker run past the last frame (DM-7)", fixmap(f"a1 61 {ser(1)}"), (sub(3),), VOUCH),
    Row("two markers claim one frame (DM-8)", fixarray(ser(1), ser(1)), ONE_SER, VOUCH),
    Row("the message itself is a marker (DM-14)", ser(1), ONE_SER, VOUCH),
    Row(
        "a sub-header without num-sub-frames (DS-2)", fixmap(f"a1 61 {ser(1)}"), (hx("80"),), VOUCH
    ),
    Row("index 0 (DM-6)", fixmap(f"a1 61 {ser(0)}"), ONE_SER, ASIDE),
    Row("index true (DM-6)", fixmap(f"a1 61 81 {K_SER} c3"), ONE_SER, ASIDE),
    Row("index -1 (DM-6)", fixmap(f"a1 61 81 {K_SER} ff"), ONE_SER, ASIDE),
    Row(
        "a marker with a second entry (DM-6)",
        fixmap(f"a1 61 82 {K_SER} 01 a1 78 01"),
        ONE_SER,
        ASIDE,
    ),
    Row(
        "two reserved keys in one map (DM-5)",
        fixmap(f"a1 61 82 {K_SER} 01 {K_PIC} 02"),
        ONE_SER,
        ASIDE,
    ),
    Row("a marker as a map key (DM-2)", fixmap(f"{ser(1)} 01"), ONE_SER, ASIDE),
    Row("a marker in an array key (DM-2)", fixmap(f"91 {ser(1)} 01"), ONE_SER, ASIDE),
    Row("a set marker", fixmap(f"a1 61 82 {K_SET} c3 {K_ASLIST} 92 01 02"), (), ASIDE),
    Row(
        "a set marker beside an index marker",
        fixmap(f"a1 61 82 {K_SET} c3 {K_ASLIST} 91 01", f"a1 62 {ser(1)}"),
        ONE_SER,
        ASIDE,
    ),
    Row("a bad set marker (DM-12)", fixmap(f"a1 61 81 {K_SET} c3"), (), ASIDE),
    Row(
        "a repeated key beside a marker (DM-2)",
        fixmap(f"a1 61 {ser(1)}", "a1 61 02"),
        ONE_SER,
        ASIDE,
    ),
    Row(
        "a float32 beside a marker", fixmap(f"a1 61 {ser(1)}", "a1 66 ca 3fc00000"), ONE_SER, ASIDE
    ),
    Row("a longer int form of the index", fixmap(f"a1 61 81 {K_SER} cc 01"), ONE_SER, ASIDE),
    Row(
        "an ext type beside a marker (DM-1)",
        fixmap(f"a1 61 {ser(1)}", "a1 65 d4 01 00"),
        ONE_SER,
        ASIDE,
    ),
    Row(
        "a timestamp beside a marker (DM-1)",
        fixmap(f"a1 61 {ser(1)}", "a1 74 d6 ff 00000001"),
        ONE_SER,
        ASIDE,
    ),
    Row("bytes after the value (DM-1)", fixmap(f"a1 61 {ser(1)}") + " c0", ONE_SER, ASIDE),
    Row("a value cut short (DM-1)", fixmap(f"a1 61 {ser(1)}")[:-3], ONE_SER, ASIDE),
    Row(
        "nesting that could pass max_depth (DL-2)",
        fixmap(f"a1 61 81 a1 62 {ser(1)}"),
        ONE_SER,
        ASIDE,
        Limits(max_depth=2),
    ),
    Row(
        "nesting at max_depth",
        fixmap(f"a1 61 81 a1 62 {ser(1)}"),
        ONE_SER,
        VOUCH,
        Limits(max_depth=3),
    ),
    Row(
        "more container headers than max_depth, nesting within it",
        fixmap(f"a1 61 {ser(1)}", "a1 62 80", "a1 63 90"),
        ONE_SER,
        ASIDE,
        Limits(max_depth=3),
    ),
]


def _exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoder, "_index_markers_fast", lambda *args: None)


def _outcome(frames: list[bytes], mode: decoder.Mode, limits: Limits) -> Any:
    try:
        return ("value", decoder.decode(frames, mode=mode, limits=limits))
    except DaskwireError as exc:
        return ("error", category_of(exc), exc.requirement)


@pytest.mark.parametrize("row", FRAME0_ROWS, ids=lambda r: r.name)
def test_frame0_fast_path_takes_what_it_can_vouch_for(row: Row) -> None:
    for mode in ("forwarding", "consuming"):
        found = decoder._index_markers_fast(memoryview(hx(row.frame0)), mode, row.limits.max_depth)
        assert (VOUCH if found is not None else ASIDE) == row.way


@pytest.mark.parametrize("mode", ["forwarding", "consuming"])
@pytest.mark.parametrize("row", FRAME0_ROWS, ids=lambda r: r.name)
def test_frame0_fast_path_agrees_with_the_exact_path(
    row: Row, mode: decoder.Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = [hx(row.frame0), *row.rest]
    fast = _outcome(frames, mode, row.limits)
    _exact(monkeypatch)
    assert fast == _outcome(frames, mode, row.limits)


def test_the_fast_path_builds_the_values_of_each_mode() -> None:
    frames = [hx(fixmap(f"a1 61 {ser(1)}", f"a1 62 {pic(3)}")), *ONE_SER, *ONE_PIC]
    forwarded = decoder.decode(frames, mode="forwarding")
    assert type(forwarded["a"]) is Offloaded
    assert forwarded["a"] == Offloaded({"num-sub-frames": 1}, [DATA])
    assert type(forwarded["b"]) is Pickled
    consumed = decoder.decode(frames, mode="consuming")
    assert consumed["a"] == Materialized({}, [DATA])
    assert consumed["b"] == forwarded["b"]


def test_values_the_fast_path_leaves_aside_come_from_the_exact_path() -> None:
    frames = [hx(fixmap(f"a1 61 {ser(1)}", "a1 66 ca 3fc00000")), *ONE_SER]
    got = decoder.decode(frames)
    assert type(got["f"]) is Float32
    assert got["a"] == Offloaded({"num-sub-frames": 1}, [DATA])
    frames = [hx(fixmap(f"a1 61 82 {K_SET} c3 {K_ASLIST} 92 01 02"))]
    assert decoder.decode(frames) == {"a": SetValue((1, 2))}


def test_an_unfilled_value_cannot_be_a_map_key() -> None:
    """The empty value objects are unhashable, so a marker in a key fails the C parse."""
    for kind in (Offloaded, Materialized, Pickled):
        with pytest.raises(AttributeError):
            hash(kind.__new__(kind))


# -- the reader's whole-message loop ----------------------------------------------------------


def message(frames: list[bytes], *, hint: int | None = None, count: int | None = None) -> bytes:
    """One dask-2023.11 message: hint (default: the rest), count (default: len), lengths."""
    n = len(frames) if count is None else count
    prelude = struct.pack(f"<{len(frames) + 1}Q", n, *map(len, frames))
    rest = len(prelude) + sum(map(len, frames))
    return struct.pack("<Q", rest if hint is None else hint) + prelude + b"".join(frames)


def p1_message(frames: list[bytes]) -> bytes:
    """One placeholder-v1 message: count, lengths, frames (no read hint)."""
    return struct.pack(f"<{len(frames) + 1}Q", len(frames), *map(len, frames)) + b"".join(frames)


@dataclass(frozen=True, slots=True)
class StreamRow:
    """A stream, how many whole messages the loop takes, the limits and the profile."""

    name: str
    data: bytes
    taken: int
    limits: Limits = DEFAULT_LIMITS
    profile: str = "dask-2023.11"

    @property
    def rule(self) -> wire.Framing:
        return DASK_FRAMING if self.profile == "dask-2023.11" else P1_FRAMING

    def reader(self) -> Any:
        kind = FrameReader if self.profile == "dask-2023.11" else P1Reader
        return kind(self.limits)


STREAM_ROWS = [
    StreamRow("one message", message([b"ab", b"c"]), 1),
    StreamRow("two messages", message([b"ab"]) + message([b"", b"xyz"]), 2),
    StreamRow("zero-length frames", message([b"", b""]), 1),
    StreamRow("hint at the prelude's end (DT-4)", message([b"ab", b"c"], hint=24), 1),
    StreamRow("hint after frame 0", message([b"ab", b"c"], hint=26), 1),
    StreamRow("hint inside a frame (DT-4)", message([b"ab", b"c"], hint=25), 0),
    StreamRow("hint past the end (DT-4)", message([b"ab"], hint=40), 0),
    StreamRow("hint inside the prelude (DT-4)", message([b"ab"], hint=8), 0),
    StreamRow("hint below 16", message([b"ab"], hint=3), 0),
    StreamRow("hint over max_message_bytes", message([b"ab"], hint=2**40), 0),
    StreamRow("no frames (DT-2)", message([], hint=8), 0),
    StreamRow("a whole message, then a broken one", message([b"a"]) + message([b"b"], hint=25), 1),
    StreamRow("a whole message, then a cut one", message([b"a"]) + message([b"bc"])[:-1], 1),
    StreamRow("cut inside the prelude", message([b"a", b"b"])[:20], 0),
    StreamRow("a count over max_frames", message([b"a", b"b"]), 0, Limits(max_frames=1)),
    StreamRow("a frame over max_frame_bytes", message([b"abc"]), 0, Limits(max_frame_bytes=2)),
    StreamRow("a frame at max_frame_bytes", message([b"abc"]), 1, Limits(max_frame_bytes=3)),
    StreamRow(
        "a message over max_message_bytes", message([b"abc"]), 0, Limits(max_message_bytes=26)
    ),
    StreamRow("a message at max_message_bytes", message([b"abc"]), 1, Limits(max_message_bytes=27)),
    StreamRow(
        "a message, then one over max_message_bytes",
        message([b"a"]) + message([b"abc"]),
        1,
        Limits(max_message_bytes=26),
    ),
    StreamRow(
        "a message, then a frame over max_frame_bytes",
        message([b"a"]) + message([b"abc"]),
        1,
        Limits(max_frame_bytes=2),
    ),
    StreamRow(
        "a message, then too many frames",
        message([b"a"]) + message([b"a", b"b"]),
        1,
        Limits(max_frames=1),
    ),
    *(
        StreamRow(f"hint {hint}, past the end", message([b"ab"], hint=hint), 0)
        for hint in (26, 34, 208, 6656, 26**8)
    ),
    # hints off the message that a slip in the loop's shortcut (the whole rest of the
    # message, DT-6) could take for it: inside the frame or past the end
    StreamRow("hint 28, inside a 200-byte frame", message([bytes(200)], hint=28), 0),
    StreamRow("hint 232, past a 200-byte frame", message([bytes(200)], hint=232), 0),
    StreamRow("hint 19, inside a 5000-byte frame", message([bytes(5000)], hint=19), 0),
    StreamRow(
        "a message, then hint 23 inside a 40-byte frame",
        message([b"a"]) + message([bytes(40)], hint=23),
        1,
    ),
    StreamRow("a message, then hint 33 past the end", message([b"a"]) + message([b""], hint=33), 1),
    # streams a loop that reads the prelude from a wrong place could cut wrongly
    StreamRow("hint 16 before a 20-byte frame", message([bytes(20)], hint=16), 1),
    StreamRow(
        "a message ending in the u64 1, then hint 16",
        message([bytes(8) + struct.pack("<Q", 1)]) + message([b"xyz"], hint=16),
        2,
    ),
    StreamRow(
        "placeholder-v1: 24 frames, the first of 2 bytes",
        p1_message([b"ab"] + [b""] * 23),
        1,
        profile="p1",
    ),
    StreamRow(
        "placeholder-v1: 512 frames, the second of 124928 bytes",
        p1_message([b"", bytes(488 * 256)] + [b""] * 510),
        1,
        profile="p1",
    ),
    StreamRow("placeholder-v1: two messages", p1_message([b"a", b"bc"]) * 2, 2, profile="p1"),
    StreamRow(
        "placeholder-v1: a message, then one frame (WF-2)",
        p1_message([b"a", b"b"]) + p1_message([b"c"]),
        1,
        profile="p1",
    ),
    StreamRow("placeholder-v1: one frame (WF-2)", p1_message([b"a"]), 0, profile="p1"),
    StreamRow(
        "placeholder-v1: a message, then a cut one",
        p1_message([b"", b"x"]) + p1_message([b"a", b"b"])[:-1],
        1,
        profile="p1",
    ),
]


def _read(reader: FrameReader, chunks: list[bytes]) -> Any:
    got: list[list[bytes]] = []
    try:
        for chunk in chunks:
            got.extend([bytes(f) for f in frames] for frames in reader.feed(chunk))
        reader.feed(b"")
        reader.close()
    except DaskwireError as exc:
        return got, (category_of(exc), exc.requirement)
    return got, None


@pytest.mark.parametrize("row", STREAM_ROWS, ids=lambda r: r.name)
def test_whole_message_loop_takes_what_it_can_vouch_for(row: StreamRow) -> None:
    messages, used = wire._whole_messages(memoryview(row.data), row.rule, row.limits)
    assert len(messages) == row.taken
    lead = 8 if row.profile == "dask-2023.11" else 0
    assert used == sum(len(m) for m in _split(row.data, lead)[: row.taken])


@pytest.mark.parametrize("row", STREAM_ROWS, ids=lambda r: r.name)
def test_whole_message_loop_agrees_with_the_state_machine(row: StreamRow) -> None:
    whole = _read(row.reader(), [row.data])
    step = 1 if len(row.data) < 4096 else 997
    pieces = [row.data[i : i + step] for i in range(0, len(row.data), step)]
    assert whole == _read(row.reader(), pieces)


def _split(data: bytes, lead: int) -> list[bytes]:
    """The stream cut into messages by their count and lengths alone (hints ignored)."""
    out = []
    offset = 0
    while offset + lead + 8 <= len(data):
        (count,) = struct.unpack_from("<Q", data, offset + lead)
        if offset + lead + 8 * (count + 1) > len(data):
            break
        lengths = struct.unpack_from(f"<{count}Q", data, offset + lead + 8)
        end = offset + lead + 8 * (count + 1) + sum(lengths)
        out.append(data[offset:end])
        offset = end
    return out


def test_the_loop_hands_a_partial_message_to_the_state_machine() -> None:
    data = message([b"ab"]) + message([b"cd"])
    reader = FrameReader()
    got = reader.feed(data[:-1])
    assert [[bytes(f) for f in m] for m in got] == [[b"ab"]]
    assert reader.buffered == 1  # b"c": the prelude, whole, is read and checked
    got = reader.feed(data[-1:])
    assert [[bytes(f) for f in m] for m in got] == [[b"cd"]]
    reader.close()


def test_frames_of_the_loop_are_views_of_the_chunk() -> None:
    data = message([b"ab", b"", b"c"])
    (frames,) = FrameReader().feed(data)
    assert [bytes(f) for f in frames] == [b"ab", b"", b"c"]
    assert frames[0].obj is data
    assert frames[2].obj is data


# -- streams of any shape: whole chunks against one byte at a time ----------------------------

_FRAMES = st.lists(st.binary(max_size=6), max_size=4)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[str, bytes, Limits]:
    """Back-to-back messages of either profile: some with a wrong count, a hint anywhere, or a
    large count read as something else, then maybe a cut; limits small enough to be hit."""
    profile = draw(st.sampled_from(["dask-2023.11", "p1"]))
    data = b""
    for frames in draw(st.lists(_FRAMES, min_size=1, max_size=4)):
        count = draw(st.one_of(st.none(), st.integers(0, 40)))
        n = len(frames) if count is None else count
        body = struct.pack(f"<{len(frames) + 1}Q", n, *map(len, frames)) + b"".join(frames)
        if profile == "dask-2023.11":
            hint = draw(
                st.one_of(st.none(), st.integers(0, 80), st.sampled_from([2**33, 2**64 - 1]))
            )
            body = struct.pack("<Q", len(body) if hint is None else hint) + body
        data += body
    data = data[: draw(st.integers(len(data) - 9, len(data)))] if draw(st.booleans()) else data
    limits = Limits(
        max_frames=draw(st.sampled_from([1, 2, 3, 2**20])),
        max_frame_bytes=draw(st.sampled_from([2, 5, 2**31])),
        max_message_bytes=draw(st.sampled_from([30, 60, 2**32])),
    )
    return profile, data, limits


@fixed_settings(600)
@given(_streams())
def test_any_stream_reads_alike_whole_and_byte_by_byte(stream: tuple[str, bytes, Limits]) -> None:
    profile, data, limits = stream
    row = StreamRow("drawn", data, 0, limits, profile)
    whole = _read(row.reader(), [data])
    one_by_one = _read(row.reader(), [data[i : i + 1] for i in range(len(data))])
    assert whole == one_by_one
