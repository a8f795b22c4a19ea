"""The comm handshake of dask-2023.11 (spec/dask-2023.11/handshake.md, DK-1 .. DK-7) in the
reference: `write_handshake`, `read_handshake`, `agree`, `handshake`.

Every expected frame is hex written by hand from the msgpack spec (fixmap 0x80 + n, fixstr
0xa0 + length, fixarray 0x90 + n, positive fixint, nil 0xc0, uint 8/16/32/64 0xcc..0xcf,
str 8 0xd9), never produced by the code under test. The tables run both ways: what
`write_handshake` writes, and what `read_handshake` makes of those same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from daskwire import (
    Category,
    ConnectionOptions,
    DaskwireError,
    InvalidHandshake,
    Limits,
    get_profile,
)
from daskwire.dask_2023_11 import (
    agree,
    handshake,
    pack_bytes,
    read_handshake,
    unpack,
    write_handshake,
)
from daskwire.dask_2023_11.handshake import PYTHON_VERSION
from hypothesis import given
from hypothesis import strategies as st

from .common import K_COMP, K_SER, V_LZ4, V_ZLIB, category_of, fixed_settings, hexes, hx, nsf

pytestmark = pytest.mark.timeout(60)

# -- the handshake's keys and values, by hand ------------------------------------------------

K_PYTHON = "a6 707974686f6e"  # "python" (6 bytes)
K_PP = "af 7069636b6c652d70726f746f636f6c"  # "pickle-protocol" (15 bytes)
PY_3_11_7 = "93 03 0b 07"  # [3, 11, 7]
NIL = "c0"
V_EMPTY = "a0"  # ""
V_SNAPPY = "a6 736e61707079"  # "snappy"
V_E_ACUTE = "a2 c3a9"  # "é": two UTF-8 bytes
#: 32 times "x": one past fixstr's 31, so str 8 (0xd9, one length byte).
V_X32 = "d9 20 " + "78" * 32

Opts = ConnectionOptions


def opts(compression: str | None, pickle_protocol: int) -> ConnectionOptions:
    return ConnectionOptions(compression=compression, pickle_protocol=pickle_protocol)


def hs(*entries: str) -> bytes:
    """A map frame from hex entries, each holding one key and its value (any count < 16)."""
    assert len(entries) < 16
    return hx(f"{0x80 + len(entries):02x} " + " ".join(entries))


def three(comp: str = NIL, pp: str = "05", py: str = PY_3_11_7) -> bytes:
    """A handshake frame as distributed writes it: compression, python, pickle-protocol."""
    return hs(f"{K_COMP} {comp}", f"{K_PYTHON} {py}", f"{K_PP} {pp}")


# -- 1. write_handshake, and read_handshake of the same bytes --------------------------------


@dataclass(frozen=True)
class Written:
    id: str
    options: ConnectionOptions
    frame: bytes
    python: tuple[int, int, int] = PYTHON_VERSION


WRITTEN = [
    # DK-2's example: 42 bytes, the 66 on the wire checked below.
    Written("nil-5", opts(None, 5), three()),
    Written("lz4-5", opts("lz4", 5), three(V_LZ4)),
    Written("zlib-5", opts("zlib", 5), three(V_ZLIB)),
    Written("snappy-4", opts("snappy", 4), three(V_SNAPPY, "04")),
    Written("empty-codec-0", opts("", 0), three(V_EMPTY, "00")),
    Written("utf8-codec", opts("é", 5), three(V_E_ACUTE)),
    Written("str8-codec", opts("x" * 32, 5), three(V_X32)),
    # integer forms of pickle-protocol at their boundaries (shortest form)
    Written("pp-127", opts(None, 127), three(pp="7f")),
    Written("pp-128", opts(None, 128), three(pp="cc 80")),
    Written("pp-256", opts(None, 256), three(pp="cd 0100")),
    Written("pp-65536", opts(None, 65_536), three(pp="ce 00010000")),
    Written("pp-2**32", opts(None, 2**32), three(pp="cf 0000000100000000")),
    Written("pp-2**64-1", opts(None, 2**64 - 1), three(pp="cf ffffffffffffffff")),
    # "python" is the argument, any three non-negative ints (DK-4)
    Written("python-3.12.0", opts("lz4", 5), three(V_LZ4, py="93 03 0c 00"), (3, 12, 0)),
    Written("python-uint8", opts(None, 5), three(py="93 03 0b cc c8"), (3, 11, 200)),
]


def written(table: list[Written]) -> list[object]:
    return [pytest.param(case, id=case.id) for case in table]


def test_dk2_example_hex() -> None:
    """The hand-written frame agrees with DK-2's 66 bytes: H=58, N=1, length 42."""
    assert len(three()) == 42
    wire = hx("3a00000000000000 0100000000000000 2a00000000000000") + three()
    assert len(wire) == 66
    assert pack_bytes(write_handshake(opts(None, 5))) == wire
    assert len(pack_bytes(write_handshake(opts("lz4", 5)))) == 69


