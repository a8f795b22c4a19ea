"""dask-2023.11's decoder on inputs the vectors leave out: expected values and errors, by hand.

Each row is frame 0 and the frames after it, hand-written, with the decoded value or the
error's category and requirement. They pin what the exact path (and the fast paths beside
it) must give: markers in arrays of a frame 0 the C parser cannot vouch for, arrays holding
markers at several depths, sizes past 256 (where Python's small ints end), and near-misses
of every marker's form.
"""

from __future__ import annotations

from typing import Any

import pytest
from daskwire import DaskwireError, Limits, Offloaded, Pickled, SetValue
from daskwire.dask_2023_11 import decode
from daskwire.limits import DEFAULT_LIMITS
from daskwire.model import Float32

from .common import (
    K_ASLIST,
    K_CLASS,
    K_COMP,
    K_DATA,
    K_ENUM,
    K_MODULE,
    K_NAME,
    K_NSF,
    K_POBJ,
    K_SER,
    K_SET,
    K_SNSF,
    K_SOFF,
    category_of,
    fixarray,
    fixmap,
    hx,
    pic,
    ser,
    sub,
)

D = b"D"
SER1 = Offloaded({"num-sub-frames": 1}, [D])
SET1 = f"82 {K_SET} c3 {K_ASLIST} 91 01"  # a set marker: frame 0 then takes the walk
F32 = "ca 3fc00000"  # float32 1.5: frame 0 then takes the exact path


