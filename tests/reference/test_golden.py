"""Golden bytes, run in both directions: the PR's examples, hand-written msgpack and wire bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cramjam
import daskwire
import lz4.block
import pytest
from daskwire import Float32, Materialized, Offloaded
from daskwire.codecs import decompress
from daskwire.limits import DEFAULT_LIMITS
from daskwire.notation import difference

from .strategies import (
    K_COMPRESSION,
    K_COUNT,
    K_DESERIALIZE,
    K_FCOUNT,
    K_FINDEX,
    K_HEADER,
    K_LENGTHS,
    K_SERIALIZER,
    V_PICKLE,
    bare_header,
    hexes,
    hx,
    placeholder,
)


def pickle_header(lengths: str, count: int) -> str:
    """{"serializer": "pickle", "lengths": ..., "count": n, "deserialize": false} (G1 style)."""
    return (
        f"84 {K_SERIALIZER} {V_PICKLE} {K_LENGTHS} {lengths} "
        f"{K_COUNT} {count:02x} {K_DESERIALIZE} c2"
    )


def sd(*frames: bytes) -> Offloaded:
    """The PR's `Serialized({"serializer": "pickle"}, frames)`: a value in wire form."""
    return Offloaded({"serializer": "pickle"}, list(frames))


def sd_decoded(*frames: bytes) -> Offloaded:
    """What a forwarding receiver yields for `sd(*frames)`: the header with transport keys."""
    header = {
        "serializer": "pickle",
        "lengths": tuple(len(f) for f in frames),
        "count": len(frames),
        "deserialize": False,
    }
    return Offloaded(header, list(frames))


@dataclass(frozen=True, slots=True, kw_only=True)
class Golden:
    """A message and its canonical frames; decoding the frames gives the decoded forms."""

    id: str
    message: Any
    frames: list[bytes]
    #: What a forwarding receiver yields; None: the message itself.
    forwarding: Any = None
    #: What a consuming receiver yields; None: the message itself.
    consuming: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    #: Whether re-encoding the consuming form gives the same bytes (false for pass-through
    #: values whose wire frames are split or compressed differently from a fresh encode).
    consuming_reencodes: bool = True

    @property
    def fwd(self) -> Any:
        return self.message if self.forwarding is None else self.forwarding

    @property
    def cons(self) -> Any:
        return self.message if self.consuming is None else self.consuming


# -- the PR's examples (protocol-history.md §1.4), hex copied from the document -------------

G1_FRAME = hx("80 04 4b 7b 2e")
G1_PAYLOAD = hx(
    """
    82 a2 6f70 a1 78 a4 64617461 83
      a8 5f246865616465 72 84 aa 73657269616c697a6572 a6 7069636b6c65
                           a7 6c656e67746873 91 05
                           a5 636f756e74 01
                           ab 646573657269616c697a65 c2
      a8 5f2466696e646578 00
      a8 5f2466636f756e74 01
    """
)
G1_WIRE = hx(
    """
    0300000000000000 0000000000000000 5a00000000000000 0500000000000000
    82a26f70a178a46461746183a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e677468739105a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f2466636f756e7401
    80044b7b2e
    """
)

# G3: the PR moves offloaded entries to the end of their map; F[1] as the PR wrote it.
G3_PR_PAYLOAD = hx(
    "83a1619283a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e67746873"
    "9101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657801a85f2466636f756e74"
    "0181a16b83a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e67746873"
    "9101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657802a85f2466636f756e74"
    "01a16d01a17a83a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e6774"
    "68739101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f2466636f75"
    "6e7401"
)
G3_FRAMES = [b"Z", b"A", b"K"]  # F[2] = 5a, F[3] = 41, F[4] = 4b

G5_PAYLOAD = hx(
    "9282a26f70a161a16483a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e"
    "677468739101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f246663"
    "6f756e740182a26f70a162a16483a85f2468656164657284aa73657269616c697a6572a67069636b6c"
    "65a76c656e67746873920101a5636f756e7402ab646573657269616c697a65c2a85f2466696e646578"
    "01a85f2466636f756e7402"
)

