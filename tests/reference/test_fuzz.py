"""Fuzzing: random and mutated wire bytes, frame lists and values; only DaskwireError escapes."""

from __future__ import annotations

import copy
import itertools
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

import daskwire
import lz4.block
import msgpack
import pytest
from daskwire import (
    CONSUMING,
    DEFAULT_LIMITS,
    FORWARDING,
    DaskwireError,
    Float32,
    FrameReader,
    Limits,
    Materialized,
    Offloaded,
)
from daskwire.notation import difference
from hypothesis import given
from hypothesis import strategies as st

from .strategies import (
    KEYS,
    SCALARS,
    bare_header,
    contains,
    expected,
    fixed_settings,
    hexes,
    hx,
    parse_path,
    placeholder,
    pure_python,
    trees,
)

pytestmark = pytest.mark.timeout(180)

# -- the corpus that mutations start from ----------------------------------------------------

_M = Materialized
_O = Offloaded
CORPUS_MESSAGES: list[tuple[Any, dict[str, Any]]] = [
    ({"op": "x", "data": _O({"serializer": "pickle"}, [b"\x80\x04K{."])}, {}),
    ({"z": _O({}, [b"Z"]), "a": [_O({}, [b"A"]), {"k": _O({}, [b"K", b""])}], "m": 1}, {}),
    ([{"op": "a", "d": _M({"t": "x"}, [b"A"])}, {"op": "b", "d": _M({}, [b"BC", b"D"])}], {}),
    ({"v": _M({"type": "e", "serializer": "dask"}, []), "w": _M({}, [b""])}, {}),
    ({"v": _M({"s": "s"}, [b"abcdefgh"])}, {"shard_size": 3}),
    ({"op": "c", "s": "y" * 12_000}, {"compression": "lz4"}),
    ({"op": "c", "s": "z" * 12_000, "t": [1, 2]}, {"compression": "zlib"}),
    ({"big": _M({}, [b"q" * 12_000, b"r" * 30]), "n": None}, {"compression": "lz4"}),
    ({"big": _M({}, [b"s" * 25_000])}, {"compression": "zlib", "shard_size": 10_000}),
    ({"raw": b"x" * 65_537}, {"compression": "lz4"}),
    ({"f": Float32(1.5), "g": [Float32(-0.0), 2.5], "h": _M({"w": Float32(3.0)}, [b"w"])}, {}),
    ({None: 1, 2: b"b", b"k": "v", (1, ("a", None)): [True, False], -5: 2**64 - 1}, {}),
    ({"d": [[[[[[[[[[{"e": [[[]]]}]]]]]]]]]]}, {}),
    ({}, {}),
    ([], {}),
    ({"i": [0, -1, 127, 128, -33, 2**32, -(2**63)], "s": "é" * 3, "e": ""}, {}),
    ({"o": _O({"lengths": [3], "compression": ["lz4"], "x": 1}, [hx("03000000 30 616263")])}, {}),
    ({"o": _O({"lengths": [1, 2], "count": 2}, [b"ab", b"c"])}, {}),
]
CORPUS_FRAMES: list[list[bytes]] = [
    [bytes(f) for f in daskwire.encode(m, **o)] for m, o in CORPUS_MESSAGES
]
_H1 = bare_header("91 01", "91 c0", 1)
CORPUS_FRAMES += [
    # placeholder keys in rsds's order, findex not monotone, a zero-frame value at N - 2
    [
        b"",
        hx(
            f"82 a1 61 {placeholder(_H1, 1, 1)} a1 62 83 a8 5f2466696e646578 00 "
            f"a8 5f2466636f756e74 01 a8 5f24686561646572 {_H1}"
        ),
        b"B",
        b"A",
    ],
    [b"", hx(f"92 {placeholder(_H1, 0, 1)} {placeholder(bare_header('90', '90', 0), 1, 0)}"), b"A"],
    [hx("80"), hx("81 a1 61 ca 3f800000")],
]
CORPUS_WIRE = [daskwire.pack_bytes(frames) for frames in CORPUS_FRAMES]

