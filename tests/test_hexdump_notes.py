"""Hex dump notes say what the reference reports, in its words, counted and escaped properly."""

from __future__ import annotations

import re
import struct
from functools import cache

import daskwire
import pytest
from conftest import ROOT
from daskwire.errors import Category
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire_conformance.common.hexdump import annotate, annotate_wire
from daskwire_conformance.common.suite import Vector, load_vectors
from daskwire_conformance.site.vectorpages import vector_dump

_DEFAULT = DEFAULT_LIMITS
_CATEGORIES = frozenset(c.value for c in Category)
#: A number 1 before a plural noun: "1 bytes", "1 entries".
_ONE_PLURAL_RE = re.compile(r"(?<![0-9.,])\b1 (?:bytes|entries|elements|frames|lengths|messages)\b")
#: "0 of 1 bytes": the count before "of" does not make the noun plural.
_OF_ONE_RE = re.compile(r"\bof 1 bytes\b")
#: The frame 0 `{"compression": "lz4"}`.
_LZ4_HEADER = bytes.fromhex("81ab636f6d7072657373696f6ea36c7a34")


@cache
def _vectors() -> tuple[Vector, ...]:
    return tuple(load_vectors(ROOT / "vectors" / "placeholder-v1"))


def _wire(frames: list[bytes]) -> bytes:
    return struct.pack(f"<{len(frames) + 1}Q", len(frames), *map(len, frames)) + b"".join(frames)


def _verdicts(dump: str) -> list[str]:
    """The category each "!!" note names (the word after "!!"), in order."""
    return [line.split("!!", 1)[1].split()[0] for line in dump.splitlines() if "!!" in line]


def _expected(vector: Vector) -> set[str]:
    """The categories a dump of the vector may name: none for a clean outcome."""
    expected = vector.expected
    if "category" not in expected:
        return set()
    return {expected["category"], *expected.get("also", ())}


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v.id)
def test_every_dump_note_names_the_vector_s_outcome(vector: Vector) -> None:
    """Each "!!" note names the expected category; a clean outcome has no "!!" note."""
    dump = vector_dump(vector)
    named = _verdicts(dump)
    assert set(named) <= _CATEGORIES, named
    expected = _expected(vector)
    assert set(named) <= expected, f"{vector.id}: notes name {named}, expected {expected}"
    if expected and vector.kind != "reject-encode":
        assert named, f"{vector.id}: no note names the expected {expected}"


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (b"", "end of stream after 0 messages: a clean end"),
        (b"\xff" * 8, "!! limit-exceeded [WF-7]: message declares 18446744073709551615 frames"),
        (b"\x01" + b"\x00" * 7, "!! too-few-frames [WF-2]"),
        (b"\x03\x00", "!! truncated-input [WF-6]"),
    ],
)
def test_stream_dump_states_what_the_reader_reports(chunks: bytes, expected: str) -> None:
    assert expected in annotate_wire(chunks, stream=True)


@pytest.mark.parametrize(
    ("wire", "limits", "expected", "absent"),
    [
        # N over max_frames is reported at the frame count, before the missing lengths.
        ("0100100000000000", _DEFAULT, "!! limit-exceeded [WF-7]", "truncated"),
        ("0300000000000000" + "ff" * 8, _DEFAULT, "!! limit-exceeded [WF-7]: frame 0", "truncated"),
        ("0300000000000000", Limits(max_frames=2), "!! limit-exceeded [WF-7]", "truncated"),
        ("0300000000000000", _DEFAULT, "!! truncated-input [WF-4]", "limit-exceeded"),
        ("", _DEFAULT, "!! truncated-input [WF-4]", "limit-exceeded"),
    ],
)
def test_wire_dump_follows_the_order_of_the_checks(
    wire: str, limits: Limits, expected: str, absent: str
) -> None:
    dump = annotate_wire(bytes.fromhex(wire), limits=limits)
    assert expected in dump
    assert absent not in "\n".join(line for line in dump.splitlines() if "!!" in line)


def test_decode_dump_names_the_mode_that_rejects() -> None:
    dump = annotate([b"", b"\x80"])
    assert "!!" not in dump
    assert _verdicts(annotate([b"", b"\xc1"])) == ["invalid-msgpack"]