#: A pickled `bytes` type (protocol 5), the kind of bytes G2's `type-serialized` holds.
TYPE_SERIALIZED = hx(
    "8005 95 1600000000000000 8c08 6275696c74696e73 94 8c05 6279746573 94 93 94 2e"
)
G2_HEADER = {"type": "builtins.bytes", "type-serialized": TYPE_SERIALIZED, "serializer": "dask"}
G2_PAYLOAD = hx(
    f"""
    82 a2 6f70 a1 78 a4 64617461                       # {{"op": "x", "data":
    83 {K_HEADER} 87                                    #   {{"_$header": {{ 7 entries
         a4 74797065 ae 6275696c74696e732e6279746573    #     "type": "builtins.bytes"
         af 747970652d73657269616c697a6564 c4 21        #     "type-serialized": bin8, 33 bytes
            {TYPE_SERIALIZED.hex()}
         {K_SERIALIZER} a4 6461736b                     #     "serializer": "dask"
         {K_LENGTHS} 91 03                              #     "lengths": [3]
         {K_COMPRESSION} 91 c0                          #     "compression": [nil]
         {K_COUNT} 01                                   #     "count": 1
         {K_DESERIALIZE} c2                             #     "deserialize": false }}
       {K_FINDEX} 00 {K_FCOUNT} 01                      #   "_$findex": 0, "_$fcount": 1 }}}}
    """
)
G4_HEADER = {"type": "emptymod.Empty", "serializer": "dask"}
G4_PAYLOAD = hx(
    f"""
    81 a1 76                                           # {{"v":
    83 {K_HEADER} 86                                    #   {{"_$header": {{ 6 entries
         a4 74797065 ae 656d7074796d6f642e456d707479    #     "type": "emptymod.Empty"
         {K_SERIALIZER} a4 6461736b                     #     "serializer": "dask"
         {K_LENGTHS} 90 {K_COMPRESSION} 90              #     "lengths": [], "compression": []
         {K_COUNT} 00 {K_DESERIALIZE} c2                #     "count": 0, "deserialize": false }}
       {K_FINDEX} 00 {K_FCOUNT} 00                      #   "_$findex": 0 = N - 2, "_$fcount": 0
    """
)

# -- hand-written canonical messages ---------------------------------------------------------

INTS = [0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]
INTS += [-1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63)]
INTS_HEX = """
    81 a1 69 dc 0014          # {"i": array16 of 20
      00 7f cc80 ccff cd0100 cdffff ce00010000 ceffffffff cf0000000100000000 cfffffffffffffffff
      ff e0 d0df d080 d1ff7f d18000 d2ffff7fff d280000000 d3ffffffff7fffffff d38000000000000000
"""


def transport(lengths: tuple[int, ...], count: int, *, raw: bool = False) -> dict[str, Any]:
    """The decoded transport keys of a fresh, uncompressed encode."""
    return {
        "lengths": lengths,
        "compression": (None,) * count,
        "count": count,
        "deserialize": raw,
    }


RAW = b"x" * 65537

