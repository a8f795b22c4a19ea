"""Properties of the dask-2023.11 codec (hypothesis, bounded): round trips in the value model,
framing with every legal hint, and robustness: any input ends in a value or a DaskwireError."""

from __future__ import annotations

import itertools
import random
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import lz4.block
import pytest
from daskwire import Category, DaskwireError, Float32, Limits
from daskwire.dask_2023_11 import (
    CONSUMING,
    FORWARDING,
    FrameReader,
    decode,
    encode,
    pack,
    pack_bytes,
    unpack,
)
from daskwire.dask_2023_11.constants import RESERVED_KEYS, SERIALIZED_TRANSPORT_KEYS
from daskwire.model import EnumValue, Materialized, Offloaded, Pickled, SetValue
from daskwire.notation import difference
from hypothesis import example, given
from hypothesis import strategies as st

from .common import fixed_settings, hexes

pytestmark = pytest.mark.timeout(240)

#: Every category name: the only errors a decoder may raise.
CATEGORIES = frozenset(c.value for c in Category)
#: Any single decode, unpack or feed of these small inputs must finish well within this.
QUICK_SECONDS = 2.0

# -- the value model of dask-2023.11 (message.md DM-2, DM-12, DM-13) -------------------------

INTS = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([0, 1, -1, 127, 128, 255, 256, -32, -33, 2**32, 2**63, 2**64 - 1, -(2**63)]),
)
FLOAT32S = st.floats(width=32).map(Float32)
TEXTS = st.text(max_size=10).filter(lambda s: s not in RESERVED_KEYS)
BINS = st.binary(max_size=16)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    st.floats(),
    FLOAT32S,
    TEXTS,
    BINS,
    BINS.map(bytearray),
)

_KEY_ATOMS = st.one_of(
    TEXTS,
    BINS,
    INTS,
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.floats(width=32, allow_nan=False).map(Float32),
)
#: Map keys: str, bin, int, float32, float64, bool, nil and arrays of those (DM-2).
KEYS = st.recursive(_KEY_ATOMS, lambda k: st.lists(k, max_size=3).map(tuple), max_leaves=4)

SETS = st.lists(KEYS, max_size=4, unique=True).map(SetValue)
ENUMS = st.builds(EnumValue, st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))

#: Plain values for sub-headers: no markers, no offloaded values.
HEADER_VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS, c, max_size=3),
    max_leaves=5,
)
_SERIALIZER_KEYS = st.one_of(
    TEXTS.filter(lambda k: k not in SERIALIZED_TRANSPORT_KEYS),
    st.sampled_from(["serializer", "type", "type-serialized", "sub-headers", "writeable"]),
    INTS,
)


def serializer_headers() -> st.SearchStrategy[dict[Any, Any]]:
    return st.dictionaries(_SERIALIZER_KEYS, HEADER_VALUES, max_size=3)


def _compress(codec: str | None, data: bytes) -> bytes:
    if codec == "lz4":
        out: bytes = lz4.block.compress(data, store_size=True)
        return out
    if codec == "zlib":
        return zlib.compress(data)
    return data


@st.composite
def offloaded(draw: st.DrawFn) -> Offloaded:
    """Offloaded values in wire form: split metadata, compression and num-sub-frames present
    or absent, at any position among the serializer keys."""
    originals = draw(st.lists(BINS, max_size=3))
    wire: list[bytes] = []
    counts: list[int] = []
    offsets: list[int] = []
    codecs: list[str | None] = []
    for frame in originals:
        offsets.append(len(wire))
        cut = draw(st.integers(0, len(frame)))
        pieces = [frame[:cut], frame[cut:]] if cut and cut < len(frame) else [frame]
        counts.append(len(pieces))
        for piece in pieces:
            codec = draw(st.sampled_from([None, None, "lz4", "zlib"]))
            wire.append(_compress(codec, piece))
            codecs.append(codec)
    items = list(draw(serializer_headers()).items())
    transport: list[tuple[str, Any]] = []
    if draw(st.booleans()):
        transport += [("split-num-sub-frames", counts), ("split-offsets", offsets)]
    if draw(st.booleans()) or any(codecs):
        transport.append(("compression", codecs))
    if draw(st.booleans()):
        transport.append(("num-sub-frames", draw(st.integers(0, 9))))
    for key, value in transport:
        items.insert(draw(st.integers(0, len(items))), (key, value))
    return Offloaded(dict(items), wire)


