"""Hex dumps of dask-2023.11 bytes: the hint, markers, sub-headers and frames, as the reference
reads them; every expectation here was worked out by hand from spec/dask-2023.11/."""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

import lz4.block
import msgpack
import pytest
from conftest import ROOT
from daskwire.errors import Category
from daskwire_conformance.common.hexdump import annotate, annotate_wire, fit_width
from daskwire_conformance.common.suite import Vector, load_vectors
from daskwire_conformance.vectors.show import show_document

DASK = "dask-2023.11"
_CATEGORIES = frozenset(c.value for c in Category)


def _wire(frames: list[bytes], hint: int | None = None) -> bytes:
    """One message's wire bytes; the hint defaults to the whole rest of the message (DT-6)."""
    rest = 8 * (len(frames) + 1) + sum(map(len, frames))
    head = struct.pack("<QQ", rest if hint is None else hint, len(frames))
    return head + struct.pack(f"<{len(frames)}Q", *map(len, frames)) + b"".join(frames)


def _pack(value: object) -> bytes:
    out: bytes = msgpack.packb(value)
    return out


def _dump(frames: list[bytes], hint: int | None = None) -> list[str]:
    return annotate_wire(_wire(frames, hint), profile=DASK).splitlines()


def _verdicts(lines: list[str]) -> list[str]:
    return [line.split("!! ", 1)[1] for line in lines if "!! " in line]


# --- one small message, line by line ----------------------------------------------------------


def test_a_one_frame_message_line_by_line() -> None:
    # H N len frame0: H = 16 + 6 = 22 ends after frame 0; {"op": "x"} is 81 a2 "op" a1 "x".
    frame = bytes.fromhex("81a26f70a178")
    assert _dump([frame]) == [
        "000000  16 00 00 00 00 00 00 00  no-split hint H = 22: ends after frame 0, the last",
        "000008  01 00 00 00 00 00 00 00  frame count N = 1",
        "000010  06 00 00 00 00 00 00 00  length of frame 0 = 6",
        "                                 frame 0: the message, 6 bytes",
        "000018  81                         map, 1 entry",
        '000019  a2                           key: str, 2 bytes: "op"',
        "00001a  6f 70",
        '00001c  a1                           value: str, 1 byte: "x"',
        "00001d  78",
    ]


def test_frames_alone_count_offsets_from_each_frame() -> None:
    assert annotate([bytes.fromhex("81a26f70a178")], profile=DASK).splitlines() == [
        "                                 frame 0: the message, 6 bytes",
        "000000  81                         map, 1 entry",
        '000001  a2                           key: str, 2 bytes: "op"',
        "000002  6f 70",
        '000004  a1                           value: str, 1 byte: "x"',
        "000005  78",
    ]


# --- the no-split hint (DT-3, DT-4, DT-8) -----------------------------------------------------

_TWO = [_pack({"d": {"__Serialized__": 1}}), _pack({"num-sub-frames": 1}), b"abcd"]
# Prelude 8 + 8 * 3 = 32; frames of 21, 16 and 4 bytes: boundaries 32, 53, 69, 73.
_SIZES = [len(f) for f in _TWO]


@pytest.mark.parametrize(
    ("hint", "note"),
    [
        (32, "no-split hint H = 32: ends after the prelude, before frame 0"),
        (32 + _SIZES[0], f"no-split hint H = {32 + _SIZES[0]}: ends after frame 0"),
        (
            32 + _SIZES[0] + _SIZES[1],
            f"no-split hint H = {32 + sum(_SIZES[:2])}: ends after frame 1",
        ),
        (32 + sum(_SIZES), f"no-split hint H = {32 + sum(_SIZES)}: ends after frame 2, the last"),
    ],
)
def test_a_hint_names_the_frame_boundary_it_ends_on(hint: int, note: str) -> None:
    lines = _dump(_TWO, hint)
    assert lines[0].endswith(note)
    assert _verdicts(lines) == []


@pytest.mark.parametrize(
    ("hint", "note"),
    [
        (31, "! ends inside the prelude of 32 bytes (DT-3)"),
        (33, "! ends inside frame 0 (DT-3)"),
        (32 + sum(_SIZES) - 1, "! ends inside frame 2 (DT-3)"),
        (32 + sum(_SIZES) + 8, "! 8 bytes past the end of the message (DT-3)"),
    ],
)
def test_a_hint_off_every_boundary_stops_the_dump_with_the_reference_s_error(
    hint: int, note: str
) -> None:
    lines = _dump(_TWO, hint)
    assert lines[0].endswith(f"no-split hint H = {hint}: {note}")
    assert not any("frame 0: the message" in line for line in lines)
    (verdict,) = _verdicts(lines)
    assert verdict.startswith("invalid-read-hint [DT-4]: ")