GOLDEN = [
    # -- the PR's examples --
    Golden(
        id="g1",
        message={"op": "x", "data": sd(G1_FRAME)},
        frames=[b"", G1_PAYLOAD, G1_FRAME],
        forwarding={"op": "x", "data": sd_decoded(G1_FRAME)},
        consuming={"op": "x", "data": Materialized({"serializer": "pickle"}, [G1_FRAME])},
        consuming_reencodes=False,  # a fresh encode adds "compression": [nil]
    ),
    Golden(
        id="g1-full-header",
        message={"op": "x", "data": sd_decoded(G1_FRAME)},
        frames=[b"", G1_PAYLOAD, G1_FRAME],
        consuming={"op": "x", "data": Materialized({"serializer": "pickle"}, [G1_FRAME])},
        consuming_reencodes=False,
    ),
    Golden(
        id="g2-structure",
        message={"op": "x", "data": Materialized(G2_HEADER, [b"abc"])},
        frames=[b"", G2_PAYLOAD, b"abc"],
        forwarding={"op": "x", "data": Offloaded({**G2_HEADER, **transport((3,), 1)}, [b"abc"])},
        consuming={"op": "x", "data": Materialized(G2_HEADER, [b"abc"])},
    ),
    Golden(
        id="g3-canonical-order",
        message={"z": sd(b"Z"), "a": [sd(b"A"), {"k": sd(b"K")}], "m": 1},
        frames=[
            b"",
            hx(
                f"""
                83 a1 7a {placeholder(pickle_header("91 01", 1), 0, 1)}   # "z" stays first
                   a1 61 92 {placeholder(pickle_header("91 01", 1), 1, 1)}
                            81 a1 6b {placeholder(pickle_header("91 01", 1), 2, 1)}
                   a1 6d 01
                """
            ),
            *G3_FRAMES,
        ],
        forwarding={
            "z": sd_decoded(b"Z"),
            "a": (sd_decoded(b"A"), {"k": sd_decoded(b"K")}),
            "m": 1,
        },
        consuming={
            "z": Materialized({"serializer": "pickle"}, [b"Z"]),
            "a": (
                Materialized({"serializer": "pickle"}, [b"A"]),
                {"k": Materialized({"serializer": "pickle"}, [b"K"])},
            ),
            "m": 1,
        },
        consuming_reencodes=False,
    ),
    Golden(
        id="g4-zero-frames",
        message={"v": Materialized(G4_HEADER, [])},
        frames=[b"", G4_PAYLOAD],
        forwarding={"v": Offloaded({**G4_HEADER, **transport((), 0)}, [])},
    ),
    Golden(
        id="g5-batch",
        message=[{"op": "a", "d": sd(b"A")}, {"op": "b", "d": sd(b"B", b"C")}],
        frames=[b"", G5_PAYLOAD, b"A", b"B", b"C"],
        forwarding=({"op": "a", "d": sd_decoded(b"A")}, {"op": "b", "d": sd_decoded(b"B", b"C")}),
        consuming=(
            {"op": "a", "d": Materialized({"serializer": "pickle"}, [b"A"])},
            {"op": "b", "d": Materialized({"serializer": "pickle"}, [b"B", b"C"])},
        ),
        consuming_reencodes=False,
    ),
    # -- plain msgpack of the profile (CE-1, CE-2, PL-*) --
    Golden(id="empty-map", message={}, frames=[b"", hx("80")]),
    Golden(id="empty-array", message=(), frames=[b"", hx("90")]),
    Golden(id="list-is-array", message=[], frames=[b"", hx("90")], forwarding=()),
    Golden(
        id="nil-and-bools",
        message={"a": None, "b": True, "c": False},
        frames=[b"", hx("83 a161 c0 a162 c3 a163 c2")],
    ),
    Golden(id="ints-shortest-forms", message={"i": tuple(INTS)}, frames=[b"", hx(INTS_HEX)]),
    Golden(
        id="float64",
        message={"f": (1.5, -0.0, float("inf"), float("-inf"), float("nan"))},
        frames=[
            b"",
            hx(
                """
                81 a1 66 95 cb 3ff8000000000000 cb 8000000000000000   # 1.5, -0.0
                            cb 7ff0000000000000 cb fff0000000000000   # inf, -inf
                            cb 7ff8000000000000                       # nan
                """
            ),
        ],
    ),
    Golden(
        id="float32",
        message={"f": (Float32(1.5), Float32(-0.0), Float32("inf"), Float32("nan"))},
        frames=[b"", hx("81 a1 66 94 ca 3fc00000 ca 80000000 ca 7f800000 ca 7fc00000")],
    ),
    Golden(
        id="float32-beside-float64",
        message={"a": Float32(0.1), "b": 0.1},
        frames=[b"", hx("82 a1 61 ca 3dcccccd a1 62 cb 3fb999999999999a")],
    ),
    Golden(
        id="str-forms",
        message={"s": ("", "é", "x" * 31, "x" * 32, "x" * 256)},
        frames=[
            b"",
            hx(
                "81 a1 73 95 a0 a2 c3a9"  # "", "é"
                f" bf {'78' * 31}"  # fixstr
                f" d9 20 {'78' * 32}"  # str8
                f" da 0100 {'78' * 256}"  # str16
            ),
        ],
    ),
    Golden(
        id="bin-forms",
        message={"b": (b"", b"\x00\xff", b"x" * 256, b"y" * 65536)},
        frames=[
            b"",
            hx(
                "81 a1 62 94 c4 00 c4 02 00ff"
                f" c5 0100 {'78' * 256}"  # bin16
                f" c6 00010000 {'79' * 65536}"  # bin32: 65536 bytes stay inline (HD-10)
            ),
        ],
    ),
    Golden(
        id="str-is-not-bin",
        message={"a": "a", "b": b"a"},
        frames=[b"", hx("82 a161 a161 a162 c40161")],
    ),
    Golden(
        id="map-keys-of-the-profile",
        message={
            None: 1,
            1: 2,
            b"k": 3,
            (1, "a"): 4,
            ("x", (None,)): 5,
            -1: 6,
            2**64 - 1: 7,
            (): 8,
        },
        frames=[
            b"",
            hx(
                """
                88 c0 01                       # nil: 1
                   01 02                       # 1: 2
                   c4 01 6b 03                 # b"k": 3
                   92 01 a1 61 04              # [1, "a"]: 4
                   92 a1 78 91 c0 05           # ["x", [nil]]: 5
                   ff 06                       # -1: 6
                   cf ffffffffffffffff 07      # 2**64-1: 7
                   90 08                       # []: 8
                """
            ),
        ],
    ),
    Golden(
        id="map-order-kept",
        message={"b": 1, "a": 2},
        frames=[b"", hx("82 a162 01 a161 02")],
    ),
    Golden(
        id="nested",
        message={"a": [1, [2, {}]], "b": {"c": []}},
        frames=[b"", hx("82 a161 92 01 92 02 80 a162 81 a163 90")],
        forwarding={"a": (1, (2, {})), "b": {"c": ()}},
    ),
    Golden(
        id="batch",
        message=[{"op": "a"}, {"op": "b"}],
        frames=[b"", hx("92 81 a26f70 a161 81 a26f70 a162")],
    ),
    Golden(
        id="map16-array16",
        message={"m": {f"{i:x}": i for i in range(16)}, "a": tuple(range(16))},
        frames=[
            b"",
            hx(
                "82 a1 6d de 0010 "
                + " ".join(f"a1 {ord(f'{i:x}'):02x} {i:02x}" for i in range(16))
                + " a1 61 dc 0010 "
                + " ".join(f"{i:02x}" for i in range(16))
            ),
        ],
    ),
    # -- offloaded values --
    Golden(
        id="offloaded-empty-frame",
        message={"v": Offloaded({"serializer": "s"}, [b""])},
        frames=[
            b"",
            hx(
                f"81 a1 76 83 {K_HEADER} 84 {K_SERIALIZER} a1 73 {K_LENGTHS} 91 00 "
                f"{K_COUNT} 01 {K_DESERIALIZE} c2 {K_FINDEX} 00 {K_FCOUNT} 01"
            ),
            b"",
        ],
        forwarding={
            "v": Offloaded(
                {"serializer": "s", "lengths": (0,), "count": 1, "deserialize": False}, [b""]
            )
        },
        consuming={"v": Materialized({"serializer": "s"}, [b""])},
        consuming_reencodes=False,
    ),
    Golden(
        id="offloaded-keys-keep-their-position",
        message={"v": Offloaded({"count": 1, "serializer": "s", "deserialize": False}, [b"A"])},
        frames=[
            b"",
            hx(
                f"81 a1 76 83 {K_HEADER} 84 {K_COUNT} 01 {K_SERIALIZER} a1 73 "
                f"{K_DESERIALIZE} c2 {K_LENGTHS} 91 01 {K_FINDEX} 00 {K_FCOUNT} 01"
            ),
            b"A",
        ],
        forwarding={
            "v": Offloaded(
                {"count": 1, "serializer": "s", "deserialize": False, "lengths": (1,)}, [b"A"]
            )
        },
        consuming={"v": Materialized({"serializer": "s"}, [b"A"])},
        consuming_reencodes=False,
    ),
    Golden(
        id="offloaded-lz4-frame-passes-through",
        message={
            "v": Offloaded(
                {"serializer": "s", "lengths": [3], "compression": ["lz4"]},
                [hx("03000000 30 616263")],
            )
        },  # lz4: size 3, token 0x30, "abc"
        frames=[
            b"",
            hx(
                f"81 a1 76 83 {K_HEADER} 85 {K_SERIALIZER} a1 73 {K_LENGTHS} 91 03 "
                f"{K_COMPRESSION} 91 a3 6c7a34 {K_COUNT} 01 {K_DESERIALIZE} c2 "
                f"{K_FINDEX} 00 {K_FCOUNT} 01"
            ),
            hx("03000000 30 616263"),
        ],
        forwarding={
            "v": Offloaded(
                {
                    "serializer": "s",
                    "lengths": (3,),
                    "compression": ("lz4",),
                    "count": 1,
                    "deserialize": False,
                },
                [hx("03000000 30 616263")],
            )
        },
        consuming={"v": Materialized({"serializer": "s"}, [b"abc"])},
        consuming_reencodes=False,
    ),
    Golden(
        id="materialized-split-into-shards",
        message={"v": Materialized({"serializer": "s"}, [b"abcde"])},
        options={"shard_size": 2},
        frames=[
            b"",
            hx(
                f"81 a1 76 83 {K_HEADER} 85 {K_SERIALIZER} a1 73 {K_LENGTHS} 91 05 "
                f"{K_COMPRESSION} 93 c0 c0 c0 {K_COUNT} 03 {K_DESERIALIZE} c2 "
                f"{K_FINDEX} 00 {K_FCOUNT} 03"
            ),
            b"ab",
            b"cd",
            b"e",
        ],
        forwarding={
            "v": Offloaded({"serializer": "s", **transport((5,), 3)}, [b"ab", b"cd", b"e"])
        },
        consuming={"v": Materialized({"serializer": "s"}, [b"abcde"])},
    ),
    Golden(
        id="materialized-empty-frame-is-one-shard",
        message={"v": Materialized({}, [b""])},
        options={"shard_size": 1},
        frames=[
            b"",
            hx(f"81 a1 76 {placeholder(bare_header('91 00', '91 c0', 1), 0, 1)}"),
            b"",
        ],
        forwarding={"v": Offloaded(transport((0,), 1), [b""])},
    ),
    Golden(
        id="two-offloads-nested-pre-order",
        message={
            "a": [Materialized({}, [b"A"]), {"k": Materialized({}, [b"K", b"L"])}],
            "b": Materialized({}, []),
        },
        frames=[
            b"",
            hx(
                f"""
                82 a1 61 92 {placeholder(bare_header("91 01", "91 c0", 1), 0, 1)}
                            81 a1 6b {placeholder(bare_header("92 01 01", "92 c0 c0", 2), 1, 2)}
                   a1 62 {placeholder(bare_header("90", "90", 0), 3, 0)}   # findex 3 = N - 2
                """
            ),
            b"A",
            b"K",
            b"L",
        ],
        forwarding={
            "a": (
                Offloaded(transport((1,), 1), [b"A"]),
                {"k": Offloaded(transport((1, 1), 2), [b"K", b"L"])},
            ),
            "b": Offloaded(transport((), 0), []),
        },
        consuming={
            "a": (Materialized({}, [b"A"]), {"k": Materialized({}, [b"K", b"L"])}),
            "b": Materialized({}, []),
        },
    ),
    Golden(
        id="raw-bytestring",
        message={"b": RAW, "small": b"x" * 3},
        frames=[
            b"",
            hx(
                f"""
                82 a1 62 {placeholder(bare_header("91 ce 00010001", "91 c0", 1, raw=True), 0, 1)}
                   a5 736d616c6c c4 03 787878            # "small": bin8 stays inline
                """
            ),
            RAW,
        ],
    ),
    Golden(
        id="raw-bytestring-split",
        message=[RAW],
        options={"shard_size": 65536},
        frames=[
            b"",
            hx(f"91 {placeholder(bare_header('91 ce 00010001', '92 c0 c0', 2, raw=True), 0, 2)}"),
            RAW[:65536],
            RAW[65536:],
        ],
        forwarding=(RAW,),
    ),
    Golden(
        id="float32-in-a-header",
        message={"v": Materialized({"f": Float32(0.5)}, [])},
        frames=[
            b"",
            hx(
                f"81 a1 76 83 {K_HEADER} 85 a1 66 ca 3f000000 {K_LENGTHS} 90 "
                f"{K_COMPRESSION} 90 {K_COUNT} 00 {K_DESERIALIZE} c2 {K_FINDEX} 00 {K_FCOUNT} 00"
            ),
        ],
        forwarding={"v": Offloaded({"f": Float32(0.5), **transport((), 0)}, [])},
    ),
]