@pytest.mark.parametrize("case", written(WRITTEN))
def test_write_handshake_bytes(case: Written) -> None:
    frames = write_handshake(case.options, case.python)
    assert hexes(frames) == [case.frame.hex()]


@pytest.mark.parametrize("case", written(WRITTEN))
def test_read_handshake_of_the_same_bytes(case: Written) -> None:
    got = read_handshake([case.frame])
    assert got == case.options
    assert type(got.pickle_protocol) is int
    # and from a real stream: the prelude, then the frame (DT-1)
    assert read_handshake(unpack(pack_bytes([case.frame]))) == case.options


def test_default_python_is_3_11_7() -> None:
    assert PYTHON_VERSION == (3, 11, 7)
    assert write_handshake(opts(None, 5)) == write_handshake(opts(None, 5), (3, 11, 7))


# -- 2. agree (DK-5) -------------------------------------------------------------------------

AGREE = [
    # (local, remote, agreed)
    pytest.param(opts("lz4", 5), opts("lz4", 5), opts("lz4", 5), id="same-codec"),
    pytest.param(opts("zlib", 5), opts("zlib", 4), opts("zlib", 4), id="same-codec-min-pp"),
    pytest.param(opts("lz4", 5), opts("zlib", 5), opts(None, 5), id="different-codecs"),
    pytest.param(opts("lz4", 5), opts("snappy", 3), opts(None, 3), id="different-codecs-min"),
    pytest.param(opts(None, 5), opts(None, 5), opts(None, 5), id="nil-nil"),
    pytest.param(opts(None, 5), opts("lz4", 5), opts(None, 5), id="nil-vs-str"),
    pytest.param(opts("lz4", 5), opts(None, 5), opts(None, 5), id="str-vs-nil"),
    pytest.param(opts("", 5), opts(None, 5), opts(None, 5), id="empty-str-vs-nil"),
    pytest.param(opts("", 5), opts("", 5), opts("", 5), id="empty-str-both"),
    # codec names compare exactly: no case folding, no aliases
    pytest.param(opts("lz4", 5), opts("LZ4", 5), opts(None, 5), id="case-differs"),
    pytest.param(opts(None, 4), opts(None, 5), opts(None, 4), id="local-lower-pp"),
    pytest.param(opts(None, 5), opts(None, 4), opts(None, 4), id="remote-lower-pp"),
    pytest.param(opts(None, 0), opts(None, 2**64 - 1), opts(None, 0), id="pp-extremes"),
    pytest.param(
        opts(None, 2**64 - 1), opts(None, 2**64 - 1), opts(None, 2**64 - 1), id="pp-huge-both"
    ),
]


@pytest.mark.parametrize(("local", "remote", "agreed"), AGREE)
def test_agree(local: Opts, remote: Opts, agreed: Opts) -> None:
    assert agree(local, remote) == agreed
    # DK-5: the other side computes the same options from the same two handshakes
    assert agree(remote, local) == agreed


@pytest.mark.parametrize(("local", "remote", "agreed"), AGREE)
def test_handshake_one_side(local: Opts, remote: Opts, agreed: Opts) -> None:
    """`handshake` writes this side's frames and agrees with the peer's (DK-1, DK-5)."""
    mine, got = handshake(local, write_handshake(remote))
    assert hexes(mine) == hexes(write_handshake(local))
    assert got == agreed
    theirs, other = handshake(remote, mine)
    assert read_handshake(theirs) == remote
    assert other == got