LAYER_SIX = {"unknown-codec", "invalid-compressed-data", "length-mismatch", "limit-exceeded"}

INTERESTING_BYTES = [
    0x00,
    0x01,
    0x7F,
    0x80,
    0x81,
    0x90,
    0x91,
    0xA0,
    0xA8,
    0xC0,
    0xC1,
    0xC2,
    0xC3,
    0xC4,
    0xC6,
    0xCA,
    0xCB,
    0xCC,
    0xCF,
    0xD3,
    0xD4,
    0xD6,
    0xD9,
    0xDC,
    0xDD,
    0xDE,
    0xDF,
    0xE0,
    0xFF,
]
INTERESTING_U64 = [0, 1, 2, 3, 4, 7, 8, 2**31, 2**32, 2**32 - 1, 2**63, 2**64 - 1]
#: Hypothesis draws the corpus entry and a seed; the seed drives the mutations, which keeps
#: each example cheap (the budget is tens of thousands of examples in about a minute).
SEEDS = st.integers(0, 2**32 - 1)


def random_limits(rng: random.Random) -> Limits:
    """The default limits most of the time, tight random ones otherwise."""
    if rng.random() < 0.7:
        return DEFAULT_LIMITS
    return Limits(
        max_frames=rng.randint(0, 8),
        max_frame_bytes=rng.randint(0, 200),
        max_message_bytes=rng.randint(0, 400),
        max_depth=rng.randint(0, 12),
        max_decompressed_bytes=rng.randint(0, 20_000),
        max_decompression_ratio=rng.randint(0, 300),
    )


# -- mutations -------------------------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random, ops: int) -> bytes:
    """Bit flips, byte sets, inserts, deletes, truncation and slice copies."""
    out = bytearray(data)
    for _ in range(ops):
        kind = rng.choice(["flip", "set", "insert", "delete", "truncate", "copy"])
        at = rng.randint(0, max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= 1 << rng.randint(0, 7)
        elif kind == "set" and out:
            out[at] = rng.choice(INTERESTING_BYTES) if rng.random() < 0.5 else rng.randint(0, 255)
        elif kind == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 4))
        elif kind == "delete":
            del out[at : at + rng.randint(1, 4)]
        elif kind == "truncate":
            del out[at:]
        elif kind == "copy" and out:
            piece = out[at : at + rng.randint(1, 16)]
            where = rng.randint(0, len(out))
            out[where:where] = piece
    return bytes(out)