def _check(expected: Any, actual: Any) -> None:
    found = difference(expected, actual)
    assert found is None, found


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.id)
def test_encode_gives_the_golden_frames(case: Golden) -> None:
    assert hexes(daskwire.encode(case.message, **case.options)) == hexes(case.frames)


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.id)
def test_forwarding_decode_of_the_golden_frames(case: Golden) -> None:
    _check(case.fwd, daskwire.decode(case.frames, mode="forwarding"))


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.id)
def test_consuming_decode_of_the_golden_frames(case: Golden) -> None:
    _check(case.cons, daskwire.decode(case.frames, mode="consuming"))


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.id)
def test_reencoding_the_decoded_message_gives_the_same_frames(case: Golden) -> None:
    forwarded = daskwire.decode(case.frames, mode="forwarding")
    assert hexes(daskwire.encode(forwarded, **case.options)) == hexes(case.frames)
    if case.consuming_reencodes:
        consumed = daskwire.decode(case.frames, mode="consuming")
        assert hexes(daskwire.encode(consumed, **case.options)) == hexes(case.frames)


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c.id)
def test_golden_frames_survive_the_wire(case: Golden) -> None:
    wire = daskwire.pack_bytes(case.frames)
    assert hexes(daskwire.unpack(wire)) == hexes(case.frames)


