"""The typed value notation (daskwire.notation), both ways, and the typed comparison."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from daskwire import Float32, Materialized, Offloaded
from daskwire.notation import (
    NotationError,
    difference,
    frame_from_notation,
    frame_to_notation,
    from_notation,
    same,
    to_notation,
)
from hypothesis import given

from .strategies import fixed_settings, materialized, messages, offloaded

NAN = float("nan")

#: (value, notation): to_notation(value) == notation and from_notation(notation) is value.
TABLE = [
    pytest.param(None, None, id="nil"),
    pytest.param(True, True, id="true"),
    pytest.param(False, False, id="false"),
    pytest.param(0, 0, id="zero"),
    pytest.param(2**53 - 1, 2**53 - 1, id="largest-json-int"),
    pytest.param(-(2**53 - 1), -(2**53 - 1), id="smallest-json-int"),
    pytest.param(2**53, {"int": "9007199254740992"}, id="int-beyond-json"),
    pytest.param(2**64 - 1, {"int": "18446744073709551615"}, id="uint64-max"),
    pytest.param(-(2**63), {"int": "-9223372036854775808"}, id="int64-min"),
    pytest.param(1.5, {"float64": "1.5"}, id="float64"),
    pytest.param(-0.0, {"float64": "-0.0"}, id="float64-negative-zero"),
    pytest.param(NAN, {"float64": "nan"}, id="float64-nan"),
    pytest.param(float("inf"), {"float64": "inf"}, id="float64-inf"),
    pytest.param(float("-inf"), {"float64": "-inf"}, id="float64-minus-inf"),
    pytest.param(Float32(0.1), {"float32": "0.10000000149011612"}, id="float32"),
    pytest.param(Float32(NAN), {"float32": "nan"}, id="float32-nan"),
    pytest.param(Float32(-0.0), {"float32": "-0.0"}, id="float32-negative-zero"),
    pytest.param("é", "é", id="str"),
    pytest.param(b"\x00\xff", {"bin": "00ff"}, id="bin"),
    pytest.param(b"", {"bin": ""}, id="empty-bin"),
    pytest.param((1, "a", ()), [1, "a", []], id="array"),
    pytest.param({"b": 1, "a": (2,)}, {"map": [["b", 1], ["a", [2]]]}, id="map-in-order"),
    pytest.param(
        {(1, None): b"x", b"k": None},
        {"map": [[[1, None], {"bin": "78"}], [{"bin": "6b"}, None]]},
        id="map-keys",
    ),
    pytest.param(
        Offloaded({"s": 1}, [b"ab", b""]),
        {"offloaded": {"header": {"map": [["s", 1]]}, "frames": ["6162", ""]}},
        id="offloaded",
    ),
    pytest.param(
        Materialized({}, [b"ab" * 300]),
        {"materialized": {"header": {"map": []}, "frames": [{"repeat": "6162", "length": 600}]}},
        id="materialized-repeat-frame",
    ),
    pytest.param("x\ud800y", {"str-utf16": [120, 0xD800, 121]}, id="str-lone-high-surrogate"),
    pytest.param("\udfff", {"str-utf16": [0xDFFF]}, id="str-lone-low-surrogate"),
    pytest.param("\U0001f600", "\U0001f600", id="str-astral-is-text"),
]


@pytest.mark.parametrize(("value", "notation"), TABLE)
def test_to_notation(value: Any, notation: Any) -> None:
    assert json.dumps(to_notation(value)) == json.dumps(notation)


@pytest.mark.parametrize(("value", "notation"), TABLE)
def test_from_notation(value: Any, notation: Any) -> None:
    found = difference(value, from_notation(json.loads(json.dumps(notation))))
    assert found is None, found


def test_lists_and_bytes_likes_have_array_and_bin_notation() -> None:
    assert to_notation([1, [2]]) == [1, [2]]
    assert from_notation([1, [2]]) == (1, (2,))
    assert to_notation(bytearray(b"a")) == to_notation(memoryview(b"a")) == {"bin": "61"}


@pytest.mark.parametrize(
    ("frame", "notation"),
    [
        (b"", ""),
        (b"abc", "616263"),
        (b"a" * 256, "61" * 256),  # up to 256 bytes: always hex
        (b"a" * 257, {"repeat": "61", "length": 257}),
        (b"abc" * 100, {"repeat": "616263", "length": 300}),
        ((b"abcd" * 100)[:301], {"repeat": "61626364", "length": 301}),
        (bytes(range(256)) + b"\x00", (bytes(range(256)) + b"\x00").hex()),
    ],
    ids=["empty", "short", "256", "257", "period-3", "cut", "aperiodic"],
)
def test_frames_both_ways(frame: bytes, notation: Any) -> None:
    assert frame_to_notation(frame) == notation
    assert frame_from_notation(notation) == frame


def test_repeat_forms() -> None:
    assert frame_from_notation({"repeat": "6162", "length": 3}) == b"aba"
    assert frame_from_notation({"repeat": "", "length": 0}) == b""
    assert frame_from_notation({"repeat": "61", "length": 0}) == b""


@pytest.mark.parametrize(
    "node",
    [
        5,
        "zz",
        "abc",
        {"repeat": "61"},
        {"repeat": "61", "length": -1},
        {"repeat": "61", "length": 2**31 + 1},
        {"repeat": "61", "length": True},
        {"repeat": "61", "length": "3"},
        {"repeat": "", "length": 3},
        {"repeat": "zz", "length": 3},
        {"repeat": "61", "length": 3, "x": 1},
    ],
)
def test_bad_frames(node: Any) -> None:
    with pytest.raises(NotationError):
        frame_from_notation(node)


@pytest.mark.parametrize(
    "node",
    [
        {"str-utf16": [120]},  # valid text has one notation, a JSON string
        {"str-utf16": [0xD83D, 0xDE00]},  # a surrogate pair is text too
        {"str-utf16": [70000]},
        {"str-utf16": [-1]},
        {"str-utf16": [True]},
        {"str-utf16": "x"},
        1.5,
        2**53,
        -(2**53),
        {"int": 5},
        {"int": "x"},
        {"int": "1.0"},
        {"int": str(2**64)},
        {"int": str(-(2**63) - 1)},
        {"float64": 1.5},
        {"float64": "abc"},
        {"float32": "0.1"},
        {"float32": "1e39"},
        {"float32": None},
        {"bin": 5},
        {"bin": "zz"},
        {"bin": {"repeat": "61", "length": 3}},
        {"map": 5},
        {"map": [[1]]},
        {"map": [[1, 2, 3]]},
        {"map": [5]},
        {"map": [[1, 2], [1, 3]]},
        {"map": [[[{"map": []}], 1]]},
        {"offloaded": 5},
        {"offloaded": {"header": {"map": []}}},
        {"offloaded": {"header": [1], "frames": []}},
        {"materialized": {"header": {"map": []}, "frames": "6162"}},
        {"materialized": {"header": {"map": []}, "frames": [5]}},
        {"nope": 1},
        {"int": "1", "bin": ""},
        {},
        object(),
    ],
)
def test_bad_notation(node: Any) -> None:
    with pytest.raises(NotationError):
        from_notation(node)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, object(), {1, 2}, 1j, Float32])
def test_values_without_notation(value: Any) -> None:
    with pytest.raises(NotationError):
        to_notation(value)


@fixed_settings(200)
@given(message=messages(offloaded() | materialized()))
def test_notation_round_trips_every_message(message: Any) -> None:
    document = json.loads(json.dumps(to_notation(message), allow_nan=False))
    back = from_notation(document)
    assert same(message, back), difference(message, back)
    assert to_notation(back) == document


# -- the typed comparison ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, True),
        (0, False),
        (0, None),
        (1, 1.0),
        (Float32(1.0), 1.0),
        (b"a", "a"),
        (b"a", b"b"),
        (0.0, -0.0),
        (Float32(0.0), Float32(-0.0)),
        (1.0, NAN),
        ((1,), (1, 2)),
        ((1, 2), (1, 3)),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": 1}, {"a": 2}),
        ({1: 1}, {True: 1}),
        ({"a": (1,)}, {"a": ((1,),)}),
        (Offloaded({}, []), Materialized({}, [])),
        (Offloaded({"a": 1}, []), Offloaded({"a": 2}, [])),
        (Offloaded({}, [b"a"]), Offloaded({}, [b"a", b"b"])),
        (Offloaded({}, [b"a"]), Offloaded({}, [b"b"])),
        ("x", "y"),
        (object(), object()),
    ],
)
def test_difference_finds_typed_differences(a: Any, b: Any) -> None:
    assert not same(a, b)
    assert not same(b, a)
    found = difference(a, b)
    assert found is not None
    assert found.startswith("$")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NAN, float("nan")),
        (Float32(NAN), Float32(NAN)),
        ([1, [2]], (1, (2,))),
        (b"ab", bytearray(b"ab")),
        (b"ab", memoryview(b"ab")),
        ({"a": b"x"}, {"a": memoryview(b"x")}),
        (Materialized({"s": (1,)}, [b"a"]), Materialized({"s": [1]}, [memoryview(b"a")])),
    ],
)
def test_same_values(a: Any, b: Any) -> None:
    assert same(a, b)
    assert difference(a, b) is None


def test_difference_names_the_path() -> None:
    found = difference({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}]})
    assert found is not None
    assert found.startswith("$['a'][1]['b']")
    key = difference({"a": 1}, {"b": 1})
    assert key is not None
    assert "<key 0>" in key
    frames = difference(Offloaded({}, [b"a"]), Offloaded({}, [b"b"]))
    assert frames is not None
    assert ".frames[0]" in frames


def test_nan_payloads_are_all_nan() -> None:
    assert math.isnan(from_notation({"float64": "nan"}))
    assert same(from_notation({"float64": "-nan"}), NAN)