@pytest.mark.parametrize(
    ("dump", "expected"),
    [
        (annotate([_LZ4_HEADER, bytes.fromhex("01000000") + b"\x10\x80"]), "LZ4 block, 2 bytes"),
        (annotate([_LZ4_HEADER, bytes.fromhex("01000000") + b"\x10\x80"]), "prefix: 1 byte when"),
        (annotate([_LZ4_HEADER, bytes.fromhex("01000000") + b"\x10\x80"]), "payload, 1 byte "),
        (annotate([_LZ4_HEADER, bytes.fromhex("0100000010")]), "LZ4 block, 1 byte"),
        (annotate_wire(_wire([b"", b"\x80"])[:-1]), "0 of 1 byte"),
        (annotate([b"", b"\x81\xa1"]), "needs 1 more byte"),
    ],
)
def test_dump_counts_one_in_the_singular(dump: str, expected: str) -> None:
    assert expected in dump
    assert _miscounted(dump) is None


def _miscounted(dump: str) -> str | None:
    """The first "1 bytes" in the dump's own words (a "!!" note quotes the reference)."""
    own = "\n".join(line for line in dump.splitlines() if "!!" not in line)
    match = _ONE_PLURAL_RE.search(own) or _OF_ONE_RE.search(own)
    return match.group(0) if match else None


def test_no_dump_of_a_vector_says_1_bytes() -> None:
    found = {v.id: word for v in _vectors() if (word := _miscounted(vector_dump(v)))}
    assert found == {}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("abcd\0\0\0\0efgh", '"abcd\\x00\\x00\\x00\\x00efgh"'),
        ("tab\there", '"tab\\there"'),
        ("bell\x07\x1b[0m", '"bell\\x07\\x1b[0m"'),
        ("del\x7f", '"del\\x7f"'),
        ("bidi\u202e", '"bidi\\u202e"'),
        ("line\u2028", '"line\\u2028"'),
        ('quote" back\\', '"quote\\" back\\\\"'),
        ("caf\u00e9", '"caf\u00e9"'),
    ],
)
def test_dump_escapes_control_characters_in_str(text: str, shown: str) -> None:
    raw = text.encode()
    key = bytes([0xA0 | len(raw)]) + raw if len(raw) < 32 else b"\xd9" + bytes([len(raw)]) + raw
    dump = annotate([b"", b"\x81" + key + b"\x80"])
    assert shown in dump
    assert all(c == "\n" or c.isprintable() for c in dump)


def test_no_dump_of_a_vector_holds_a_control_character() -> None:
    found = [
        v.id for v in _vectors() if not all(c == "\n" or c.isprintable() for c in vector_dump(v))
    ]
    assert found == []


def test_dump_escapes_control_characters_in_a_placeholder_s_path() -> None:
    frames = daskwire.encode({"a\0\u202e": daskwire.Materialized({"serializer": "x"}, [b"xyz"])})
    dump = annotate([bytes(f) for f in frames])
    assert "placeholder at $.a\\x00\\u202e" in dump
    assert "frame 2: offload area [0], 3 bytes: $.a\\x00\\u202e, frame 1 of 1" in dump
    assert all(c == "\n" or c.isprintable() for c in dump)


#: Line breaks (as `str.splitlines` sees them) and terminal controls in a codec name from
#: the traffic, and how a dump note shows each.
LINE_BREAKS = [
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\x85", "\\x85"),
    ("\u2028", "\\u2028"),
    ("\x1b", "\\x1b"),
    ("\u202e", "\\u202e"),
]


@pytest.mark.parametrize(("char", "shown"), LINE_BREAKS)
def test_a_dump_row_is_one_line_whatever_the_traffic_says(char: str, shown: str) -> None:
    import msgpack

    codec = f"zz{char}000abc  00{' ' * 24}! fake fault"
    frames = [
        msgpack.packb({"op": "x", "v": {"__Serialized__": 1}}),
        msgpack.packb({"num-sub-frames": 1, "compression": [codec], "serializer": "pickle"}),
        b"\x07" * 10,
    ]
    text = annotate_wire(daskwire.dask_2023_11.pack_bytes(frames), profile="dask-2023.11")
    for line in text.splitlines():  # every line a row: an offset (or blanks), two spaces
        assert re.match(r"([0-9a-f]{6}| {6})  ", line), line
    assert f"zz{shown}000abc  00" in text
    assert not any(char in line for line in text.splitlines())
