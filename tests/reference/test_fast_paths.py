"""The compiled scanner and the fast paths it vouches for: tables of hand-derived bytes, and
every golden vector run with the scanner on and off, which must agree."""

from __future__ import annotations

import array
import contextlib
import ctypes
import gc
import importlib
import os
import sys
from typing import Any

import daskwire
import msgpack
import pytest
from daskwire import DEFAULT_LIMITS, DaskwireError, Limits, Materialized, Offloaded, payload
from daskwire.limits import MSGPACK_MAX_DEPTH
from daskwire.notation import NotationError, difference, frame_from_notation, from_notation
from daskwire.placeholder_v1 import accel
from daskwire_conformance.common.suite import load_vectors
from hypothesis import given
from hypothesis import strategies as st

from .strategies import fixed_settings, hx, pure_python

SCAN = accel.scan


def test_scanner_is_built_unless_turned_off() -> None:
    """A missing build must not pass quietly as 'pure Python': setup.sh builds it."""
    if os.environ.get(accel.ENV_PURE_PYTHON, "") not in ("", "0"):
        assert accel.scan is None
        assert accel.frames_ok is None
        assert accel.build is None
        assert accel.pack is None
        assert accel.decode is None
    else:
        assert accel.scan is not None, (
            "daskwire.placeholder_v1._scan is not built: run scripts/setup.sh"
        )
        assert accel.frames_ok is not None
        assert accel.build is not None
        assert accel.pack is not None
        assert accel.decode is not None


_WITHOUT_SCANNER = pytest.mark.skipif(
    SCAN is None, reason="DASKWIRE_PURE_PYTHON=1: the C extension is off in this run"
)


def needs_scanner(test: Any) -> Any:
    """Marks a test of the C extension: `-m "not compiled"` deselects it (scripts/test.sh)."""
    return pytest.mark.compiled(_WITHOUT_SCANNER(test))


# Placeholder pieces, as hex: the reserved keys are fixstr of 8 bytes (a8 + "_$header" ...).
HEADER = "a8 5f 24 68 65 61 64 65 72"
FINDEX = "a8 5f 24 66 69 6e 64 65 78"
FCOUNT = "a8 5f 24 66 63 6f 75 6e 74"
EMPTY_PLACEHOLDER = f"83 {HEADER} 80 {FINDEX} 00 {FCOUNT} 00"
SEVENTEEN_KEYS = "de 00 11 " + " ".join(f"{i:02x} c0" for i in range(17))
SEVENTEEN_WITH_REPEAT = "de 00 11 " + " ".join(f"{i:02x} c0" for i in [*range(16), 3])