# -- the PR's own bytes where the canonical form differs (G3) --------------------------------


def test_g3_template_matches_the_pr_bytes() -> None:
    """The placeholder template above reproduces the PR's F[1] in the PR's key order."""
    p = pickle_header("91 01", 1)
    pr_order = hx(
        f"83 a1 61 92 {placeholder(p, 1, 1)} 81 a1 6b {placeholder(p, 2, 1)}"
        f" a1 6d 01 a1 7a {placeholder(p, 0, 1)}"
    )
    assert pr_order.hex() == G3_PR_PAYLOAD.hex()


@pytest.mark.parametrize("mode", ["forwarding", "consuming"])
def test_g3_pr_bytes_decode_to_the_same_logical_message(mode: str) -> None:
    """The PR's output decodes to the same message, with the PR's key order a, m, z (PL-8)."""
    decoded = daskwire.decode([b"", G3_PR_PAYLOAD, *G3_FRAMES], mode=mode)  # type: ignore[arg-type]
    assert list(decoded) == ["a", "m", "z"]
    golden = next(c for c in GOLDEN if c.id == "g3-canonical-order")
    logical = golden.fwd if mode == "forwarding" else golden.cons
    assert list(logical) == ["z", "a", "m"]
    assert decoded == logical  # Python ==: order-insensitive for maps
    _check({k: logical[k] for k in decoded}, decoded)  # typed, in the PR's order