def mutate_prelude(data: bytes, rng: random.Random) -> bytes:
    """Overwrite the frame count or one frame length with an interesting u64."""
    if len(data) < 8:
        return data
    count = struct.unpack_from("<Q", data)[0]
    slot = rng.randint(0, min(count, (len(data) - 8) // 8))
    old = struct.unpack_from("<Q", data, 8 * slot)[0]
    new = rng.choice([*INTERESTING_U64, old + 1, max(old - 1, 0), rng.randint(0, 300)])
    return data[: 8 * slot] + struct.pack("<Q", new) + data[8 * slot + 8 :]


# -- oracles ---------------------------------------------------------------------------------


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("error", category); any other exception propagates and fails."""
    try:
        return "ok", call()
    except DaskwireError as exc:
        return "error", exc.category.value


def check_same(a: Any, b: Any) -> None:
    found = difference(a, b)
    assert found is None, found


def check_decode(frames: list[Any], limits: Limits = DEFAULT_LIMITS) -> None:
    """Decode in both modes and on both parse paths; the outcomes must agree, and what a
    consuming receiver accepts must re-encode to a message that decodes to the same value."""
    results = {}
    for mode in (FORWARDING, CONSUMING):
        results[mode] = outcome(lambda mode=mode: daskwire.decode(frames, mode=mode, limits=limits))
        with parse_path("exact"):
            exact = outcome(lambda mode=mode: daskwire.decode(frames, mode=mode, limits=limits))
        assert exact[0] == results[mode][0], (results[mode], exact)
        if exact[0] == "ok":
            check_same(results[mode][1], exact[1])
        else:
            assert exact[1] == results[mode][1]
    (fwd_state, fwd), (con_state, con) = results[FORWARDING], results[CONSUMING]
    if fwd_state == "error":
        assert con_state == "error"
        assert con == fwd or {con, fwd} <= LAYER_SIX, (fwd, con)
    if con_state == "ok":
        assert fwd_state == "ok", fwd
        again = daskwire.encode(fwd)
        check_same(fwd, daskwire.decode(again, mode=FORWARDING))
        check_same(con, daskwire.decode(again, mode=CONSUMING))
        check_same(con, daskwire.decode(daskwire.encode(con), mode=CONSUMING))


def read_stream(pieces: list[bytes], limits: Limits) -> tuple[str | None, list[list[str]]]:
    """Feed every piece to a FrameReader and close it: (error category or None, messages)."""
    reader = FrameReader(limits)
    got: list[list[str]] = []
    try:
        for piece in pieces:
            got.extend(hexes(m) for m in reader.feed(piece))
        reader.close()
    except DaskwireError as exc:
        return exc.category.value, got
    return None, got


def check_wire(data: bytes, cuts: list[int], limits: Limits = DEFAULT_LIMITS) -> None:
    """unpack and FrameReader agree, however the bytes are chunked; decode what unpacks."""
    whole = read_stream([data], limits)
    chunked = read_stream([data[a:b] for a, b in _bounds(len(data), cuts)], limits)
    if whole[0] is None:
        assert whole == chunked, (whole, chunked)
    else:
        # Same error; the messages completed before it may be lost with the chunk that
        # completed them (see test_reader.py::test_messages_before_an_error_are_returned).
        assert whole[0] == chunked[0], (whole, chunked)
        shorter, longer = sorted([whole[1], chunked[1]], key=len)
        assert longer[: len(shorter)] == shorter
    error, messages = whole
    state, value = outcome(lambda: daskwire.unpack(data, limits=limits))
    if state == "ok":
        assert error is None
        assert messages == [hexes(value)]
        check_decode(value, limits)
    elif value == "trailing-bytes":
        assert messages or error is not None
    elif value == "truncated-input":
        assert (error, messages) == ("truncated-input" if data else None, [])
    else:
        assert (error, messages) == (value, [])


def _bounds(size: int, cuts: list[int]) -> list[tuple[int, int]]:
    points = sorted({c % (size + 1) for c in cuts})
    edges = [0, *points, size]
    return list(itertools.pairwise(edges))


# -- 1. mutated wire bytes -------------------------------------------------------------------


@fixed_settings(5000, scaled=True)
@given(index=st.integers(0, len(CORPUS_WIRE) - 1), seed=SEEDS)
def test_fuzz_mutated_wire(index: int, seed: int) -> None:
    rng = random.Random(seed)
    wire = CORPUS_WIRE[index]
    if rng.random() < 0.4:
        wire = mutate_prelude(wire, rng)
    wire = mutate_bytes(wire, rng, rng.randint(0, 3))
    limits = DEFAULT_LIMITS if rng.random() < 0.8 else Limits(max_frames=4)
    check_wire(wire, [rng.randint(0, len(wire)) for _ in range(rng.randint(0, 3))], limits)


# -- 2. random wire bytes --------------------------------------------------------------------


@fixed_settings(3000, scaled=True)
@given(seed=SEEDS)
def test_fuzz_random_wire(seed: int) -> None:
    rng = random.Random(seed)
    if rng.random() < 0.7:
        lengths = [
            rng.choice(INTERESTING_U64) if rng.random() < 0.3 else rng.randint(0, 40)
            for _ in range(rng.randint(0, 6))
        ]
        data = struct.pack(f"<{len(lengths) + 1}Q", rng.randint(0, 6), *lengths)
        data += rng.randbytes(rng.randint(0, 64))
    else:
        data = rng.randbytes(rng.randint(0, 48))
    check_wire(data, [rng.randint(0, len(data)) for _ in range(rng.randint(0, 3))])


# -- 3. mutated frame lists ------------------------------------------------------------------

SMALL_HEADERS = [
    b"",
    b"\x80",
    hx("81 ab 636f6d7072657373696f6e c0"),
    hx("81 ab 636f6d7072657373696f6e a3 6c7a34"),
    hx("81 ab 636f6d7072657373696f6e a4 7a6c6962"),
    hx("81 ab 636f6d7072657373696f6e a6 736e61707079"),
    hx("81 ab 636f6d7072657373696f6e 01"),
]


@fixed_settings(5000, scaled=True)
@given(index=st.integers(0, len(CORPUS_FRAMES) - 1), seed=SEEDS)
def test_fuzz_mutated_frame_lists(index: int, seed: int) -> None:
    rng = random.Random(seed)
    frames = list(CORPUS_FRAMES[index])
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["bytes", "bytes", "bytes", "drop", "add", "dup", "swap", "frame0"])
        at = rng.randint(0, len(frames) - 1) if frames else 0
        if op == "bytes" and frames:
            frames[at] = mutate_bytes(frames[at], rng, rng.randint(1, 3))
        elif op == "drop" and frames:
            del frames[at]
        elif op == "add":
            frames.insert(at, rng.randbytes(rng.randint(0, 8)))
        elif op == "dup" and frames:
            frames.insert(at, frames[at])
        elif op == "swap" and len(frames) > 1:
            other = rng.randint(0, len(frames) - 1)
            frames[at], frames[other] = frames[other], frames[at]
        elif op == "frame0" and frames:
            frames[0] = rng.choice(SMALL_HEADERS)
    check_decode(frames, random_limits(rng))


# -- 4. structural mutations of frame 1 ------------------------------------------------------


class Pairs(list):  # type: ignore[type-arg]
    """A msgpack map as a list of [key, value] pairs: keeps order and duplicate keys."""


def _pairs(items: list[tuple[Any, Any]]) -> Pairs:
    return Pairs([list(item) for item in items])


def pack_tree(node: Any) -> bytes:
    packer = msgpack.Packer(use_bin_type=True)
    if type(node) is Pairs:
        return packer.pack_map_header(len(node)) + b"".join(
            pack_tree(k) + pack_tree(v) for k, v in node
        )
    if type(node) is list:
        return packer.pack_array_header(len(node)) + b"".join(pack_tree(v) for v in node)
    if type(node) is Float32:
        return msgpack.packb(float(node), use_single_float=True)
    return packer.pack(node)


def _placeholder_like(findex: Any, fcount: Any, header: Any) -> Pairs:
    return _pairs([("_$header", header), ("_$findex", findex), ("_$fcount", fcount)])


_HEADER = _pairs([("lengths", [1]), ("compression", [None]), ("count", 1), ("deserialize", False)])
NEW_VALUES = [
    0,
    1,
    2,
    3,
    -1,
    2**32,
    2**64 - 1,
    -(2**63),
    True,
    False,
    None,
    1.5,
    float("nan"),
    -0.0,
    Float32(2.0),
    "",
    "lz4",
    "zlib",
    "snappy",
    "_$header",
    "_$findex",
    "count",
    "é",
    b"",
    b"\x00\x01",
    Pairs(),
    [],
    [None],
    [1],
    [1, 1],
    [-1],
    ["lz4"],
    [None, None],
    _HEADER,
    msgpack.ExtType(1, b"x"),
    msgpack.Timestamp(0),
    _placeholder_like(0, 1, _HEADER),
    _placeholder_like(0, 0, Pairs()),
    _placeholder_like(1, 1, _HEADER),
    _pairs([("_$findex", 0)]),
    _pairs([("count", 0), ("deserialize", True), ("lengths", [])]),
]
NEW_KEYS = [
    "_$header",
    "_$findex",
    "_$fcount",
    "count",
    "lengths",
    "deserialize",
    "compression",
    "k",
    1,
    None,
    b"k",
    1.5,
    True,
    [1],
    [[None, b"x"]],
    Pairs(),
    "\udcff".encode("utf-8", "surrogatepass"),
]


def new_value(rng: random.Random) -> Any:
    """A replacement value, copied so that mutating it never touches the shared ones."""
    if rng.random() < 0.3:
        return rng.choice(
            [
                rng.randint(-(2**63), 2**64 - 1),
                rng.random(),
                rng.randbytes(rng.randint(0, 6)),
                rng.randbytes(4).hex(),
                rng.randint(0, 5),
            ]
        )
    return copy.deepcopy(rng.choice(NEW_VALUES))


def _slots(node: Any, out: list[tuple[Any, int, int]]) -> None:
    """Every (container, index, part) slot of a tree; part 0 = key or element, 1 = value."""
    if type(node) is Pairs:
        for i, (key, value) in enumerate(node):
            out.append((node, i, 0))
            out.append((node, i, 1))
            _slots(key, out)
            _slots(value, out)
    elif type(node) is list:
        for i, value in enumerate(node):
            out.append((node, i, 0))
            _slots(value, out)


def mutate_tree(tree: Any, rng: random.Random) -> Any:
    """Replace, bump, delete, insert or copy one key, value or element anywhere in the tree."""
    slots: list[tuple[Any, int, int]] = []
    _slots(tree, slots)
    if not slots or rng.random() < 0.05:
        return new_value(rng)
    container, index, part = rng.choice(slots)
    op = rng.choice(["replace", "replace", "bump", "delete", "insert", "copy"])
    if type(container) is Pairs:
        pair = container[index]
        if op == "delete":
            del container[index]
        elif op == "insert":
            container.insert(index, [copy.deepcopy(rng.choice(NEW_KEYS)), new_value(rng)])
        elif op == "copy":
            container.insert(index, list(pair))
        elif op == "bump" and type(pair[part]) is int:
            pair[part] += rng.choice([-1, 1])
        elif part == 0:
            pair[0] = copy.deepcopy(rng.choice(NEW_KEYS))
        else:
            pair[1] = new_value(rng)
    elif op == "delete":
        del container[index]
    elif op == "insert":
        container.insert(index, new_value(rng))
    elif op == "copy":
        container.insert(index, container[index])
    elif op == "bump" and type(container[index]) is int:
        container[index] += rng.choice([-1, 1])
    else:
        container[index] = new_value(rng)
    return tree


def _codec_of(frame0: bytes) -> Any:
    return msgpack.unpackb(frame0).get("compression") if frame0 else None


def _squeeze(codec: Any, data: bytes) -> bytes:
    if codec == "lz4":
        out: bytes = lz4.block.compress(data, store_size=True)
        return out
    return zlib.compress(data) if codec == "zlib" else data


def _unsqueeze(codec: Any, data: bytes) -> bytes:
    if codec == "lz4":
        out: bytes = lz4.block.decompress(data)
        return out
    return zlib.decompress(data) if codec == "zlib" else data


@fixed_settings(5000, scaled=True)
@given(index=st.integers(0, len(CORPUS_FRAMES) - 1), seed=SEEDS)
def test_fuzz_payload_structure(index: int, seed: int) -> None:
    rng = random.Random(seed)
    frames = list(CORPUS_FRAMES[index])
    codec = _codec_of(frames[0])
    tree = msgpack.unpackb(
        _unsqueeze(codec, frames[1]), object_pairs_hook=_pairs, strict_map_key=False
    )
    for _ in range(rng.randint(1, 3)):
        tree = mutate_tree(tree, rng)
    try:
        body = pack_tree(tree)
    except (TypeError, ValueError, OverflowError):
        return  # the mutation produced something msgpack itself cannot write
    frames[1] = _squeeze(codec, body)
    if rng.random() < 0.2:
        frames.append(rng.randbytes(rng.randint(0, 4)))
    check_decode(frames, random_limits(rng))


# -- 5. random payload bytes -----------------------------------------------------------------


@fixed_settings(2000, scaled=True)
@given(
    frame0=st.sampled_from(SMALL_HEADERS),
    body=st.binary(max_size=40)
    | st.lists(st.sampled_from(INTERESTING_BYTES), max_size=24).map(bytes),
    extra=st.lists(st.binary(max_size=6), max_size=3),
)
def test_fuzz_random_payload(frame0: bytes, body: bytes, extra: list[bytes]) -> None:
    codec = _codec_of(frame0) if frame0 in SMALL_HEADERS[:5] else None
    check_decode([frame0, _squeeze(codec, body) if codec in ("lz4", "zlib") else body, *extra])


# -- 6. encode on random values --------------------------------------------------------------


class Weird(int):
    """An int subclass, outside the value model."""


WILD_SCALARS = st.one_of(
    SCALARS,
    st.sampled_from([2**64, -(2**63) - 1, "\ud800", frozenset({1}), 1j, Weird(3), object()]),
)
WILD_KEYS = st.one_of(
    KEYS,
    st.sampled_from(
        [
            "_$header",
            "_$findex",
            "_$fcount",
            1.5,
            True,
            (2**64,),
            ("a", 2.5),
            "\udfff",
            frozenset(),
            memoryview(b"k"),
            2**64,
        ]
    ),
)
WILD_TRANSPORT = st.sampled_from(["count", "lengths", "compression", "deserialize"])


@st.composite
def wild_headers(draw: st.DrawFn) -> dict[Any, Any]:
    header: dict[Any, Any] = {}
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.one_of(WILD_TRANSPORT, WILD_KEYS))
        header[key] = draw(
            st.one_of(
                WILD_SCALARS,
                st.lists(
                    st.one_of(st.integers(-1, 40), st.none(), st.sampled_from(["lz4", "x"])),
                    max_size=3,
                ),
            )
        )
    return header


@st.composite
def wild_offloads(draw: st.DrawFn) -> Any:
    frames = draw(st.lists(st.binary(max_size=12), max_size=3))
    header = draw(wild_headers())
    if draw(st.booleans()):
        return Offloaded(header, frames)
    return Materialized(header, frames)


WILD_MESSAGES = st.one_of(
    trees(st.one_of(WILD_SCALARS, wild_offloads()), max_leaves=8).map(
        lambda v: v if isinstance(v, dict | list | tuple) else {"v": v}
    ),
    st.dictionaries(
        WILD_KEYS, trees(st.one_of(WILD_SCALARS, wild_offloads()), max_leaves=6), max_size=4
    ),
    WILD_SCALARS,
)


@fixed_settings(2000, scaled=True)
@given(
    message=WILD_MESSAGES,
    compression=st.sampled_from([None, "lz4", "zlib"]),
    shard_size=st.sampled_from([1, 3, 1000]),
)
def test_fuzz_encode(message: Any, compression: str | None, shard_size: int) -> None:
    """The encoder refuses with DaskwireError or writes frames every decoder accepts (CE-10);
    the compiled scanner's fast path and the exact walk give the same frames or error."""
    state, result = outcome(
        lambda: daskwire.encode(message, compression=compression, shard_size=shard_size)
    )
    with pure_python():
        exact = outcome(
            lambda: daskwire.encode(message, compression=compression, shard_size=shard_size)
        )
    assert state == exact[0], (result, exact)
    if state == "ok":
        assert [bytes(f) for f in result] == [bytes(f) for f in exact[1]]
    else:
        assert result == exact[1]
    if state == "error":
        assert result in ("unencodable-value", "limit-exceeded")
        return
    has_wire_form = contains(message, lambda v: type(v) is Offloaded)
    for mode in (FORWARDING, CONSUMING):
        decoded = outcome(lambda mode=mode: daskwire.decode(result, mode=mode))
        if decoded[0] == "error":
            assert has_wire_form, decoded
            assert decoded[1] in LAYER_SIX, decoded
        elif not has_wire_form and (mode == CONSUMING or compression is None):
            check_same(expected(message, mode, shard_size=shard_size), decoded[1])