# (id, payload hex, max_depth, max_bin, scan result): >= 0 vouched (the placeholder count),
# -1 not vouched. Every row is derived by hand from the msgpack spec, not from the scanner.
ROWS: list[tuple[str, str, int, int, int]] = [
    ("empty-map", "80", 256, -1, 0),
    ("empty-array", "90", 256, -1, 0),
    ("str-key", "81 a1 61 01", 256, -1, 0),
    # 127 fixint, 128 uint8, -32 negative fixint, -33 int8: each in its shortest form.
    ("int-keys-shortest", "84 7f c0 cc 80 c0 e0 c0 d0 df c0", 256, -1, 0),
    ("uint16-key-shortest", "81 cd 01 00 c0", 256, -1, 0),
    ("int16-key-shortest", "81 d1 ff 7f c0", 256, -1, 0),
    ("nil-key", "81 c0 01", 256, -1, 0),
    ("bin-key", "81 c4 01 6b 01", 256, -1, 0),
    ("array-key", "81 92 01 a1 61 c0", 256, -1, 0),
    ("str8-key-of-32", "81 d9 20 " + "61 " * 32 + "c0", 256, -1, 0),
    ("float64-value", "81 a1 66 cb 3f f0 00 00 00 00 00 00", 256, -1, 0),
    ("bool-values", "92 c2 c3", 256, -1, 0),
    ("wide-int-value", "81 a1 61 cd 00 01", 256, -1, 0),
    ("str8-value", "81 a1 61 d9 01 62", 256, -1, 0),
    ("seventeen-keys", SEVENTEEN_KEYS, 256, -1, 0),
    ("placeholder", f"81 a1 76 {EMPTY_PLACEHOLDER}", 256, -1, 1),
    ("placeholder-keys-reordered", f"91 83 {FCOUNT} 00 {FINDEX} 00 {HEADER} 80", 256, -1, 1),
    ("two-placeholders", f"92 {EMPTY_PLACEHOLDER} {EMPTY_PLACEHOLDER}", 256, -1, 2),
    ("depth-at-limit", "91 91 90", 3, -1, 0),
    ("key-depth-at-limit", "81 91 91 01 c0", 3, -1, 0),
    ("bin-at-max", "91 c4 02 61 62", 256, 2, 0),
    ("str-over-max-bin", "91 a2 61 62", 256, 1, 0),
    # Not vouched: the exact path decides.
    ("empty-input", "", 256, -1, -1),
    ("scalar-message", "01", 256, -1, -1),
    ("str-message", "a1 61", 256, -1, -1),
    ("trailing-byte", "80 00", 256, -1, -1),
    ("truncated-map", "81 a1 61", 256, -1, -1),
    ("truncated-str", "81 a1 61 a3 62", 256, -1, -1),
    ("truncated-uint16", "91 cd 01", 256, -1, -1),
    ("never-used-c1", "91 c1", 256, -1, -1),
    ("float32", "91 ca 3f 80 00 00", 256, -1, -1),
    ("fixext1", "91 d4 01 00", 256, -1, -1),
    ("ext8", "91 c7 01 01 00", 256, -1, -1),
    ("timestamp32", "91 d6 ff 00 00 00 01", 256, -1, -1),
    ("bool-key", "81 c3 01", 256, -1, -1),
    ("float64-key", "81 cb 3f f0 00 00 00 00 00 00 01", 256, -1, -1),
    ("map-key", "81 80 01", 256, -1, -1),
    ("map-inside-array-key", "81 91 80 01", 256, -1, -1),
    ("float-inside-array-key", "81 91 cb 3f f0 00 00 00 00 00 00 01", 256, -1, -1),
    ("repeated-key", "82 a1 61 01 a1 61 02", 256, -1, -1),
    ("repeated-key-of-seventeen", SEVENTEEN_WITH_REPEAT, 256, -1, -1),
    ("wide-uint8-key", "81 cc 01 01", 256, -1, -1),
    ("wide-int8-key", "81 d0 ff 01", 256, -1, -1),
    ("wide-int16-key", "81 d1 ff 80 01", 256, -1, -1),
    ("wide-str8-key", "81 d9 01 61 01", 256, -1, -1),
    ("wide-bin16-key", "81 c5 00 01 61 01", 256, -1, -1),
    ("wide-array16-key", "81 dc 00 01 01 01", 256, -1, -1),
    ("reserved-key-alone", f"81 {HEADER} 80", 256, -1, -1),
    ("placeholder-with-extra-key", f"84 {HEADER} 80 {FINDEX} 00 {FCOUNT} 00 a1 78 00", 256, -1, -1),
    (
        "placeholder-in-header",
        f"91 83 {HEADER} {EMPTY_PLACEHOLDER} {FINDEX} 00 {FCOUNT} 00",
        256,
        -1,
        -1,
    ),
    (
        "placeholder-in-findex",
        f"91 83 {HEADER} 80 {FINDEX} {EMPTY_PLACEHOLDER} {FCOUNT} 00",
        256,
        -1,
        -1,
    ),
    ("too-deep", "91 91 90", 2, -1, -1),
    ("max-depth-zero", "80", 0, -1, -1),
    ("key-too-deep", "81 91 91 01 c0", 2, -1, -1),
    ("bin-over-max", "91 c4 02 61 62", 256, 1, -1),
    ("map32-count-past-the-end", "df ff ff ff ff", 256, -1, -1),
    ("array32-count-past-the-end", "dd ff ff ff ff 00", 256, -1, -1),
    ("str32-length-past-the-end", "91 db ff ff ff ff 00", 256, -1, -1),
    ("bin32-length-past-the-end", "91 c6 ff ff ff ff 00", 256, -1, -1),
]
IDS = [row[0] for row in ROWS]


@needs_scanner
@pytest.mark.parametrize(
    ("payload_hex", "max_depth", "max_bin", "want"), [r[1:] for r in ROWS], ids=IDS
)
def test_scan(payload_hex: str, max_depth: int, max_bin: int, want: int) -> None:
    assert SCAN is not None
    assert SCAN(hx(payload_hex), max_depth, max_bin) == want