def test_profile_registry_has_the_handshake() -> None:
    profile = get_profile("dask-2023.11")
    assert profile.handshake is handshake
    assert profile.handshake(opts("lz4", 5), [three(V_LZ4, "04")], Limits())[1] == opts("lz4", 4)


# -- 3. read_handshake: rejected (DK-3) and decoder errors keeping their categories ----------


@dataclass(frozen=True)
class Bad:
    id: str
    frames: list[bytes]
    category: str
    limits: Limits = field(default_factory=Limits)


HS_INVALID = Category.INVALID_HANDSHAKE.value
#: A `__Set__` marker, {"__Set__": true, "as-list": []}: decodes to a SetValue, not a str.
SET_MARKER = "82 a7 5f5f5365745f5f c3 a7 61732d6c697374 90"

REJECTED = [
    # frame 0 is not a map
    Bad("batch-of-one", [hx("91") + three()], HS_INVALID),
    Bad("empty-batch", [hx("90")], HS_INVALID),
    Bad("str", [hx("a2 4f4b")], HS_INVALID),  # "OK"
    Bad("nil", [hx(NIL)], HS_INVALID),
    Bad("int", [hx("05")], HS_INVALID),
    Bad("bin", [hx("c4 00")], HS_INVALID),
    # a key missing
    Bad("empty-map", [hs()], HS_INVALID),
    Bad("no-compression", [hs(f"{K_PYTHON} {PY_3_11_7}", f"{K_PP} 05")], HS_INVALID),
    Bad("no-pickle-protocol", [hs(f"{K_COMP} {NIL}", f"{K_PYTHON} {PY_3_11_7}")], HS_INVALID),
    # the key as bin, not str: no "compression" key at all
    Bad(
        "compression-bin-key",
        [hs(f"c4 0b {K_COMP[3:]} {NIL}", f"{K_PYTHON} {PY_3_11_7}", f"{K_PP} 05")],
        HS_INVALID,
    ),
    # "compression" neither str nor nil
    Bad("compression-int", [three("05")], HS_INVALID),
    Bad("compression-bin", [three("c4 03 6c7a34")], HS_INVALID),  # b"lz4"
    Bad("compression-true", [three("c3")], HS_INVALID),
    Bad("compression-false", [three("c2")], HS_INVALID),
    Bad("compression-array", [three(f"91 {V_LZ4}")], HS_INVALID),
    Bad("compression-map", [three("80")], HS_INVALID),
    Bad("compression-float", [three("cb 3ff0000000000000")], HS_INVALID),  # 1.0
    Bad("compression-set-marker", [three(SET_MARKER)], HS_INVALID),
    # a `__Serialized__` marker with its sub-header: decodes to an Offloaded value
    Bad("compression-serialized", [three(f"81 {K_SER} 01"), hs(f"{nsf(0)}")], HS_INVALID),
    # "pickle-protocol" not a non-negative integer
    Bad("pp-str", [three(pp="a1 35")], HS_INVALID),  # "5"
    Bad("pp-true", [three(pp="c3")], HS_INVALID),
    Bad("pp-false", [three(pp="c2")], HS_INVALID),
    Bad("pp-minus-1", [three(pp="ff")], HS_INVALID),
    Bad("pp-int8", [three(pp="d0 80")], HS_INVALID),  # -128
    Bad("pp-int64-min", [three(pp="d3 8000000000000000")], HS_INVALID),
    Bad("pp-float64", [three(pp="cb 4014000000000000")], HS_INVALID),  # 5.0
    Bad("pp-float32", [three(pp="ca 40a00000")], HS_INVALID),  # 5.0 as float 32
    Bad("pp-nil", [three(pp=NIL)], HS_INVALID),
    Bad("pp-array", [three(pp="91 05")], HS_INVALID),
    Bad("pp-bin", [three(pp="c4 01 05")], HS_INVALID),
    # errors of the underlying decode keep their own categories
    Bad("zero-frames", [], "too-few-frames"),
    Bad("empty-frame", [b""], "invalid-msgpack"),
    Bad("never-used-byte", [hx("c1")], "invalid-msgpack"),
    Bad("truncated", [three()[:-1]], "invalid-msgpack"),
    Bad("trailing-byte", [three() + hx("c0")], "invalid-msgpack"),
    Bad("bad-utf8", [three("a1 ff")], "invalid-msgpack"),
    Bad(
        "repeated-key", [hs(f"{K_COMP} {NIL}", f"{K_COMP} {NIL}", f"{K_PP} 05")], "invalid-map-key"
    ),
    Bad("ext-type", [three("d4 01 00")], "unsupported-type"),
    Bad("marker-past-last-frame", [three(f"81 {K_SER} 01")], "frame-out-of-range"),
    Bad("bad-set-marker", [three("81 a7 5f5f5365745f5f 90")], "invalid-marker"),
    Bad("frame-over-limit", [three()], "limit-exceeded", Limits(max_frame_bytes=41)),
    Bad("depth-over-limit", [three()], "limit-exceeded", Limits(max_depth=1)),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REJECTED])
