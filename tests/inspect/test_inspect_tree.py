"""The message tree: notation for scalars and short containers, cuts, escapes, any depth."""

from __future__ import annotations

from typing import Any

import pytest
from daskwire.model import EnumValue, Float32, Offloaded, SetValue
from daskwire_conformance.inspect.tree import safe, shown_notation, tree_lines

pytestmark = pytest.mark.timeout(30)


def _describe(node: Any) -> tuple[str, list[str]]:
    return f"<{type(node).__name__}>", []


def _lines(value: Any, full: bool = False) -> list[str]:
    return tree_lines(value, _describe, full=full)


@pytest.mark.parametrize(
    ("value", "lines"),
    [
        ({"op": "x"}, ['  {"map": [["op", "x"]]}']),
        ([1, None, True], ["  [1, null, true]"]),
        (2**64 - 1, ['  {"int": "18446744073709551615"}']),
        (Float32(1.5), ['  {"float32": "1.5"}']),
        (0.1, ['  {"float64": "0.1"}']),
        (b"\x80\x04", ['  {"bin": "8004"}']),
        (SetValue([1, "a"]), ['  {"set": [1, "a"]}']),
        (
            EnumValue("distributed.core", "Status", "running"),
            ['  {"enum": {"module": "distributed.core", "class": "Status", "name": "running"}}'],
        ),
        (
            {"op": "x", "data": Offloaded({"serializer": "pickle"}, [b"\x80"])},
            ["  map, 2 entries", '    "op": "x"', '    "data": <Offloaded>'],
        ),
        (
            {1: [2, {"k": "v" * 80}]},
            [
                "  map, 1 entry",
                "    1: array, 2 elements",
                "      [0]: 2",
                "      [1]: map, 1 entry",  # its notation is longer than 72 characters
                '        "k": "' + "v" * 80 + '"',
            ],
        ),
    ],
    ids=[
        "small-map",
        "array",
        "big-int",
        "float32",
        "float64",
        "bin",
        "set",
        "enum",
        "offloaded",
        "nested",
    ],
)
def test_tree(value: Any, lines: list[str]) -> None:
    assert _lines(value) == lines


def test_long_str_and_bin_are_cut_unless_full() -> None:
    value = {"s": "a" * 200, "b": b"\xff" * 100}
    cut = _lines(value)
    assert cut[1] == '    "s": "' + "a" * 120 + '"... (str of 200 characters; --full shows it)'
    assert cut[2] == '    "b": {"bin": "' + "ff" * 32 + '"}... (bin of 100 bytes; --full shows it)'
    full = _lines(value, full=True)
    assert full[1] == '    "s": "' + "a" * 200 + '"'
    assert full[2] == '    "b": {"bin": "' + "ff" * 100 + '"}'


def test_big_containers_are_cut_unless_full() -> None:
    value = {"keys": [f"key-{i:04d}-{'x' * 20}" for i in range(60)]}
    cut = _lines(value)
    assert cut[-1] == "      ... 10 more items (--full shows them)"
    assert len(cut) == 2 + 50 + 1
    assert len(_lines(value, full=True)) == 2 + 60


def test_any_depth_the_limits_allow() -> None:
    value: Any = "leaf"
    for _ in range(1000):
        value = [value, "x" * 80]
    lines = _lines(value)
    assert len(lines) == 2001
    assert lines[-1].strip() == '[1]: "' + "x" * 80 + '"'


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("caf\u00e9", "caf\u00e9"),
        ("\x1b[2J", "\\u001b[2J"),
        ("\u202eevil", "\\u202eevil"),
        ("a\u2028b", "a\\u2028b"),
        ("\x9b", "\\u009b"),
    ],
    ids=["ascii", "accent", "escape", "bidi", "line-separator", "c1-control"],
)
def test_safe(raw: str, shown: str) -> None:
    assert safe(raw) == shown


def test_terminal_controls_in_a_message_are_escaped() -> None:
    lines = [safe(line) for line in _lines({"op": "\x1b]0;pwned\x07"})]
    assert lines == ['  {"map": [["op", "\\u001b]0;pwned\\u0007"]]}']


def test_shown_notation_cuts() -> None:
    value = {"s": "a" * 130, "x": Offloaded({"serializer": "dask"}, [b"\0" * 5])}
    assert shown_notation(value, full=False) == {
        "map": [
            ["s", {"cut": {"str": "a" * 120, "length": 130}}],
            [
                "x",
                {
                    "offloaded": {
                        "header": {"map": [["serializer", "dask"]]},
                        "frames": [{"length": 5}],
                    }
                },
            ],
        ]
    }