@needs_scanner
@pytest.mark.parametrize(
    ("payload_hex", "max_depth", "want"),
    [(r[1], r[2], r[4]) for r in ROWS if r[3] < 0],
    ids=[r[0] for r in ROWS if r[3] < 0],
)
def test_scan_vouches_only_for_what_the_exact_path_reads_alike(
    payload_hex: str, max_depth: int, want: int
) -> None:
    """The other direction: a vouched payload reads the same in msgpack's C unpacker and in
    the exact token walk, and decoding gives the same outcome with the scanner on and off."""
    data = hx(payload_hex)
    if want >= 0:
        fast = msgpack.unpackb(data, use_list=False, strict_map_key=False)
        exact = payload._parse_exact(memoryview(data), dict, max_depth)
        assert difference(fast, exact) is None
    limits = Limits(max_depth=max_depth)
    frames = [b"", data]
    assert _outcome(frames, limits) == _outcome(frames, limits, pure=True)


def _outcome(frames: list[Any], limits: Limits, *, pure: bool = False) -> tuple[str, Any]:
    def run() -> tuple[str, Any]:
        results = []
        for mode in ("forwarding", "consuming"):
            try:
                results.append(daskwire.decode(frames, mode=mode, limits=limits))  # type: ignore[arg-type]
            except DaskwireError as exc:
                return "error", (exc.category.value, exc.requirement)
            except (TypeError, ValueError) as exc:  # not frames at all: a caller's mistake
                return "refused", type(exc).__name__
        return "ok", results

    if not pure:
        return run()
    with pure_python():
        return run()


@needs_scanner
def test_scan_refuses_a_depth_cap_it_cannot_honour() -> None:
    """Whatever max_depth allows, the C path walks at most DEPTH_CAP levels (C stack)."""
    assert SCAN is not None
    cap = MSGPACK_MAX_DEPTH  # Limits refuses a deeper max_depth too
    with pytest.raises(ValueError, match="max_depth"):
        SCAN(b"\x80", cap + 1, -1)
    walked = importlib.import_module("daskwire.placeholder_v1._scan").DEPTH_CAP
    assert SCAN(b"\x91" * (walked - 1) + b"\x90", cap, -1) == 0
    assert SCAN(b"\x91" * walked + b"\x90", cap, -1) == -1


@needs_scanner
def test_scan_handles_many_keys_in_nested_maps() -> None:
    """Key spans of outer maps survive the growth of the key stack by inner maps."""
    inner = {f"k{i}": i for i in range(300)}
    message = {f"o{i}": dict(inner) for i in range(40)}
    body = msgpack.packb(message, use_bin_type=True)
    assert SCAN is not None
    assert SCAN(body, 256, -1) == 0
    assert SCAN(body[:-1] + b"\x01", 256, -1) == 0
    repeated = body.replace(b"\xa3k99", b"\xa3k98", 1)
    assert SCAN(repeated, 256, -1) == -1


_RELEASED = memoryview(b"\x80")
_RELEASED.release()

# (id, frames, limits, frames_ok): True means flat byte frames within layer 1's limits.
FRAME_ROWS: list[tuple[str, Any, Limits, bool]] = [
    ("bytes", [b"", b"\x80"], Limits(), True),
    ("bytearray", [b"", bytearray(b"\x80")], Limits(), True),
    ("memoryview", [b"", memoryview(b"\x80")], Limits(), True),
    ("tuple", (b"", b"\x80"), Limits(), True),
    ("at-max-frames", [b"", b"\x80"], Limits(max_frames=2), True),
    # 8-byte count + two 8-byte lengths + 1 payload byte = 25 bytes (WF-1).
    ("at-max-message-bytes", [b"", b"\x80"], Limits(max_message_bytes=25), True),
    ("at-max-frame-bytes", [b"", b"\x80"], Limits(max_frame_bytes=1), True),
    ("too-few", [b""], Limits(), False),
    ("over-max-frames", [b"", b"\x80", b""], Limits(max_frames=2), False),
    ("over-max-message-bytes", [b"", b"\x80"], Limits(max_message_bytes=24), False),
    ("over-max-frame-bytes", [b"", b"\x80\x80"], Limits(max_frame_bytes=1), False),
    ("int-memoryview", [b"", memoryview(array.array("i", [1]))], Limits(), False),
    ("strided-memoryview", [b"", memoryview(b"\x80\x00\x80\x00")[::2]], Limits(), False),
    ("released-memoryview", [b"", _RELEASED], Limits(), False),
    ("str-frame", [b"", "\x80"], Limits(), False),
    ("array-frame", [b"", array.array("B", [0x80])], Limits(), False),
    ("iterator", iter([b"", b"\x80"]), Limits(), False),
    ("huge-limits", [b"", b"\x80"], Limits(max_frames=2**70, max_message_bytes=2**70), True),
]