def test_read_handshake_rejects(case: Bad) -> None:
    with pytest.raises(DaskwireError) as info:
        read_handshake(case.frames, case.limits)
    assert category_of(info.value) == case.category
    if case.category == HS_INVALID:
        assert type(info.value) is InvalidHandshake
        assert info.value.requirement == "DK-3"
    # `handshake` raises the same for the same peer frames
    with pytest.raises(DaskwireError) as again:
        handshake(opts("lz4", 5), case.frames, case.limits)
    assert again.value.category == info.value.category


def test_limits_at_the_boundary_accept() -> None:
    """The limit rows above fail by one: exactly 42 bytes and depth 2 pass."""
    got = read_handshake([three()], Limits(max_frame_bytes=42, max_depth=2))
    assert got == opts(None, 5)


# -- 4. read_handshake: accepted (DK-3 ignores every other key) ------------------------------

ACCEPTED = [
    pytest.param([three()], opts(None, 5), id="as-distributed-writes-it"),
    pytest.param([hs(f"{K_COMP} {NIL}", f"{K_PP} 05")], opts(None, 5), id="no-python"),
    pytest.param([three(py=NIL)], opts(None, 5), id="python-nil"),
    pytest.param([three(py="a4 332e3131")], opts(None, 5), id="python-str"),  # "3.11"
    pytest.param([three(py="90")], opts(None, 5), id="python-empty-array"),
    pytest.param([three(py="93 ff ff ff")], opts(None, 5), id="python-negative"),
    pytest.param([three(py="c4 01 00")], opts(None, 5), id="python-bin"),
    pytest.param([three(py="81 a1 61 80")], opts(None, 5), id="python-map"),
    pytest.param(
        [hs(f"{K_PP} 04", f"{K_PYTHON} {PY_3_11_7}", f"{K_COMP} {V_LZ4}")],
        opts("lz4", 4),
        id="keys-reversed",
    ),
    pytest.param(
        [hs(f"{K_PYTHON} {PY_3_11_7}", f"{K_PP} 05", f"{K_COMP} {V_ZLIB}")],
        opts("zlib", 5),
        id="keys-rotated",
    ),
    pytest.param(
        [hs(f"{K_COMP} {NIL}", "a1 78 01", f"{K_PP} 05", "c0 c0", "01 c3", "a7 61646472657373 90")],
        opts(None, 5),
        id="extra-keys",  # "x": 1, nil: nil, 1: true, "address": []
    ),
    pytest.param([three(pp="cf ffffffffffffffff")], opts(None, 2**64 - 1), id="pp-2**64-1"),
    pytest.param([three(pp="00")], opts(None, 0), id="pp-0"),
    # a non-shortest form of 5 is still the integer 5
    pytest.param([three(pp="cf 0000000000000005")], opts(None, 5), id="pp-uint64-5"),
    pytest.param([three(pp="d0 05")], opts(None, 5), id="pp-int8-5"),
    pytest.param([three(V_EMPTY)], opts("", 5), id="compression-empty-str"),
    pytest.param([three("a7 756e6b6e6f776e")], opts("unknown", 5), id="compression-unknown"),
    pytest.param([three("d9 03 6c7a34")], opts("lz4", 5), id="compression-str8-form"),
    # frames no marker claims are dropped, as distributed's loads drops them (DM-10)
    pytest.param([three(), b"xx"], opts(None, 5), id="extra-frame"),
]