_PICKLED_EXTRA = st.dictionaries(
    TEXTS.filter(lambda k: k not in ("pickled-obj", "compression", "num-sub-frames")),
    st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
    max_size=2,
)


@st.composite
def pickled(draw: st.DrawFn) -> Pickled:
    """Pickled values in wire form: dummy pickle bytes, buffers with any codec names."""
    buffers = draw(st.lists(BINS, max_size=2))
    header: dict[str, Any] = {"pickled-obj": draw(st.binary(max_size=12))}
    if draw(st.booleans()):
        header["compression"] = [draw(st.sampled_from([None, "lz4", "snappy"])) for _ in buffers]
    header.update(draw(_PICKLED_EXTRA))
    if draw(st.booleans()):
        header["num-sub-frames"] = 0
    return Pickled(header, buffers)


def materialized() -> st.SearchStrategy[Materialized]:
    return st.builds(Materialized, serializer_headers(), st.lists(BINS, max_size=3))


def messages(leaves: st.SearchStrategy[Any], max_leaves: int = 8) -> st.SearchStrategy[Any]:
    values = st.recursive(
        st.one_of(SCALARS, SETS, ENUMS, leaves),
        lambda c: st.one_of(
            st.lists(c, max_size=3),
            st.lists(c, max_size=3).map(tuple),
            st.dictionaries(KEYS, c, max_size=3),
        ),
        max_leaves=max_leaves,
    )
    maps = st.dictionaries(KEYS, values, max_size=4)
    return st.one_of(maps, st.lists(maps, max_size=3), st.lists(values, max_size=3))


# -- what a decoder yields for an encoded message --------------------------------------------