@needs_scanner
@pytest.mark.parametrize(
    ("frames", "limits", "want"), [r[1:] for r in FRAME_ROWS], ids=[r[0] for r in FRAME_ROWS]
)
def test_frames_ok(frames: Any, limits: Limits, want: bool) -> None:
    check = accel.frames_ok
    assert check is not None
    got = check(frames, limits.max_frames, limits.max_frame_bytes, limits.max_message_bytes)
    assert got is want
    if isinstance(frames, list | tuple):
        # The other direction: decode agrees with the exact path either way.
        assert _outcome(frames, limits) == _outcome(frames, limits, pure=True)


# -- every golden vector, scanner on and off --------------------------------------------------

VECTORS = [
    v for v in load_vectors() if v.kind in ("decode", "reject-decode", "encode", "reject-encode")
]


def _run_vector(vector: Any) -> Any:
    data = vector.input
    if vector.kind in ("encode", "reject-encode"):
        options = data["options"]
        try:
            message = from_notation(data["message"])
        except NotationError as exc:  # an offloaded value in a key has no Python value
            return ("unbuildable", str(exc))
        limits = Limits(**dict(data.get("limits") or {}))
        try:
            # no shard_size in the options: the encoder's default
            frames = daskwire.encode(message, **options, limits=limits)
        except DaskwireError as exc:
            return ("error", exc.category.value, exc.requirement)
        return ("ok", [bytes(f) for f in frames])
    frames = [frame_from_notation(f) for f in data["frames"]]
    limits = Limits(**dict(data.get("limits") or {}))
    out = []
    for mode in ("forwarding", "consuming"):
        try:
            decoded = daskwire.decode(frames, mode=mode, limits=limits)  # type: ignore[arg-type]
        except DaskwireError as exc:
            out.append(("error", exc.category.value, exc.requirement))
        else:
            out.append(("ok", decoded))
    return out


def _same(a: Any, b: Any) -> bool:
    return difference(a, b) is None if not isinstance(a, tuple | list) else _same_results(a, b)


def _same_results(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (
            isinstance(x, tuple)
            and x
            and x[0] == "ok"
            and isinstance(y, tuple)
            and y
            and y[0] == "ok"
        ):
            if difference(x[1], y[1]) is not None:
                return False
        elif isinstance(x, list) and isinstance(y, list):
            if not _same_results(x, y):
                return False
        elif x != y:
            return False
    return True


@needs_scanner
@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_vector_agrees_with_scanner_off(vector: Any) -> None:
    """The same frames, values and errors (category and requirement) on both paths."""
    fast = _run_vector(vector)
    with pure_python():
        exact = _run_vector(vector)
    assert _same(fast, exact), (fast, exact)


# -- the encoder: what only the exact walk decides ---------------------------------------------


class _Str(str):
    """A str subclass, outside the value model."""


@needs_scanner
@pytest.mark.parametrize(
    "message",
    [
        {"f": daskwire.Float32(1.5)},
        {"b": b"x" * 65_537},
        {"h": Offloaded({"x": b"x" * 65_537}, [b"a"])},
        {_Str("k"): 1},
        {"k": _Str("v")},
        {"m": Materialized({"_$header": 1}, [])},
        {"n": 2**64},
        {"u": "\udfff"},
        {"_$header": {}, "_$findex": 0, "_$fcount": 0},
        {"o": Offloaded({"o": Offloaded({}, [])}, [])},
        {True: 1},
        {1.5: 1},
    ],
    ids=lambda m: repr(m)[:40],
)
def test_encode_agrees_where_the_fast_path_steps_aside(message: Any) -> None:
    fast = _encode_outcome(message)
    with pure_python():
        exact = _encode_outcome(message)
    assert fast == exact


def _encode_outcome(message: Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        return [bytes(f) for f in daskwire.encode(message, limits=limits)]
    except DaskwireError as exc:
        return (exc.category.value, exc.requirement)


# -- boundaries of every msgpack form, compiled and exact side by side --------------------------

_EDGES = [0, 1, 31, 32, 255, 256]
_BIG_EDGES = [65_535, 65_536]  # str16 / str32 and bin16 / bin32; kept rare, they are slow
_INTS = st.sampled_from(
    [
        *(
            v
            for e in (0, 7, 8, 15, 16, 31, 32, 63, 64)
            for v in (2**e - 1, 2**e, -(2**e), -(2**e) - 1)
        ),
        -33,
        -32,
        127,
        128,
        2**64 - 1,
        -(2**63),
    ]
)
_STRS = st.one_of(
    st.sampled_from(_EDGES).map(lambda n: "s" * n),
    st.text(max_size=6),
    st.text(max_size=6),
    st.text(max_size=6),
    st.sampled_from(_BIG_EDGES).map(lambda n: "s" * n),
)
_BINS = st.one_of(
    st.sampled_from(_EDGES).map(lambda n: b"b" * n),
    st.binary(max_size=6),
    st.binary(max_size=6),
    st.binary(max_size=6),
    st.sampled_from([*_BIG_EDGES, 65_537]).map(lambda n: b"b" * n),
)
_EDGE_KEYS = st.one_of(_INTS, _STRS, _BINS, st.none(), st.tuples(_INTS, _STRS))
_EDGE_SCALARS = st.one_of(_INTS, _STRS, _BINS, st.none(), st.booleans(), st.floats(allow_nan=False))


def _edge_values(leaves: Any) -> Any:
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=17).map(tuple)
            | st.lists(inner, max_size=17)
            | st.dictionaries(_EDGE_KEYS, inner, max_size=17)
        ),
        max_leaves=40,
    )