@pytest.mark.parametrize(("frames", "expected"), ACCEPTED)
def test_read_handshake_accepts(frames: list[bytes], expected: Opts) -> None:
    got = read_handshake(frames)
    assert got == expected
    assert type(got.pickle_protocol) is int
    assert got.compression is None or type(got.compression) is str


# -- 5. write_handshake refuses bad local options --------------------------------------------

BAD_LOCAL = [
    pytest.param(b"lz4", 5, id="compression-bytes"),
    pytest.param(5, 5, id="compression-int"),
    pytest.param(True, 5, id="compression-bool"),
    pytest.param(["lz4"], 5, id="compression-list"),
    pytest.param(None, "5", id="pp-str"),
    pytest.param(None, True, id="pp-true"),
    pytest.param(None, False, id="pp-false"),
    pytest.param(None, -1, id="pp-negative"),
    pytest.param(None, 5.0, id="pp-float"),
    pytest.param(None, None, id="pp-none"),
]


@pytest.mark.parametrize(("compression", "pickle_protocol"), BAD_LOCAL)
def test_write_handshake_refuses_bad_options(compression: object, pickle_protocol: object) -> None:
    local = ConnectionOptions(compression=compression, pickle_protocol=pickle_protocol)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_handshake(local)
    with pytest.raises(TypeError):
        handshake(local, [three()])


def test_write_handshake_str_subclass_refused() -> None:
    """Exactly str: a subclass could change how the value compares in `agree`."""

    class Codec(str):
        __slots__ = ()

    with pytest.raises(TypeError):
        write_handshake(opts(Codec("lz4"), 5))


#: `python` values a writer refuses: DK-2 wants three non-negative integers.
BAD_PYTHON = [
    pytest.param((3, 11), id="two-parts"),
    pytest.param((3, 11, 7, 0), id="four-parts"),
    pytest.param((-1, 12, 0), id="negative"),
    pytest.param((3, True, 0), id="bool"),
    pytest.param((3, 11, 7.0), id="float"),
    pytest.param(("3", "11", "7"), id="str"),
]


@pytest.mark.parametrize("python", BAD_PYTHON)
def test_write_handshake_refuses_bad_python(python: tuple[object, ...]) -> None:
    with pytest.raises(TypeError):
        write_handshake(opts("lz4", 5), python)  # type: ignore[arg-type]


# -- 6. properties ---------------------------------------------------------------------------

#: What msgpack can write: str without lone surrogates, unsigned integers up to 2**64 - 1.
codecs = st.none() | st.text(st.characters(codec="utf-8"), max_size=40)
protocols = st.integers(min_value=0, max_value=2**64 - 1)
options = st.builds(ConnectionOptions, compression=codecs, pickle_protocol=protocols)
pythons = st.tuples(*[st.integers(min_value=0, max_value=2**64 - 1)] * 3)


@fixed_settings(300)
@given(options, pythons)
def test_read_inverts_write(local: Opts, python: tuple[int, int, int]) -> None:
    frames = write_handshake(local, python)
    assert len(frames) == 1
    assert read_handshake(frames) == local
    assert read_handshake(unpack(pack_bytes(frames))) == local


@fixed_settings(300)
@given(options, options)
def test_both_sides_agree(a: Opts, b: Opts) -> None:
    """DK-5: each side computes the same options from the bytes actually exchanged."""
    a_writes, a_agrees = handshake(a, write_handshake(b))
    b_writes, b_agrees = handshake(b, a_writes)
    assert a_agrees == b_agrees == agree(a, b) == agree(b, a)
    assert read_handshake(b_writes) == b
    assert a_agrees.pickle_protocol == min(a.pickle_protocol, b.pickle_protocol)
    if a.compression == b.compression:
        assert a_agrees.compression == a.compression
    else:
        assert a_agrees.compression is None