def test_g1_wire_bytes() -> None:
    """G1's full TCP bytes in the 2.16-era framing, little-endian (WF-1)."""
    frames = daskwire.encode({"op": "x", "data": sd(G1_FRAME)})
    assert daskwire.pack_bytes(frames).hex() == G1_WIRE.hex()
    assert hexes(daskwire.unpack(G1_WIRE)) == hexes([b"", G1_PAYLOAD, G1_FRAME])


def test_g2_payload_is_173_bytes_as_in_the_pr() -> None:
    frames = daskwire.encode({"op": "x", "data": Materialized(G2_HEADER, [b"abc"])})
    assert len(frames[1]) == 173
    assert bytes(frames[2]).hex() == "616263"
    header = daskwire.decode(frames)["data"].header
    assert list(header) == [
        "type",
        "type-serialized",
        "serializer",
        "lengths",
        "compression",
        "count",
        "deserialize",
    ]
    assert header["compression"] == (None,)


# -- compressed payload (protocol-history.md §1.4, "Compressed payload") -------------------


def test_compressed_payload_example() -> None:
    message = {"op": "c", "s": "y" * 20000}
    frames = daskwire.encode(message, compression="lz4")
    assert len(frames) == 2
    assert bytes(frames[0]).hex() == "81ab636f6d7072657373696f6ea36c7a34"
    assert bytes(frames[1])[:4].hex() == "2b4e0000"  # 20011 bytes of msgpack follow
    body = hx("82 a2 6f70 a1 63 a1 73 da 4e20") + b"y" * 20000
    assert bytes(cramjam.lz4.decompress_block(bytes(frames[1]))) == body
    for mode in ("forwarding", "consuming"):
        _check(message, daskwire.decode(frames, mode=mode))