_EDGE_OFFLOADS = st.builds(
    lambda h, f, wire: Offloaded(h, f) if wire else Materialized(h, f),
    st.dictionaries(_STRS, _edge_values(_EDGE_SCALARS), max_size=3),
    st.lists(_BINS, max_size=3),
    st.booleans(),
)


@needs_scanner
@fixed_settings(40, scaled=True)
@given(
    message=st.dictionaries(_EDGE_KEYS, _edge_values(_EDGE_SCALARS | _EDGE_OFFLOADS), max_size=17),
    depth=st.integers(1, 12),
)
def test_edges_encode_and_decode_alike(message: Any, depth: int) -> None:
    limits = Limits(max_depth=depth)
    fast = _encode_outcome(message, limits)
    with pure_python():
        exact = _encode_outcome(message, limits)
    assert fast == exact
    if isinstance(fast, list):
        assert _outcome(fast, limits) == _outcome(fast, limits, pure=True)


# -- hostile Python objects and direct calls: no crash, and the exact path decides --------------


@needs_scanner
def test_decode_survives_a_finalizer_that_clears_the_frames() -> None:
    """A collection during the build may run any __del__; the builder works on its own copy.
    The point is that nothing crashes (the sanitizer run checks memory too)."""
    body = msgpack.packb(
        [[1, 2, 3], [4, 5], [6], [7], {"_$header": _HEADER, "_$findex": 0, "_$fcount": 1}]
    )
    frames = [b"", body, b"z"]
    expected = _outcome(list(frames), DEFAULT_LIMITS, pure=True)

    class Trap:
        def __del__(self) -> None:
            frames.clear()

    threshold = gc.get_threshold()
    gc.disable()
    trap = Trap()
    trap.self = trap  # type: ignore[attr-defined]
    del trap
    gc.set_threshold(1, 0, 0)
    gc.enable()
    try:
        got = _outcome(frames, DEFAULT_LIMITS)
    finally:
        gc.set_threshold(*threshold)
    # Where the collection lands depends on what allocates first (a tracer, for one): inside
    # the build, which must then finish on its own copy, or before decode reads the list.
    assert got in (expected, ("error", ("too-few-frames", "WF-2")))


_HEADER = {"count": 1, "deserialize": False, "lengths": [1]}


class _EvilKey:
    """A header key whose __eq__ runs when a transport key is looked up next to it."""

    def __init__(self, like: str, action: Any) -> None:
        self.like, self.action = like, action

    def __hash__(self) -> int:
        return hash(self.like)

    def __eq__(self, other: object) -> bool:
        self.action()
        return False


@needs_scanner
def test_encode_survives_header_keys_that_run_code() -> None:
    """The packer steps aside for header keys that could run code during its lookups."""
    message: list[Any] = []
    header: dict[Any, Any] = {}
    header[_EvilKey("count", message.clear)] = 1
    message.extend([Offloaded(header, []), 1, 2, 3])
    with contextlib.suppress(DaskwireError):  # what it returns is the exact walk's business
        daskwire.encode(message)
    frames = [b"x"] * 300
    header2: dict[Any, Any] = {"count": 300}
    header2[_EvilKey("lengths", lambda: header2.pop("count", None))] = 0
    with pytest.raises(DaskwireError):  # the key itself is outside the profile (CE-11)
        daskwire.encode([Offloaded(header2, frames)])