def plain(value: Any) -> Any:
    kind = type(value)
    if kind in (list, tuple):
        return tuple(plain(item) for item in value)
    if kind in (bytearray, memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def with_count(header: Mapping[Any, Any], frames: Any) -> dict[Any, Any]:
    """DR-3: `num-sub-frames` set to the frames sent, in place, or appended last."""
    out = dict(header)
    out["num-sub-frames"] = len(frames)
    return out


def expected(value: Any) -> Any:
    """What a decoder yields for an encoded `value`: forwarding for Offloaded and Pickled,
    consuming for Materialized."""
    kind = type(value)
    if kind in (Offloaded, Pickled):
        return kind(plain(with_count(value.header, value.frames)), [bytes(f) for f in value.frames])
    if kind is Materialized:
        return Materialized(plain(value.header), [bytes(f) for f in value.frames])
    if kind is SetValue:
        return SetValue([plain(item) for item in value.items])
    if kind in (list, tuple):
        return tuple(expected(item) for item in value)
    if isinstance(value, Mapping):
        return {key: expected(item) for key, item in value.items()}
    if kind in (bytearray, memoryview):
        return bytes(value)
    return value


def check_same(want: Any, got: Any) -> None:
    found = difference(want, got)
    assert found is None, found


def outcome(call: Callable[[], Any]) -> str | None:
    """The category of the DaskwireError that `call` raises (checked against its str), or
    None when it returns. Any other exception propagates and fails the test."""
    try:
        call()
    except DaskwireError as exc:
        text = str(exc)
        return exc.category.value if text.startswith(exc.category.value) else f"bad str: {text}"
    return None


# -- round trips ------------------------------------------------------------------------------


@fixed_settings(300)
@given(message=messages(st.one_of(offloaded(), pickled())))
def test_forwarding_round_trip(message: Any) -> None:
    """DR-1, DR-2, DR-3: wire-form values come back as sent, `num-sub-frames` set."""
    frames = encode(message)
    got = decode(frames, mode=FORWARDING)
    check_same(expected(message), got)
    assert hexes(encode(got)) == hexes(frames)  # forwarding again is byte-exact


@fixed_settings(300)
@given(
    message=messages(materialized()),
    shard_size=st.sampled_from([1, 2, 3, 7, 64 * 2**20]),
    compression=st.sampled_from([None, "lz4", "zlib"]),
)
def test_consuming_round_trip(message: Any, shard_size: int, compression: str | None) -> None:
    """DC-2, DR-4: original-form values come back after split (and compression) and merge."""
    frames = encode(message, shard_size=shard_size, compression=compression)
    check_same(expected(message), decode(frames, mode=CONSUMING))
    if compression is None:
        again = encode(decode(frames, mode=CONSUMING), shard_size=shard_size)
        assert hexes(again) == hexes(frames)


@fixed_settings(40)
@given(
    frames=st.lists(
        st.builds(
            lambda b, n: (b * (n // max(len(b), 1) + 1))[:n],
            st.binary(min_size=1, max_size=4),
            st.integers(10_000, 12_000),
        ),
        min_size=1,
        max_size=2,
    ),
    shard_size=st.sampled_from([6_000, 64 * 2**20]),
    compression=st.sampled_from(["lz4", "zlib"]),
)
def test_consuming_round_trip_of_compressed_shards(
    frames: list[bytes], shard_size: int, compression: str
) -> None:
    message = {"v": Materialized({"serializer": "dask"}, frames)}
    wire = encode(message, shard_size=shard_size, compression=compression)
    check_same(expected(message), decode(wire, mode=CONSUMING))


@fixed_settings(300)
@given(message=messages(st.one_of(offloaded(), pickled(), materialized())))
def test_every_encoded_message_decodes_in_both_modes(message: Any) -> None:
    """The encoder never writes frames a decoder refuses."""
    frames = encode(message)
    for mode in (FORWARDING, CONSUMING):
        decode(frames, mode=mode)


@fixed_settings(200)
@given(message=messages(st.one_of(offloaded(), pickled(), materialized())), depth=st.integers(1, 6))
@example(message={"": [Materialized({"": {((),): None}}, [])]}, depth=3)  # /tmp/codec-bugs.md #1
def test_encoder_and_decoder_agree_on_the_depth_limit(message: Any, depth: int) -> None:
    """DL-2: encode with a depth limit succeeds exactly when decoding its frames does."""
    limits = Limits(max_depth=depth)
    frames = encode(message)
    decoded = outcome(lambda: decode(frames, limits=limits))
    assert decoded in (None, "limit-exceeded")
    assert outcome(lambda: encode(message, limits=limits)) == decoded


# -- framing ----------------------------------------------------------------------------------


def legal_hints(frames: list[bytes]) -> list[int]:
    edges = [8 + 8 * len(frames)]
    for frame in frames:
        edges.append(edges[-1] + len(frame))
    return edges


@fixed_settings(300)
@given(frames=st.lists(st.binary(max_size=40), min_size=1, max_size=8))
def test_unpack_of_pack_with_every_legal_hint(frames: list[bytes]) -> None:
    """DT-3, DT-5: every boundary is a legal hint, and the frames never change."""
    for hint in legal_hints(frames):
        data = pack_bytes(frames, hint=hint)
        assert struct.unpack_from("<Q", data) == (hint,)
        assert hexes(unpack(data)) == hexes(frames)
        assert b"".join(pack(frames, hint=hint)) == data
    assert pack_bytes(frames) == pack_bytes(frames, hint=legal_hints(frames)[-1])  # DT-6


@fixed_settings(300)
@given(
    frames=st.lists(st.binary(max_size=40), min_size=1, max_size=6), hint=st.integers(0, 2**64 - 1)
)
def test_any_other_hint_is_refused_by_pack_and_unpack(frames: list[bytes], hint: int) -> None:
    data = struct.pack("<Q", hint) + pack_bytes(frames)[8:]
    if hint in legal_hints(frames):
        assert hexes(unpack(data)) == hexes(frames)
        return
    with pytest.raises(ValueError, match="DT-3"):
        pack(frames, hint=hint)
    with pytest.raises(DaskwireError) as info:
        unpack(data)
    assert info.value.category in ("invalid-read-hint", "limit-exceeded")


# -- robustness: only categorized errors, quickly ---------------------------------------------

SMALL_LIMITS = Limits(
    max_frames=64,
    max_frame_bytes=4096,
    max_message_bytes=16_384,
    max_depth=8,
    max_decompressed_bytes=4096,
    max_decompression_ratio=64,
)


def decode_bounded(frames: list[bytes]) -> None:
    """Decode in both modes, default and small limits: a value or a DaskwireError, quickly."""
    for limits in (Limits(), SMALL_LIMITS):
        for mode in (FORWARDING, CONSUMING):
            start = time.perf_counter()
            got = outcome(lambda: decode(frames, mode=mode, limits=limits))  # noqa: B023
            assert got is None or got in CATEGORIES, got
            assert time.perf_counter() - start < QUICK_SECONDS


CORPUS_MESSAGES: list[tuple[Any, dict[str, Any]]] = [
    ({"op": "ping", "n": 1}, {}),
    ({("inc-abc", 0): 28, True: 1.5, Float32(0.5): None, b"k": [1, 2]}, {}),
    (
        {
            "keys": SetValue(["a", ("b", 1)]),
            "s": EnumValue("distributed.core", "Status", "running"),
        },
        {},
    ),
    ({"d": Offloaded({"serializer": "msgpack", "num-sub-frames": 1}, [b"\x01"])}, {}),
    (
        {"v": Materialized({"serializer": "dask", "t": [1, {"x": b""}]}, [b"abcdef", b""])},
        {"shard_size": 2},
    ),
    ({"v": Materialized({}, [b"q" * 12_000])}, {"compression": "lz4"}),
    ({"v": Materialized({}, [b"r" * 12_000])}, {"compression": "zlib", "shard_size": 5_000}),
    (
        {
            "f": Pickled(
                {"pickled-obj": b"PICKLE", "compression": [None], "num-sub-frames": 1}, [b"B"]
            )
        },
        {},
    ),
    (
        [
            {"op": "a", "d": Offloaded({"num-sub-frames": 1}, [b"x"])},
            {"op": "b", "e": [Pickled({"pickled-obj": b"P"}, []), Materialized({}, [b"yz"])]},
        ],
        {"shard_size": 1},
    ),
    (
        {
            "o": Offloaded(
                {
                    "i": {"__Serialized__": True, "data": [{"a": 1}, [b"x"]]},
                    "s": {"__Set__": True, "as-list": [1]},
                    "split-num-sub-frames": [2],
                    "split-offsets": [0],
                    "compression": ["lz4", None],
                },
                [lz4.block.compress(b"abc", store_size=True), b"de"],
            )
        },
        {},
    ),
    ({"d": [[[[[[{"e": [[]]}]]]]]]}, {}),
]
CORPUS = [[bytes(f) for f in encode(m, **o)] for m, o in CORPUS_MESSAGES]


def mutate(frames: list[bytes], rng: random.Random) -> list[bytes]:
    """One to three random edits of bytes or of the frame list."""
    out = list(frames)
    for _ in range(rng.randint(1, 3)):
        action = rng.randrange(8)
        if action == 0 and len(out) > 1:
            del out[rng.randrange(len(out))]
        elif action == 1:
            out.insert(rng.randrange(len(out) + 1), rng.choice(out))
        elif action == 2 and len(out) > 1:
            i, j = rng.randrange(len(out)), rng.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        else:
            k = rng.randrange(len(out))
            data = bytearray(out[k])
            if action == 3 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif action == 4:
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
            elif action == 5 and data:
                del data[rng.randrange(len(data)) :]
            elif action == 6 and data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            else:  # a byte that starts a msgpack container or marker
                data.insert(
                    rng.randrange(len(data) + 1), rng.choice([0x81, 0x91, 0xC1, 0xD4, 0xDF, 0xA7])
                )
            out[k] = bytes(data)
    return out


@fixed_settings(600, scaled=True)
@given(index=st.integers(0, len(CORPUS) - 1), seed=st.integers(0, 2**32))
def test_mutated_frames_decode_or_fail_with_a_category(index: int, seed: int) -> None:
    decode_bounded(mutate(CORPUS[index], random.Random(seed)))


@fixed_settings(300, scaled=True)
@given(frames=st.lists(st.binary(max_size=64), max_size=6))
def test_random_frame_lists_decode_or_fail_with_a_category(frames: list[bytes]) -> None:
    decode_bounded(frames)


@fixed_settings(300, scaled=True)
@given(frame0=st.binary(max_size=200))
def test_random_frame_0_decodes_or_fails_with_a_category(frame0: bytes) -> None:
    decode_bounded([frame0])
    decode_bounded([frame0, bytes(frame0[:20]), b""])


@fixed_settings(300, scaled=True)
@given(data=st.binary(max_size=200))
def test_random_bytes_unpack_or_fail_with_a_category(data: bytes) -> None:
    for limits in (Limits(), SMALL_LIMITS):
        start = time.perf_counter()
        got = outcome(lambda: unpack(data, limits=limits))  # noqa: B023
        assert got is None or got in CATEGORIES, got
        assert time.perf_counter() - start < QUICK_SECONDS


def _read(chunks: list[bytes], limits: Limits) -> tuple[list[list[str]], str | None]:
    reader = FrameReader(limits)
    got: list[list[str]] = []
    try:
        for chunk in chunks:
            got.extend(hexes(m) for m in reader.feed(chunk))
        reader.close()
    except DaskwireError as exc:
        return got, exc.category.value
    return got, None


@fixed_settings(300, scaled=True)
@given(
    index=st.lists(st.integers(0, len(CORPUS) - 1), max_size=3),
    seed=st.integers(0, 2**32),
    garbage=st.binary(max_size=40),
    points=st.lists(st.integers(0, 100_000), max_size=8),
)
def test_frame_reader_on_random_streams(
    index: list[int], seed: int, garbage: bytes, points: list[int]
) -> None:
    """Mutated streams: only categorized errors, and the same outcome however chunked."""
    rng = random.Random(seed)
    wire = bytearray(b"".join(pack_bytes(CORPUS[i]) for i in index) + garbage)
    for _ in range(rng.randint(0, 3)):
        if wire:
            wire[rng.randrange(len(wire))] = rng.randrange(256)
    data = bytes(wire)
    bounds = [0, *sorted({p % (len(data) + 1) for p in points}), len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    for limits in (Limits(), SMALL_LIMITS):
        start = time.perf_counter()
        assert _read(chunks, limits) == _read([data], limits)
        assert time.perf_counter() - start < QUICK_SECONDS


_ANY_VALUE = st.recursive(
    st.one_of(
        SCALARS,
        SETS,
        ENUMS,
        st.sampled_from(
            [
                1j,
                object(),
                {1, 2},
                2**64,
                -(2**63) - 1,
                "\ud800",
                SetValue([1, True]),
                SetValue([[1]]),
            ]
        ),
        offloaded(),
        pickled(),
        materialized(),
        st.builds(
            Offloaded,
            st.dictionaries(
                st.sampled_from(["compression", "num-sub-frames", "split-offsets", "__Set__"]),
                SCALARS,
                max_size=2,
            ),
            st.lists(BINS, max_size=2),
        ),
        st.builds(
            Pickled,
            st.dictionaries(
                st.sampled_from(["pickled-obj", "x", "compression"]), SCALARS, max_size=2
            ),
            st.lists(BINS, max_size=2),
        ),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(st.one_of(KEYS, st.sampled_from(sorted(RESERVED_KEYS))), c, max_size=3),
    ),
    max_leaves=8,
)


@fixed_settings(300, scaled=True)
@given(message=_ANY_VALUE, depth=st.integers(1, 8))
def test_encoder_refuses_with_a_category_or_writes_decodable_frames(
    message: Any, depth: int
) -> None:
    limits = Limits(max_depth=depth)
    refused = outcome(lambda: encode(message, limits=limits))
    assert refused in (None, "unencodable-value", "limit-exceeded"), refused
    if refused is not None:
        return
    frames = encode(message, limits=limits)
    assert outcome(lambda: decode(frames, mode=FORWARDING, limits=limits)) is None
    # Wire-form values may name codecs or hold bytes that only a consuming receiver checks.
    consumed = outcome(lambda: decode(frames, mode=CONSUMING, limits=limits))
    assert consumed in (None, "unknown-codec", "invalid-compressed-data", "limit-exceeded")