def test_a_hint_below_16_is_rejected_before_the_frame_count() -> None:
    lines = annotate_wire(struct.pack("<QQQ", 15, 1, 0), profile=DASK).splitlines()
    assert lines[0].endswith("no-split hint H = 15: ! less than 16")
    assert len(lines) == 2
    assert _verdicts(lines)[0].startswith("invalid-read-hint [")


def test_zero_frames_is_too_few() -> None:
    lines = annotate_wire(struct.pack("<QQ", 16, 0), profile=DASK).splitlines()
    assert lines[1].endswith("frame count N = 0")
    assert _verdicts(lines)[0].startswith("too-few-frames [DT-2]: ")


def test_too_few_bytes_for_the_hint() -> None:
    lines = annotate_wire(b"\x10\x00\x00", profile=DASK).splitlines()
    assert lines[0] == f"000000  10 00 00{' ' * 17}no-split hint: the input ends after 3 bytes of 8"
    assert _verdicts(lines)[0].startswith("truncated-input")


# --- markers, sub-headers, data frames --------------------------------------------------------


def test_a_split_and_compressed_value() -> None:
    packed = lz4.block.compress(b"cd" * 10, store_size=True)
    sub = {
        "serializer": "x",
        "split-num-sub-frames": [2],
        "split-offsets": [0],
        "compression": [None, "lz4"],
        "num-sub-frames": 2,
    }
    lines = _dump([_pack({"d": {"__Serialized__": 1}}), _pack(sub), b"ab", packed])
    text = "\n".join(lines)
    assert "value: map, 1 entry: __Serialized__ marker at $.d -> sub-header in frame 1" in text
    # 85, then "serializer" "x", "split-num-sub-frames" [2], "split-offsets" [0],
    # "compression" [nil, "lz4"], "num-sub-frames" 2: 1 + 13 + 23 + 16 + 18 + 16 bytes.
    assert "frame 1: sub-header of __Serialized__ at $.d, 87 bytes" in text
    assert 'key: str, 10 bytes: "serializer" (serializer key)' in text
    for key in ("split-num-sub-frames", "split-offsets", "compression", "num-sub-frames"):
        assert any(f'"{key}" (transport key)' in line for line in lines), key
    assert "value: array, 1 element -> 1 original frame" in text
    assert "value: array, 1 element -> original 0 = frames 2..3" in text
    assert "value: array, 2 elements -> frame 2 none, frame 3 lz4" in text
    assert "value: int 2 -> data in frames 2..3" in text
    assert (
        "frame 2: data frame 1 of 2 of $.d, 2 bytes, not compressed, original frame 0,"
        " shard 1 of 2" in text
    )
    assert (
        f"frame 3: data frame 2 of 2 of $.d, {len(packed)} bytes, lz4, original frame 0,"
        " shard 2 of 2" in text
    )
    assert "lz4 size prefix: 20 bytes when decompressed" in text
    assert "decompresses to 20 bytes" in text
    assert _verdicts(lines) == []


def test_a_pickled_value_s_sub_header() -> None:
    sub = {"pickled-obj": b"\x80\x05N.", "compression": [], "num-sub-frames": 0}
    text = "\n".join(_dump([_pack({"f": {"__Pickled__": 1}}), _pack(sub)]))
    assert "__Pickled__ marker at $.f -> sub-header in frame 1" in text
    assert '"pickled-obj" (pickle bytes: opaque, never loaded)' in text
    assert '"compression" (transport key)' in text
    assert "value: array, 0 elements -> no codecs" in text
    assert "value: int 0 -> no data" in text


def test_set_and_enum_markers_are_called_out() -> None:
    message = {
        "s": {"__Set__": True, "as-list": [1, 2, 3]},
        "e": {"__Enum__": True, "name": "RED", "__module__": "m", "__name__": "Color"},
    }
    text = "\n".join(_dump([_pack(message)]))
    assert "value: map, 2 entries: __Set__ marker at $.s, a set of 3 elements" in text
    assert "value: map, 4 entries: __Enum__ marker at $.e, Color.RED" in text


def test_markers_count_in_a_batch() -> None:
    frames = [
        _pack([{"op": "a"}, {"op": "b", "d": {"__Serialized__": 1}}]),
        _pack({"num-sub-frames": 1}),
        b"z",
    ]
    text = "\n".join(_dump(frames))
    assert "[1]: map, 2 entries" in text
    assert "__Serialized__ marker at $[1].d -> sub-header in frame 1" in text
    assert "frame 2: data frame 1 of 1 of $[1].d, 1 byte, not compressed" in text


def test_an_unclaimed_frame_is_named_and_is_no_error() -> None:
    lines = _dump([_pack({"op": "x"}), b"zz"])
    note = "frame 1: 2 bytes, claimed by no marker: a decoder drops it (DM-10)"
    assert " " * 33 + note in lines
    assert _verdicts(lines) == []