@needs_scanner
def test_an_array_key_counts_towards_the_depth_limit() -> None:
    """PL-11 counts every array, keys included, so an encoder may not write a deeper key."""
    message: Any = {((),): 1}  # the map at depth 1, its key at 2, the key's element at 3
    fast = _encode_outcome(message, Limits(max_depth=2))
    with pure_python():
        exact = _encode_outcome(message, Limits(max_depth=2))
    assert fast == exact == ("limit-exceeded", "PL-11")
    assert _encode_outcome(message, Limits(max_depth=3)) == [b"", hx("81 91 90 01")]


@needs_scanner
def test_an_empty_many_dimensional_view_is_an_empty_bin() -> None:
    empty = memoryview(((ctypes.c_char * 0) * 3)())
    assert empty.shape == (3, 0)
    message = {"a": empty, "m": Materialized({}, [empty])}
    fast = _encode_outcome(message)
    with pure_python():
        exact = _encode_outcome(message)
    assert fast == exact
    assert fast[1] == hx("82 a1 61 c4 00 a1 6d") + fast[1][7:]


@needs_scanner
def test_direct_calls_stay_bounded() -> None:
    """The builder bounds its own depth; the packer refuses a depth the scanner could not."""
    assert accel.build is not None
    assert accel.pack is not None
    assert accel.build(b"\x91" * 100_000 + b"\x90", [b"", b""], False) is NotImplemented
    with pytest.raises(ValueError, match="max_depth"):
        accel.pack([], [], MSGPACK_MAX_DEPTH + 1, 1, 1, True)


@needs_scanner
def test_raw_byte_strings_take_the_fast_path() -> None:
    """A bin over the threshold is offloaded by the packer and rebuilt as a view (HD-9, HD-10)."""
    assert accel.pack is not None
    assert accel.build is not None
    big = b"z" * 70_000
    frames: list[Any] = []
    body = accel.pack({"b": big}, frames, 256, 64 * 2**20, 65_536, True)
    assert body is not NotImplemented
    assert frames == [big]
    assert frames[0] is big
    with pure_python():
        assert [b"", body, *frames] == daskwire.encode({"b": big})
    for consuming in (False, True):
        decoded = accel.build(body, [b"", body, big], consuming)
        assert isinstance(decoded["b"], memoryview)
        assert decoded["b"].obj is big


@needs_scanner
def test_most_valid_vectors_take_the_compiled_path() -> None:
    """The agreement above means something only if the compiled path really serves: it must
    vouch for most valid decode vectors (the rest hold float32, compression or merges)."""
    decode = accel.decode
    assert decode is not None
    valid = [v for v in VECTORS if v.kind == "decode"]
    served = 0
    for vector in valid:
        frames = [frame_from_notation(f) for f in vector.input["frames"]]
        limits = DEFAULT_LIMITS
        args = (limits.max_frames, limits.max_frame_bytes, limits.max_message_bytes)
        served += decode(frames, *args, limits.max_depth, False) is not NotImplemented
    assert served >= 0.6 * len(valid), (served, len(valid))


def test_without_the_extension_the_codec_runs_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build without the `_scan` extension (or DASKWIRE_PURE_PYTHON=1) leaves every hook None."""
    monkeypatch.setitem(sys.modules, "daskwire.placeholder_v1._scan", None)  # the import then fails
    monkeypatch.delenv(accel.ENV_PURE_PYTHON, raising=False)
    try:
        importlib.reload(accel)
        hooks = (accel.scan, accel.frames_ok, accel.build, accel.decode, accel.pack)
        assert hooks == (None,) * 5
        assert daskwire.decode(daskwire.encode({"a": 1})) == {"a": 1}
    finally:
        monkeypatch.undo()
        importlib.reload(accel)
    assert (accel.scan is None) == (SCAN is None)


class _Bytes(bytes):
    """A bytes subclass: a frame all the same, though not of an exact frame type."""


def test_frames_of_a_bytes_subclass_are_frames() -> None:
    value = Offloaded({}, [_Bytes(b"ab")])
    assert isinstance(value.frames[0], _Bytes)
    with pytest.raises(TypeError, match="not a bytes-like frame"):
        Materialized({}, [_Bytes(b"ab"), "ab"])  # type: ignore[list-item]
    fast = _encode_outcome({"v": value})
    with pure_python():
        assert fast == _encode_outcome({"v": value})