@pytest.mark.parametrize("codec", daskwire.SUPPORTED_CODECS)
def test_compressed_payload_reencodes_identically(codec: str) -> None:
    frames = daskwire.encode({"op": "c", "s": "y" * 20000}, compression=codec)
    assert daskwire.decode([frames[0], frames[1]])["s"] == "y" * 20000
    again = daskwire.encode(daskwire.decode(frames), compression=codec)
    assert hexes(again) == hexes(frames)


# -- framing examples from other producers ---------------------------------------------------

#: Issue #3028's capture: two frames, an empty frame 0 and a 79-byte payload (§3.1).
ISSUE_3028_PAYLOAD = hx(f"83 a2 6f70 a1 78 a1 6b d9 42 {'79' * 66} a1 7a 01")
ISSUE_3028_WIRE = hx("0200000000000000 0000000000000000 4f00000000000000") + ISSUE_3028_PAYLOAD

#: rsds's `serialize_key_in_memory` exact-bytes test (§5).
RSDS_WIRE = hx(
    """
    0200000000000000 0000000000000000 2600000000000000
    83 a2 6f70 ad 6b65792d696e2d6d656d6f7279   # "op": "key-in-memory"
       a3 6b6579 a5 68656c6c6f                 # "key": "hello"
       a4 74797065 c4 03 010203                # "type": bin 01 02 03
    """
)


def test_issue_3028_two_frame_prelude() -> None:
    assert len(ISSUE_3028_PAYLOAD) == 0x4F
    message = {"op": "x", "k": "y" * 66, "z": 1}
    frames = daskwire.encode(message)
    assert hexes(frames) == ["", ISSUE_3028_PAYLOAD.hex()]
    assert daskwire.pack_bytes(frames).hex() == ISSUE_3028_WIRE.hex()
    _check(message, daskwire.decode(daskwire.unpack(ISSUE_3028_WIRE)))


def test_rsds_serialize_key_in_memory() -> None:
    frames = daskwire.unpack(RSDS_WIRE)
    assert len(frames) == 2
    assert frames[0].nbytes == 0
    assert frames[1].nbytes == 0x26
    message = {"op": "key-in-memory", "key": "hello", "type": b"\x01\x02\x03"}
    for mode in ("forwarding", "consuming"):
        _check(message, daskwire.decode(frames, mode=mode))
    assert daskwire.pack_bytes(daskwire.encode(message)).hex() == RSDS_WIRE.hex()
    [streamed] = daskwire.FrameReader().feed(RSDS_WIRE)
    assert hexes(streamed) == hexes(frames)


# -- hand-derived lz4 blocks (CP-12, CP-13) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lz4Block:
    """An lz4 frame written by hand: size prefix, then sequences (token, literals, offset)."""

    id: str
    frame: str
    #: What it decompresses to, or None when the spec rejects it.
    data: bytes | None
    #: Whether liblz4 (python-lz4, cramjam) accepts it all the same.
    liblz4_accepts: bool = True


