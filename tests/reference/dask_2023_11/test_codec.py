"""dask-2023.11 encode and decode, both ways, against frames written by hand.

Each row is a message and the frame list the canonical encoder writes for it (frame 0 and
sub-headers as hand-written msgpack hex, spec/dask-2023.11/message.md and sub-header.md),
with what a forwarding and a consuming receiver yield for those frames. Rows marked
`encodes=False` are frame lists the encoder never writes (unclaimed frames, markers out of
frame order, compressed data): they are decoded only.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from typing import Any

import lz4.block
import pytest
from daskwire import Float32, Limits
from daskwire.dask_2023_11 import CONSUMING, FORWARDING, decode, encode
from daskwire.model import EnumValue, Materialized, Offloaded, Pickled, SetValue
from daskwire.notation import difference

from .common import (
    DUMMY_PICKLE,
    K_ASLIST,
    K_CLASS,
    K_COMP,
    K_DATA,
    K_ENUM,
    K_MODULE,
    K_NAME,
    K_POBJ,
    K_SER,
    K_SERIALIZER,
    K_SET,
    K_SNSF,
    K_SOFF,
    V_DASK,
    V_DUMMY_PICKLE,
    V_LZ4,
    V_MSGPACK,
    V_ZLIB,
    fixmap,
    hexes,
    hx,
    nsf,
    pic,
    ser,
)

pytestmark = pytest.mark.timeout(60)

#: Stands for "the same as the row's message" (forwarding) or "as forwarding" (consuming).
SAME: Any = object()
#: In `consuming`: the row's message itself (a Materialized value comes back as it went).
AS_MESSAGE: Any = object()

#: An lz4 block with its 4-byte size prefix, by hand: size 3, token 0x30 (3 literals), "abc".
LZ4_ABC = "03000000 30 616263"

# Compressed with the codec libraries directly (never through daskwire).
HELLO = b"hello " * 100
WORLD = b"world" * 50
LZ4_HELLO: bytes = lz4.block.compress(HELLO, store_size=True)
ZLIB_WORLD = zlib.compress(WORLD)
LZ4_AB: bytes = lz4.block.compress(b"ab" * 10, store_size=True)
LZ4_CD: bytes = lz4.block.compress(b"cd" * 10, store_size=True)


@dataclass(frozen=True)
class Case:
    id: str
    #: The frames: hex text written by hand, or bytes (compressed data made by a library).
    frames: list[str | bytes]
    #: The encoder's input; with `encodes`, encode(message) gives exactly `frames`.
    message: Any
    #: What a forwarding receiver yields; SAME: the message.
    forwarding: Any = SAME
    #: What a consuming receiver yields; SAME: what a forwarding one yields.
    consuming: Any = SAME
    options: dict[str, Any] = field(default_factory=dict)
    encodes: bool = True

    def wire(self) -> list[bytes]:
        return [f if isinstance(f, bytes) else hx(f) for f in self.frames]

    def expected(self, mode: str) -> Any:
        forwarding = self.message if self.forwarding is SAME else self.forwarding
        if mode == FORWARDING:
            return forwarding
        if self.consuming is AS_MESSAGE:
            return self.message
        return forwarding if self.consuming is SAME else self.consuming


def off(header: dict[Any, Any], *frames: bytes) -> Offloaded:
    return Offloaded(header, list(frames))


S1 = off({"num-sub-frames": 1}, b"s")
ENUM_HEX = (
    f"84 {K_ENUM} c3 {K_NAME} a7 72756e6e696e67"  # "running"
    f" {K_MODULE} b0 64697374726962757465642e636f7265"  # "distributed.core" (16 bytes)
    f" {K_CLASS} a6 537461747573"  # "Status"
)

CASES = [
    # -- plain values in frame 0 (DM-1, DM-2, DM-3) --
    Case("control", ["82 a2 6f70 a4 70696e67 a1 6e 01"], {"op": "ping", "n": 1}),
    Case("empty-map", ["80"], {}),
    Case("empty-batch", ["90"], []),
    Case(
        "integers-shortest-forms",
        ["81 a1 69 97 00 ff 7f cc 80 d0 df cf ffffffffffffffff d3 8000000000000000"],
        {"i": [0, -1, 127, 128, -33, 2**64 - 1, -(2**63)]},
    ),
    Case("tuple-key", ["81 92 a7 696e632d616263 00 1c"], {("inc-abc", 0): 28}),
    Case(
        "bool-float-nil-bin-int-keys",
        [
            (
                "86 c3 a1 74 c2 a1 66"  # True: "t", False: "f"
                " cb 3ff8000000000000 a1 67"  # 1.5: "g"
                " c0 a1 6e c4 01 6b a1 62 ff a1 69"  # None: "n", b"k": "b", -1: "i"
            )
        ],
        {True: "t", False: "f", 1.5: "g", None: "n", b"k": "b", -1: "i"},
    ),
    Case(
        "float32-key-and-value",
        ["82 ca 3f000000 ca c0000000 a1 66 cb 3fd0000000000000"],
        {Float32(0.5): Float32(-2.0), "f": 0.25},
    ),
    Case(
        "float32-inside-a-tuple-key",
        ["81 92 a1 6b ca 3fc00000 01"],
        {("k", Float32(1.5)): 1},
    ),
    Case(
        "bin-key-with-a-reserved-name-is-plain",
        ["81 c4 07 5f5f5365745f5f 01"],  # bin b"__Set__" (DM-4: only str keys are reserved)
        {b"__Set__": 1},
    ),
    Case(
        "reserved-name-as-a-value-is-plain",
        [f"81 a1 6b {K_SER}"],
        {"k": "__Serialized__"},
    ),
    # -- inline markers (DM-12, DM-13) --
    Case(
        "set",
        [f"81 a4 6b657973 82 {K_SET} c3 {K_ASLIST} 92 a1 61 92 a1 62 01"],
        {"keys": SetValue(["a", ("b", 1)])},
    ),
    Case("empty-set", [f"81 a1 73 82 {K_SET} c3 {K_ASLIST} 90"], {"s": SetValue([])}),
    Case(
        "set-keeps-wire-order-and-key-types",
        [f"91 82 {K_SET} c3 {K_ASLIST} 94 c4 01 78 c0 ca 3fc00000 a1 78"],
        [SetValue([b"x", None, Float32(1.5), "x"])],
    ),
    Case(
        "enum",
        [f"81 a1 73 {ENUM_HEX}"],
        {"s": EnumValue("distributed.core", "Status", "running")},
    ),
    Case(
        "set-and-enum-in-a-batch",
        [f"92 81 a1 73 82 {K_SET} c3 {K_ASLIST} 91 01 81 a1 65 {ENUM_HEX}"],
        [{"s": SetValue([1])}, {"e": EnumValue("distributed.core", "Status", "running")}],
    ),
    # -- offloaded values in wire form (DR-1, DR-3) --
    Case(
        "offloaded",
        ["81 a1 64 " + ser(1), fixmap(f"{K_SERIALIZER} {V_MSGPACK}", nsf(1)), "01"],
        {"d": off({"serializer": "msgpack", "num-sub-frames": 1}, b"\x01")},
        consuming={"d": Materialized({"serializer": "msgpack"}, [b"\x01"])},
    ),
    Case(
        "offloaded-num-sub-frames-set-in-place",
        ["81 a1 64 " + ser(1), f"82 {nsf(2)} {K_SERIALIZER} a1 78", "61", ""],
        {"d": off({"num-sub-frames": 9, "serializer": "x"}, b"a", b"")},
        forwarding={"d": off({"num-sub-frames": 2, "serializer": "x"}, b"a", b"")},
        consuming={"d": Materialized({"serializer": "x"}, [b"a", b""])},
    ),
    Case(
        "offloaded-num-sub-frames-appended-last",
        ["81 a1 64 " + ser(1), f"82 {K_SERIALIZER} a1 78 {nsf(1)}", "61"],
        {"d": off({"serializer": "x"}, b"a")},
        forwarding={"d": off({"serializer": "x", "num-sub-frames": 1}, b"a")},
        consuming={"d": Materialized({"serializer": "x"}, [b"a"])},
    ),
    Case(
        "offloaded-zero-data-frames",
        ["81 a1 64 " + ser(1), fixmap(nsf(0))],
        {"d": off({"num-sub-frames": 0})},
        consuming={"d": Materialized({}, [])},
    ),
    Case(
        "offloaded-lz4-shards-forwarded-as-they-are",
        [
            "81 a1 64 " + ser(1),
            fixmap(
                f"{K_SERIALIZER} {V_DASK}",
                f"{K_SNSF} 91 02",
                f"{K_SOFF} 91 00",
                f"{K_COMP} 92 {V_LZ4} c0",
                nsf(2),
            ),
            LZ4_ABC,
            "6465",
        ],
        {
            "d": off(
                {
                    "serializer": "dask",
                    "split-num-sub-frames": [2],
                    "split-offsets": [0],
                    "compression": ["lz4", None],
                    "num-sub-frames": 2,
                },
                hx(LZ4_ABC),
                b"de",
            )
        },
        consuming={"d": Materialized({"serializer": "dask"}, [b"abcde"])},
    ),
    Case(
        "markers-inside-a-sub-header-stay-plain-maps",
        [
            "81 a1 64 " + ser(1),
            fixmap(
                f"a1 73 82 {K_SET} c3 {K_ASLIST} 91 01",  # "s": a set marker
                f"a1 69 82 {K_SER} c3 {K_DATA} 92 80 91 c4 01 78",  # "i": an inline value
                f"a1 65 {ENUM_HEX}",  # "e": an enum marker
                nsf(0),
            ),
        ],
        {
            "d": off(
                {
                    "s": {"__Set__": True, "as-list": [1]},
                    "i": {"__Serialized__": True, "data": [{}, [b"x"]]},
                    "e": {
                        "__Enum__": True,
                        "name": "running",
                        "__module__": "distributed.core",
                        "__name__": "Status",
                    },
                    "num-sub-frames": 0,
                }
            )
        },
        consuming={
            "d": Materialized(
                {
                    "s": {"__Set__": True, "as-list": (1,)},
                    "i": {"__Serialized__": True, "data": ({}, (b"x",))},
                    "e": {
                        "__Enum__": True,
                        "name": "running",
                        "__module__": "distributed.core",
                        "__name__": "Status",
                    },
                },
                [],
            )
        },
    ),
    # -- values in original form (DC-2, DR-4) --
    Case(
        "materialized-split-at-the-shard-size",
        [
            "81 a1 76 " + ser(1),
            fixmap(
                f"{K_SERIALIZER} {V_DASK}",
                f"{K_SNSF} 91 03",
                f"{K_SOFF} 91 00",
                f"{K_COMP} 93 c0 c0 c0",
                nsf(3),
            ),
            "6162",
            "6364",
            "65",
        ],
        {"v": Materialized({"serializer": "dask"}, [b"abcde"])},
        forwarding={
            "v": off(
                {
                    "serializer": "dask",
                    "split-num-sub-frames": [3],
                    "split-offsets": [0],
                    "compression": [None, None, None],
                    "num-sub-frames": 3,
                },
                b"ab",
                b"cd",
                b"e",
            )
        },
        consuming=AS_MESSAGE,
        options={"shard_size": 2},
    ),
    Case(
        "materialized-empty-frame-is-one-empty-shard",
        [
            "81 a1 76 " + ser(1),
            fixmap(
                f"{K_SNSF} 93 01 02 01",
                f"{K_SOFF} 93 00 01 03",
                f"{K_COMP} 94 c0 c0 c0 c0",
                nsf(4),
            ),
            "",
            "7879",
            "7a",
            "71",
        ],
        {"v": Materialized({}, [b"", b"xyz", b"q"])},
        forwarding={
            "v": off(
                {
                    "split-num-sub-frames": [1, 2, 1],
                    "split-offsets": [0, 1, 3],
                    "compression": [None] * 4,
                    "num-sub-frames": 4,
                },
                b"",
                b"xy",
                b"z",
                b"q",
            )
        },
        consuming=AS_MESSAGE,
        options={"shard_size": 2},
    ),
    Case(
        "materialized-no-frames",
        [
            "81 a1 76 " + ser(1),
            fixmap(
                f"{K_SERIALIZER} a5 6572726f72",  # "error"
                f"{K_SNSF} 90",
                f"{K_SOFF} 90",
                f"{K_COMP} 90",
                nsf(0),
            ),
        ],
        {"v": Materialized({"serializer": "error"}, [])},
        forwarding={
            "v": off(
                {
                    "serializer": "error",
                    "split-num-sub-frames": [],
                    "split-offsets": [],
                    "compression": [],
                    "num-sub-frames": 0,
                }
            )
        },
        consuming=AS_MESSAGE,
    ),
    Case(
        "materialized-default-shard-size-does-not-split",
        [
            "81 a1 76 " + ser(1),
            fixmap(f"{K_SNSF} 91 01", f"{K_SOFF} 91 00", f"{K_COMP} 91 c0", nsf(1)),
            "78" * 300,
        ],
        {"v": Materialized({}, [b"x" * 300])},
        forwarding={
            "v": off(
                {
                    "split-num-sub-frames": [1],
                    "split-offsets": [0],
                    "compression": [None],
                    "num-sub-frames": 1,
                },
                b"x" * 300,
            )
        },
        consuming=AS_MESSAGE,
    ),
    # -- pickled values: wire form in both modes (DR-2, DP-2) --
    Case(
        "pickled-no-buffers",
        ["81 a1 66 " + pic(1), f"83 {K_POBJ} {V_DUMMY_PICKLE} {K_COMP} 90 {nsf(0)}"],
        {"f": Pickled({"pickled-obj": DUMMY_PICKLE, "compression": [], "num-sub-frames": 0}, [])},
    ),
    Case(
        "pickled-buffers-stay-compressed-when-consuming",
        [
            "81 a1 66 " + pic(1),
            f"83 {K_POBJ} {V_DUMMY_PICKLE} {K_COMP} 92 c0 {V_LZ4} {nsf(2)}",
            "4231",
            "ffff",  # not an lz4 block: never decompressed, in either mode
        ],
        {
            "f": Pickled(
                {"pickled-obj": DUMMY_PICKLE, "compression": [None, "lz4"], "num-sub-frames": 2},
                [b"B1", b"\xff\xff"],
            )
        },
    ),
    Case(
        "pickled-without-compression-key",
        ["81 a1 66 " + pic(1), f"82 {K_POBJ} {V_DUMMY_PICKLE} {nsf(0)}"],
        {"f": Pickled({"pickled-obj": DUMMY_PICKLE}, [])},
        forwarding={"f": Pickled({"pickled-obj": DUMMY_PICKLE, "num-sub-frames": 0}, [])},
    ),
    # -- batches and the order of index markers (DB-2, DM-11) --
    Case(
        "batch-of-the-spec-example",
        [
            "92 81 a2 6f70 a1 61 82 a2 6f70 a1 62 a1 64 " + ser(1),  # from batch.md
            fixmap(nsf(1)),
            "7a",
        ],
        [{"op": "a"}, {"op": "b", "d": off({"num-sub-frames": 1}, b"z")}],
        consuming=[{"op": "a"}, {"op": "b", "d": Materialized({}, [b"z"])}],
    ),
    Case(
        "batch-indices-count-across-elements",
        [
            "92 82 a2 6f70 a1 61 a1 64 " + ser(1) + " 82 a2 6f70 a1 62 a1 64 " + ser(3),
            fixmap(nsf(1)),
            "78",
            fixmap(nsf(1)),
            "79",
        ],
        [
            {"op": "a", "d": off({"num-sub-frames": 1}, b"x")},
            {"op": "b", "d": off({"num-sub-frames": 1}, b"y")},
        ],
        consuming=[
            {"op": "a", "d": Materialized({}, [b"x"])},
            {"op": "b", "d": Materialized({}, [b"y"])},
        ],
    ),
    Case(
        "pre-order-of-the-spec-example",  # message.md, DM-11: indices 1, 3, 4
        [
            f"82 a1 62 92 {ser(1)} {pic(3)} a1 61 81 92 a1 6b 01 {ser(4)}",
            fixmap(nsf(1)),
            "73",
            f"82 {K_POBJ} {V_DUMMY_PICKLE} {nsf(0)}",
            fixmap(nsf(1)),
            "74",
        ],
        {
            "b": [S1, Pickled({"pickled-obj": DUMMY_PICKLE, "num-sub-frames": 0}, [])],
            "a": {("k", 1): off({"num-sub-frames": 1}, b"t")},
        },
        consuming={
            "b": [
                Materialized({}, [b"s"]),
                Pickled({"pickled-obj": DUMMY_PICKLE, "num-sub-frames": 0}, []),
            ],
            "a": {("k", 1): Materialized({}, [b"t"])},
        },
    ),
    Case(
        "depth-first-before-a-later-sibling",
        [
            f"82 a1 61 91 81 a1 78 {ser(1)} a1 62 {ser(3)}",
            fixmap(nsf(1)),
            "31",
            fixmap(nsf(0)),
        ],
        {"a": [{"x": off({"num-sub-frames": 1}, b"1")}], "b": off({"num-sub-frames": 0})},
        consuming={"a": [{"x": Materialized({}, [b"1"])}], "b": Materialized({}, [])},
    ),
    # -- frame lists the encoder never writes, decoded only --
    Case(
        "markers-not-in-frame-order",  # DM-9
        [f"82 a1 61 {ser(3)} a1 62 {ser(1)}", fixmap(nsf(1)), "42", fixmap(nsf(1)), "41"],
        {"a": off({"num-sub-frames": 1}, b"A"), "b": off({"num-sub-frames": 1}, b"B")},
        consuming={"a": Materialized({}, [b"A"]), "b": Materialized({}, [b"B"])},
        encodes=False,
    ),
    Case(
        "unclaimed-frames-are-dropped",  # DM-10, as distributed's pickle fallback leaves them
        [f"81 a1 61 {ser(3)}", fixmap(nsf(1)), "78", fixmap(nsf(1)), "79", "ff"],
        {"a": off({"num-sub-frames": 1}, b"y")},
        consuming={"a": Materialized({}, [b"y"])},
        encodes=False,
    ),
    Case(
        "unclaimed-frames-without-any-marker",
        ["81 a1 61 01", "ff", ""],
        {"a": 1},
        encodes=False,
    ),
    Case(
        "lz4-and-zlib-data-frames",
        [
            "81 a1 76 " + ser(1),
            fixmap(f"{K_SERIALIZER} {V_DASK}", f"{K_COMP} 93 {V_LZ4} {V_ZLIB} c0", nsf(3)),
            LZ4_HELLO,
            ZLIB_WORLD,
            "726177",  # "raw", not compressed
        ],
        {
            "v": off(
                {"serializer": "dask", "compression": ["lz4", "zlib", None], "num-sub-frames": 3},
                LZ4_HELLO,
                ZLIB_WORLD,
                b"raw",
            )
        },
        consuming={"v": Materialized({"serializer": "dask"}, [HELLO, WORLD, b"raw"])},
    ),
    Case(
        "lz4-shards-decompressed-then-merged",
        [
            "81 a1 76 " + ser(1),
            fixmap(
                f"{K_SNSF} 92 02 01",
                f"{K_SOFF} 92 00 02",
                f"{K_COMP} 93 {V_LZ4} {V_LZ4} c0",
                nsf(3),
            ),
            LZ4_AB,
            LZ4_CD,
            "65",
        ],
        {
            "v": off(
                {
                    "split-num-sub-frames": [2, 1],
                    "split-offsets": [0, 2],
                    "compression": ["lz4", "lz4", None],
                    "num-sub-frames": 3,
                },
                LZ4_AB,
                LZ4_CD,
                b"e",
            )
        },
        consuming={"v": Materialized({}, [b"ab" * 10 + b"cd" * 10, b"e"])},
    ),
    Case(
        "split-run-of-zero-shards-is-an-empty-frame",
        [
            "81 a1 76 " + ser(1),
            fixmap(f"{K_SNSF} 92 00 01", f"{K_SOFF} 92 00 00", f"{K_COMP} 91 c0", nsf(1)),
            "61",
        ],
        {
            "v": off(
                {
                    "split-num-sub-frames": [0, 1],
                    "split-offsets": [0, 0],
                    "compression": [None],
                    "num-sub-frames": 1,
                },
                b"a",
            )
        },
        consuming={"v": Materialized({}, [b"", b"a"])},
    ),
    Case(
        "compression-nil-entries-and-no-split-keys",
        [
            "81 a1 76 " + ser(1),
            fixmap(f"{K_COMP} 92 c0 c0", nsf(2)),
            "61",
            "62",
        ],
        {"v": off({"compression": [None, None], "num-sub-frames": 2}, b"a", b"b")},
        consuming={"v": Materialized({}, [b"a", b"b"])},
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.encodes], ids=lambda c: c.id)
def test_encode_writes_the_frames(case: Case) -> None:
    assert hexes(encode(case.message, **case.options)) == hexes(case.wire())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("mode", [FORWARDING, CONSUMING])
def test_decode_yields_the_message(case: Case, mode: str) -> None:
    got = decode(case.wire(), mode=mode)  # type: ignore[arg-type]
    found = difference(case.expected(mode), got)
    assert found is None, found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_decoded_arrays_are_tuples_and_maps_dicts(case: Case) -> None:
    """Every array decodes as a tuple (so that it may be a key), every map as a dict."""
    pending = [decode(case.wire())]
    while pending:
        item = pending.pop()
        assert type(item) is not list
        if type(item) is tuple:
            pending.extend(item)
        elif isinstance(item, dict):
            assert type(item) is dict
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, Offloaded | Pickled | Materialized):
            pending.append(dict(item.header))
            assert all(type(f) in (bytes, memoryview) for f in item.frames)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.encodes or c.id.startswith("lz4")], ids=lambda c: c.id
)
def test_re_encoding_a_forwarded_message_gives_the_same_frames(case: Case) -> None:
    """DR-3: wire-form values are re-sent unchanged, `num-sub-frames` in place."""
    forwarded = decode(case.wire(), mode=FORWARDING)
    assert hexes(encode(forwarded)) == hexes(case.wire())


@pytest.mark.parametrize("case", [c for c in CASES if c.encodes], ids=lambda c: c.id)
def test_re_encoding_a_consumed_message_gives_the_same_frames(case: Case) -> None:
    """DC-2: a canonical encoder writes original-form values the same way every time."""
    consumed = decode(case.wire(), mode=CONSUMING)
    if any(isinstance(f, Offloaded) for f in _leaves(case.message)):
        return  # consumed Offloaded values come back as Materialized: other sub-headers
    assert hexes(encode(consumed, **case.options)) == hexes(case.wire())


def _leaves(value: Any) -> list[Any]:
    if type(value) in (list, tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    if type(value) is dict:
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


def test_unclaimed_frames_are_not_re_sent() -> None:
    """DM-10: an encoder never writes unclaimed frames; markers are renumbered."""
    case = next(c for c in CASES if c.id == "unclaimed-frames-are-dropped")
    again = encode(decode(case.wire()))
    assert hexes(again) == hexes([hx(f"81 a1 61 {ser(1)}"), hx(fixmap(nsf(1))), b"y"])


def test_frames_of_wire_form_values_are_not_copied() -> None:
    data = bytearray(b"payload")
    frames = encode({"d": Offloaded({"num-sub-frames": 1}, [data])})
    assert frames[2] is data


def test_decoded_data_frames_are_views_of_the_input() -> None:
    wire = [hx("81 a1 64 " + ser(1)), hx(fixmap(nsf(1))), b"data"]
    got = decode(wire)
    [frame] = got["d"].frames
    assert isinstance(frame, memoryview)
    assert frame.obj is wire[2]


# -- compression on encode (DC-2: informative; judged by what it decodes to) ----------------


@pytest.mark.parametrize(
    ("codec", "codec_hex", "inflate"),
    [
        ("lz4", V_LZ4, lz4.block.decompress),
        ("zlib", V_ZLIB, zlib.decompress),
    ],
)
def test_encode_with_a_codec_compresses_large_shards_only(
    codec: str, codec_hex: str, inflate: Any
) -> None:
    big = b"abcd" * 5000  # 20,000 bytes: at least 10,000, and shrinks well
    small = b"abcd" * 10
    frames = encode({"v": Materialized({}, [big, small])}, compression=codec)
    assert hexes(frames[:2]) == hexes(
        [
            hx("81 a1 76 " + ser(1)),
            hx(
                fixmap(
                    f"{K_SNSF} 92 01 01",
                    f"{K_SOFF} 92 00 01",
                    f"{K_COMP} 92 {codec_hex} c0",
                    nsf(2),
                )
            ),
        ]
    )
    assert len(frames) == 4
    assert inflate(bytes(frames[2])) == big
    assert bytes(frames[3]) == small
    got = decode(frames, mode=CONSUMING)
    assert difference({"v": Materialized({}, [big, small])}, got) is None


def test_encode_with_a_codec_leaves_incompressible_shards_alone() -> None:
    noise = random.Random(0).randbytes(12_000)  # no codec shrinks it to 0.9 of its size
    for codec in ("lz4", "zlib"):
        frames = encode({"v": Materialized({}, [noise])}, compression=codec)
        assert decode(frames)["v"].header["compression"] == (None,)
        assert bytes(frames[2]) == noise


def test_encode_never_compresses_frame_0_nor_sub_headers() -> None:
    message = {"s": "y" * 20_000, "v": Materialized({"t": "z" * 20_000}, [b"q"])}
    frames = encode(message, compression="lz4")
    assert bytes(frames[0]).startswith(hx("82 a1 73 da 4e20"))  # str 16 of 20,000 bytes
    assert bytes(frames[1]).startswith(hx("85 a1 74 da 4e20"))


def test_encode_respects_the_depth_limit_it_is_given() -> None:
    """The encoder never writes what a decoder with the same limits refuses (DL-2)."""
    message = {"a": [[1]]}  # depth 3
    limits = Limits(max_depth=3)
    assert decode(encode(message, limits=limits), limits=limits) == {"a": ((1,),)}