def _decode(frames: list[bytes], limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        return ("value", decode(frames, limits=limits))
    except DaskwireError as exc:
        return ("error", category_of(exc), exc.requirement)


def _ser_run(at: int) -> list[bytes]:
    return [sub(1), D]


VALUE_ROWS: list[tuple[str, list[bytes], Any]] = [
    (
        "a marker in an array beside a float32",
        [hx(fixarray(ser(1), F32)), *_ser_run(1)],
        (SER1, Float32(1.5)),
    ),
    (
        "markers in arrays at three depths beside a float32",
        [hx(fixarray(fixarray(fixarray(ser(1)), ser(3)), ser(5), F32)), *_ser_run(1) * 3],
        (((SER1,), SER1), SER1, Float32(1.5)),
    ),
    (
        "markers in arrays at three depths",
        [hx(fixarray(fixarray(fixarray(ser(1)), ser(3)), ser(5))), *_ser_run(1) * 3],
        (((SER1,), SER1), SER1),
    ),
    (
        "markers in arrays under maps at several depths",
        [
            hx(
                fixarray(
                    fixmap(f"a1 61 {fixarray(ser(1), fixarray(ser(3)))}"),
                    fixarray(fixarray(fixarray(ser(5)), ser(7))),
                    ser(9),
                )
            ),
            *_ser_run(1) * 5,
        ],
        ({"a": (SER1, (SER1,))}, (((SER1,), SER1),), SER1),
    ),
    (
        "markers in arrays at three depths beside a set (the walk of a plain frame 0)",
        [hx(fixarray(fixarray(fixarray(ser(1)), ser(3)), ser(5), SET1)), *_ser_run(1) * 3],
        (((SER1,), SER1), SER1, SetValue((1,))),
    ),
    (
        "markers in arrays under maps at several depths beside a set",
        [
            hx(
                fixarray(
                    fixmap(f"a1 61 {fixarray(ser(1), fixarray(ser(3)))}"),
                    fixarray(fixarray(fixarray(ser(5)), ser(7))),
                    ser(9),
                    SET1,
                )
            ),
            *_ser_run(1) * 5,
        ],
        ({"a": (SER1, (SER1,))}, (((SER1,), SER1),), SER1, SetValue((1,))),
    ),
    (
        "a pickled sub-header whose pickle holds '__'",
        [
            hx(fixmap(f"a1 61 {pic(1)}")),
            hx(fixmap(f"{K_POBJ} c4 08 5f5f6d61696e5f5f", f"{K_NSF} 00")),
        ],
        {"a": Pickled({"pickled-obj": b"__main__", "num-sub-frames": 0}, [])},
    ),
]


@pytest.mark.parametrize(("name", "frames", "want"), VALUE_ROWS, ids=[r[0] for r in VALUE_ROWS])
def test_decode_gives(name: str, frames: list[bytes], want: Any) -> None:
    got = decode(frames)
    assert got == want
    assert _types(got) == _types(want)


def _types(value: Any) -> Any:
    if isinstance(value, tuple):
        return ("tuple", [_types(v) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: _types(v) for k, v in value.items()})
    return type(value).__name__


def _u16map(entries: list[str]) -> str:
    return f"de {len(entries):04x} " + " ".join(entries)


def _u16array(items: list[str]) -> str:
    return f"dc {len(items):04x} " + " ".join(items)


def _key(i: int) -> str:
    return f"cd {i:04x}"  # uint16 keys, 256 and up


BIG = 300
BIG_MAP = _u16map([f"{_key(256 + i)} c0" for i in range(BIG)])
BIG_SET = _u16array([_key(256 + i) for i in range(BIG)])
#: A sub-header of BIG data frames: codecs and split runs of BIG entries each.
BIG_SUB = hx(
    fixmap(
        f"{K_SNSF} {_u16array(['01'] * BIG)}",
        f"{K_SOFF} {_u16array([_key(i) if i > 127 else f'{i:02x}' for i in range(BIG)])}",
        f"{K_COMP} {_u16array(['c0'] * BIG)}",
        f"{K_NSF} {_key(BIG)}",
    )
)

ERROR_ROWS: list[tuple[str, list[bytes], Any]] = [
    ("a map of 300 keys beside a float32", [hx(fixmap(f"a1 6d {BIG_MAP}", f"a1 66 {F32}"))], None),
    (
        "a set of 300 elements beside a float32",
        [
            hx(
                fixmap(
                    f"a1 73 82 {K_SET} c3 {K_ASLIST} {BIG_SET}",
                    f"a1 66 {F32}",
                )
            )
        ],
        None,
    ),
    ("a sub-header of 300 data frames", [hx(fixmap(f"a1 61 {ser(1)}")), BIG_SUB, *[D] * BIG], None),
    (
        "an enum marker with 1 for true (DM-13)",
        [hx(fixmap(f"a1 65 84 {K_ENUM} 01 {K_NAME} a1 78 {K_MODULE} a1 6d {K_CLASS} a1 63"))],
        ("invalid-marker", "DM-13"),
    ),
    (
        "an inline serialized value with 1 for true in a sub-header (DS-9)",
        [
            hx(fixmap(f"a1 61 {ser(1)}")),
            hx(fixmap(f"a1 78 82 {K_SER} 01 {K_DATA} 92 80 90", f"{K_NSF} 00")),
        ],
        ("invalid-marker", "DS-9"),
    ),
    (
        "fewer split counts than offsets (DS-4)",
        [
            hx(fixmap(f"a1 61 {ser(1)}")),
            hx(fixmap(f"{K_SNSF} 91 01", f"{K_SOFF} 92 00 01", f"{K_NSF} 01")),
            D,
        ],
        ("invalid-header", "DS-4"),
    ),
    (
        "two split runs from offset 0 (DS-4)",
        [
            hx(fixmap(f"a1 61 {ser(1)}")),
            hx(fixmap(f"{K_SNSF} 92 01 01", f"{K_SOFF} 92 00 00", f"{K_NSF} 02")),
            D,
            D,
        ],
        ("invalid-header", "DS-4"),
    ),
    ("one frame, over max_frame_bytes (DL-1)", [b"\xc0\xc0"], ("limit-exceeded", "DL-1")),
]


def _claim_layout(runs: list[tuple[int, int]], frames: int) -> list[bytes]:
    """Frame 0 with one marker per (index, data frame count), and `frames` frames after it."""
    body = fixarray(*(ser(index) for index, _ in runs))
    out = [hx(body)] + [D] * frames
    for index, count in runs:
        out[index] = sub(count)
    return out


CLAIM_ROWS: list[tuple[str, list[bytes], Any]] = [
    ("adjacent runs", _claim_layout([(1, 2), (4, 0), (5, 1)], 6), None),
    (
        "a run ending on the next sub-header (DM-8)",
        _claim_layout([(1, 2), (3, 0)], 3),
        ("overlapping-frames", "DM-8"),
    ),
    (
        "a third run overlapping the first (DM-8)",
        _claim_layout([(1, 3), (5, 0), (4, 0)], 5),
        ("overlapping-frames", "DM-8"),
    ),
    ("runs after a long one", _claim_layout([(1, 4), (6, 1), (8, 0), (9, 2)], 11), None),
    (
        "the last run overlapping (DM-8)",
        _claim_layout([(1, 1), (3, 1), (5, 2), (7, 0)], 7),
        ("overlapping-frames", "DM-8"),
    ),
]


@pytest.mark.parametrize(
    ("name", "frames", "want"), ERROR_ROWS + CLAIM_ROWS, ids=[r[0] for r in ERROR_ROWS + CLAIM_ROWS]
)
def test_decode_accepts_or_refuses(name: str, frames: list[bytes], want: Any) -> None:
    limits = Limits(max_frame_bytes=1) if "max_frame_bytes" in name else DEFAULT_LIMITS
    got = _decode(frames, limits)
    if want is None:
        assert got[0] == "value"
    else:
        assert got == ("error", *want)