def test_a_marker_past_the_last_frame() -> None:
    lines = _dump([_pack({"d": {"__Serialized__": 5}})])
    assert any("! frame 5 is past the last frame, 0" in line for line in lines)
    assert [v.split(":")[0] for v in _verdicts(lines)] == ["frame-out-of-range [DM-7]"]


def test_a_map_that_is_not_an_index_marker() -> None:
    lines = _dump([_pack({"d": {"__Serialized__": 0}})])
    assert any("! a __Serialized__ map that is not an index marker" in line for line in lines)
    assert _verdicts(lines)[0].startswith("invalid-marker [DM-6]")


def test_a_bad_sub_header_shows_the_reference_s_reason() -> None:
    lines = _dump([_pack({"d": {"__Serialized__": 1}}), _pack({"serializer": "x"})])
    assert any(line.strip().startswith("! invalid-header [DS-2]: ") for line in lines)
    assert _verdicts(lines)[0].startswith("invalid-header [DS-2]")


def test_a_frame_claimed_twice() -> None:
    frames = [
        _pack({"a": {"__Serialized__": 1}, "b": {"__Serialized__": 1}}),
        _pack({"num-sub-frames": 0}),
    ]
    lines = _dump(frames)
    assert any("; ! also claimed by __Serialized__ at $.b" in line for line in lines)
    assert _verdicts(lines)[0].startswith("overlapping-frames [DM-8]")


def test_each_receiver_mode_that_rejects_is_named() -> None:
    # A bad lz4 frame: the forwarding receiver passes it on, the consuming one decompresses.
    frames = [
        _pack({"d": {"__Serialized__": 1}}),
        _pack({"compression": ["lz4"], "num-sub-frames": 1}),
        b"\xff\xff\xff\x7f" + b"\x00",
    ]
    lines = _dump(frames)
    verdicts = _verdicts(lines)
    assert "forwarding mode decodes it" in lines[-2]
    assert verdicts[0].split()[0] in _CATEGORIES
    assert "in consuming mode" in verdicts[0]


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="no hex dump for profile 'v9'"):
        annotate_wire(b"", profile="v9")
    with pytest.raises(ValueError, match="no hex dump for profile 'v9'"):
        annotate([], profile="v9")


def test_placeholder_v1_stays_the_default() -> None:
    wire = struct.pack("<QQQ", 2, 0, 1) + b"\xc0"
    assert annotate_wire(wire) == annotate_wire(wire, profile="placeholder-v1")
    assert annotate_wire(wire).splitlines()[0].endswith("frame count N = 2")


# --- width ------------------------------------------------------------------------------------


def test_fit_width_keeps_rows_and_wraps_notes() -> None:
    # A note starts at column 33 and goes on at column 35: 27 columns, then 25, in 60.
    row = "000000  81" + " " * 23
    text = row + "aaaa bbbb cccc dddd eeee ffff gggg hhhh\nshort line"
    assert fit_width(text, 60).splitlines() == [
        row + "aaaa bbbb cccc dddd eeee",
        " " * 35 + "ffff gggg hhhh",
        "short line",
    ]
    deeper = " " * 33 + "  note " + "word " * 12
    assert all(len(line) <= 60 for line in fit_width(deeper, 60).splitlines())


# --- every vector of the suite ----------------------------------------------------------------


@cache
def _vectors() -> tuple[Vector, ...]:
    return tuple(load_vectors(ROOT / "vectors" / DASK))


def _expected(vector: Vector) -> set[str]:
    expected = vector.expected
    if "category" not in expected:
        return set()
    return {expected["category"], *expected.get("also", ())}


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v.id)
def test_every_dask_dump_note_names_the_vector_s_outcome(vector: Vector) -> None:
    """As for placeholder-v1: each "!!" note names an expected category, and a vector that
    expects a rejection of bytes has one."""
    text = "\n".join(d["text"] for d in show_document(vector, DASK)["dumps"])
    named = [line.split("!!", 1)[1].split()[0] for line in text.splitlines() if "!!" in line]
    assert set(named) <= _CATEGORIES, named
    expected = _expected(vector)
    assert set(named) <= expected, f"{vector.id}: notes name {named}, expected {expected}"
    if expected and vector.kind != "reject-encode":
        assert named, f"{vector.id}: no note names the expected {expected}"


def test_the_dask_suite_is_there() -> None:
    assert len(_vectors()) > 100
    assert Path(ROOT / "vectors" / DASK / "manifest.json").is_file()


def test_vectors_show_annotates_a_dask_vector_as_its_suite_s_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from daskwire_conformance import cli

    assert cli.main(["vectors", "show", "wire/dask/compute-task"]) == 0
    out = capsys.readouterr().out
    assert "000000  81 01 00 00 00 00 00 00  no-split hint H = 385: ends after frame 1" in out
    assert "__Pickled__ marker at $.run_spec -> sub-header in frame 1" in out
    assert "frame 1: sub-header of __Pickled__ at $.run_spec, 139 bytes" in out