LZ4_BLOCKS = [
    Lz4Block(
        "match-12-from-end",
        "10000000  40 61626364 0400  80 6566676869 6a6b6c",
        b"abcdabcdefghijkl",
    ),
    Lz4Block("last-5-literals", "10000000  43 61626364 0400  50 6566676869", b"abcdabcdabcefghi"),
    Lz4Block(
        "long-literals-long-match",  # 16 literals, a match of 20 at offset 1, 5 literals
        f"29000000  ff 01 {'00' * 16} 0100 01  50 {'00' * 5}",
        bytes(41),
    ),
    Lz4Block("short-match-of-zeros", f"0d000000  10 00 0100  80 {'00' * 8}", bytes(13)),
    Lz4Block("literals-of-270", f"0e010000  f0 ff 00 {'00' * 270}", bytes(270)),
    Lz4Block(
        "zero-run-without-zero-pair",  # "a", 00, then 4 more zeros copied at offset 1
        "0e000000  20 6100 0100  80 6263646566676869",
        b"a" + bytes(5) + b"bcdefghi",
    ),
    Lz4Block(
        "offset-zero", "10000000  40 61626364 0000  80 6566676869 6a6b6c", None, liblz4_accepts=True
    ),
    Lz4Block(
        "offset-zero-after-long-literals",
        f"1c000000  f0 01 {'61' * 16} 0000  80 {'62' * 8}",
        None,
        liblz4_accepts=True,
    ),
    Lz4Block(
        "offset-before-start",
        "10000000  40 61626364 0500  80 6566676869 6a6b6c",
        None,
        liblz4_accepts=False,
    ),
    Lz4Block(
        "last-four-literals", "10000000  44 61626364 0400  40 65666768", None, liblz4_accepts=False
    ),
    Lz4Block(
        "match-11-from-end",
        "10000000  50 6162636465 0500  70 6566676869 6a6b",
        None,
        liblz4_accepts=False,
    ),
    Lz4Block("ends-with-match", "08000000  40 61626364 0400", None, liblz4_accepts=False),
]


def _liblz4_results(frame: bytes) -> list[bytes | None]:
    """python-lz4's and cramjam's outputs for a frame, None where they reject it."""
    results: list[bytes | None] = []
    for decompress_block in (lz4.block.decompress, cramjam.lz4.decompress_block):
        try:
            results.append(bytes(decompress_block(frame)))
        except (lz4.block.LZ4BlockError, cramjam.DecompressionError):
            results.append(None)
    return results


@pytest.mark.parametrize("case", LZ4_BLOCKS, ids=lambda c: c.id)
def test_hand_derived_lz4_blocks(case: Lz4Block) -> None:
    frame = hx(case.frame)
    independent = _liblz4_results(frame)
    if case.data is not None:
        assert decompress("lz4", frame, DEFAULT_LIMITS) == case.data
        assert independent == [case.data, case.data]
        return
    with pytest.raises(daskwire.InvalidCompressedData):
        decompress("lz4", frame, DEFAULT_LIMITS)
    # liblz4 accepts an offset of 0 and writes zeros for it; the reference does not (CP-13).
    assert [out is not None for out in independent] == [case.liblz4_accepts] * 2


def test_hand_checked_zlib_stream_of_ratio_nine() -> None:
    """The zlib frame of the zlib limit vectors: 108 zero bytes in 12 bytes (LM-5, LM-6)."""
    frame = hx("789c 6360a01f0000 006c0001")
    assert len(frame) == 12
    assert bytes(cramjam.zlib.decompress(frame)) == bytes(108)
    assert decompress("zlib", frame, DEFAULT_LIMITS) == bytes(108)
    # Adler-32 of 108 zero bytes: a = 1, b = 108.
    assert frame[-4:] == ((108 << 16) | 1).to_bytes(4, "big")


def test_str16_array16_map16_of_300_by_rule() -> None:
    """The 300-entry vectors' frame 1: two-byte lengths, big-endian (PL-1)."""
    import msgpack

    assert hx("da 012c") + b"a" * 300 == msgpack.packb("a" * 300)
    assert hx("c5 012c") + b"\xab" * 300 == msgpack.packb(b"\xab" * 300)
    assert hx("dc 012c") + b"\x07" * 300 == msgpack.packb([7] * 300)
    assert msgpack.packb({i: i for i in range(300)})[:3] == hx("de 012c")
