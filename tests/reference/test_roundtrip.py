"""Round trips: decode(encode(m)) is m in the typed model, and re-encoding gives the same bytes."""

from __future__ import annotations

from typing import Any

import daskwire
import pytest
from daskwire import CONSUMING, FORWARDING, Float32, Limits, Materialized, Offloaded
from daskwire.notation import difference
from daskwire.placeholder_v1.constants import DEFAULT_SHARD_SIZE
from hypothesis import given
from hypothesis import strategies as st

from .strategies import (
    bare_header,
    compressible,
    contains,
    expected,
    fixed_settings,
    hexes,
    hx,
    incompressible,
    is_raw_offloaded,
    materialized,
    messages,
    offloaded,
    parse_path,
    placeholder,
)

CODECS = st.sampled_from([None, *daskwire.SUPPORTED_CODECS])
SHARD_SIZES = st.sampled_from([1, 2, 3, 7, 16, DEFAULT_SHARD_SIZE])


def _check(expected_value: Any, actual: Any) -> None:
    found = difference(expected_value, actual)
    assert found is None, found


def _reencodes(frames: list[Any], mode: str, **options: Any) -> None:
    """Re-encoding a decoded message gives the same bytes (RX-4 for forwarding)."""
    decoded = daskwire.decode(frames, mode=mode)  # type: ignore[arg-type]
    assert hexes(daskwire.encode(decoded, **options)) == hexes(frames)


@fixed_settings(300)
@given(message=messages(), compression=CODECS)
def test_plain_messages_round_trip(message: Any, compression: str | None) -> None:
    frames = daskwire.encode(message, compression=compression)
    assert len(frames) == 2
    assert bytes(frames[0]) == b""  # small payloads are never worth compressing (SH-4)
    for mode in (FORWARDING, CONSUMING):
        _check(expected(message, mode), daskwire.decode(frames, mode=mode))
        _reencodes(frames, mode, compression=compression)


@fixed_settings(300)
@given(message=messages(offloaded()), compression=CODECS, shard_size=SHARD_SIZES)
def test_forwarding_round_trip_of_offloaded_values(
    message: Any, compression: str | None, shard_size: int
) -> None:
    """RX-1: a forwarding receiver gets the header with transport keys and the wire frames."""
    options = {"compression": compression, "shard_size": shard_size}
    frames = daskwire.encode(message, **options)
    _check(expected(message, FORWARDING), daskwire.decode(frames, mode=FORWARDING))
    _check(expected(message, CONSUMING), daskwire.decode(frames, mode=CONSUMING))
    if not contains(message, is_raw_offloaded):
        _reencodes(frames, FORWARDING, **options)


@fixed_settings(300)
@given(message=messages(materialized()), compression=CODECS, shard_size=SHARD_SIZES)
def test_consuming_round_trip_of_materialized_values(
    message: Any, compression: str | None, shard_size: int
) -> None:
    """RX-2: a consuming receiver gets back the original header and frames."""
    options = {"compression": compression, "shard_size": shard_size}
    frames = daskwire.encode(message, **options)
    _check(expected(message, CONSUMING), daskwire.decode(frames, mode=CONSUMING))
    _reencodes(frames, CONSUMING, **options)
    _reencodes(frames, FORWARDING, **options)


@fixed_settings(200)
@given(message=messages(materialized()), shard_size=SHARD_SIZES)
def test_forwarding_view_of_materialized_values(message: Any, shard_size: int) -> None:
    """CE-5, CE-7, CE-8: fresh transport keys, shards of at most shard_size bytes."""
    frames = daskwire.encode(message, shard_size=shard_size)
    _check(
        expected(message, FORWARDING, shard_size=shard_size),
        daskwire.decode(frames, mode=FORWARDING),
    )


@fixed_settings(200)
@given(
    message=messages(st.one_of(offloaded(), materialized()), max_leaves=8),
    compression=CODECS,
    shard_size=SHARD_SIZES,
)
def test_offload_area_is_pre_order_contiguous(
    message: Any, compression: str | None, shard_size: int
) -> None:
    """CE-3: value frames follow the pre-order walk of the message, contiguous from 0."""
    frames = daskwire.encode(message, compression=compression, shard_size=shard_size)
    decoded = daskwire.decode(frames, mode=FORWARDING)
    seen: list[Offloaded] = []

    def walk(value: Any) -> None:
        if type(value) is Offloaded:
            seen.append(value)
        elif type(value) is tuple:
            for item in value:
                walk(item)
        elif type(value) is dict:
            for item in value.values():
                walk(item)

    walk(decoded)
    flat = [bytes(f) for value in seen for f in value.frames]
    raw_free = not contains(message, lambda v: type(v) is bytes and len(v) > 65536)
    if raw_free and not contains(message, is_raw_offloaded):
        assert flat == [bytes(f) for f in frames[2:]]


# -- big frames: compression of offloaded values and of the payload -------------------------

BIG = st.one_of(compressible(10_000, 40_000), incompressible(10_000, 20_000))


@fixed_settings(40)
@given(
    message=messages(st.one_of(materialized(frames=BIG), offloaded(frames=BIG)), max_leaves=3),
    compression=CODECS,
    shard_size=st.sampled_from([4096, 10_000, 25_000, DEFAULT_SHARD_SIZE]),
)
def test_big_frames_round_trip(message: Any, compression: str | None, shard_size: int) -> None:
    options = {"compression": compression, "shard_size": shard_size}
    frames = daskwire.encode(message, **options)
    _check(expected(message, CONSUMING), daskwire.decode(frames, mode=CONSUMING))
    if not contains(message, is_raw_offloaded):
        _reencodes(frames, FORWARDING, **options)
    if not contains(message, lambda v: type(v) is Offloaded):
        _reencodes(frames, CONSUMING, **options)


@fixed_settings(30)
@given(
    data=st.one_of(compressible(10_000, 60_000), incompressible(10_000, 30_000)),
    compression=CODECS,
)
def test_payload_compression_round_trip(data: bytes, compression: str | None) -> None:
    """CP-9: frame 1 is compressed as a whole and named by frame 0 (SH-4)."""
    message = {"op": "update", "s": data.hex()[: len(data)], "b": data[:1000]}
    frames = daskwire.encode(message, compression=compression)
    if bytes(frames[0]):
        assert compression is not None
        assert bytes(frames[0]) == b"\x81\xabcompression" + bytes([0xA0 + len(compression)]) + (
            compression.encode()
        )
    for mode in (FORWARDING, CONSUMING):
        _check(message, daskwire.decode(frames, mode=mode))
        _reencodes(frames, mode, compression=compression)


@fixed_settings(12)
@given(
    size=st.integers(65_537, 140_000),
    compressible_data=st.booleans(),
    position=st.sampled_from(["value", "element", "nested", "batch"]),
    compression=CODECS,
    shard_size=st.sampled_from([65_536, 50_000, DEFAULT_SHARD_SIZE]),
)
def test_raw_bytestrings_round_trip(
    size: int, compressible_data: bool, position: str, compression: str | None, shard_size: int
) -> None:
    """HD-10: bins over 65536 bytes travel as raw byte strings; every receiver gets a bin."""
    data = (
        (b"0123456789" * (size // 10 + 1))[:size]
        if compressible_data
        else bytes((i * 2654435761 >> 13) & 0xFF for i in range(size))
    )
    message: Any = {
        "value": {"b": data},
        "element": {"l": [1, data]},
        "nested": {"a": {"b": [{"c": data}]}},
        "batch": [{"op": "x", "d": data}, {"op": "y", "d": bytearray(data)}],
    }[position]
    options = {"compression": compression, "shard_size": shard_size}
    frames = daskwire.encode(message, **options)
    assert len(frames) > 2
    for mode in (FORWARDING, CONSUMING):
        decoded = daskwire.decode(frames, mode=mode)
        _check(expected(message, mode), decoded)
        _reencodes(frames, mode, **options)


def test_memoryview_key_is_a_bin_key() -> None:
    """A read-only memoryview key travels as the bin key of its bytes, as msgpack packs it."""
    frames = daskwire.encode({memoryview(b"k"): 1})
    assert frames == [b"", bytes.fromhex("81 c4 01 6b 01")]
    assert daskwire.decode(frames) == {b"k": 1}


def test_raw_bytestring_threshold_is_strict() -> None:
    """HD-10: exactly 65536 bytes stay inline, 65537 are offloaded; keys never are."""
    assert len(daskwire.encode({"b": b"x" * 65536})) == 2
    assert len(daskwire.encode({"b": b"x" * 65537})) == 3
    assert len(daskwire.encode({b"k" * 65537: 1})) == 2
    assert len(daskwire.encode({"v": Materialized({"h": b"x" * 65537}, [])})) == 2


# -- the two msgpack parse paths agree -------------------------------------------------------


@fixed_settings(200)
@given(message=messages(st.one_of(offloaded(), materialized())))
def test_fast_and_exact_parse_paths_agree(message: Any) -> None:
    """The exact token walk and the C fast path build the same message (no float32 here:
    the fast path would widen it, which is why such frames always take the exact path)."""
    frames = daskwire.encode(message)
    for mode in (FORWARDING, CONSUMING):
        natural = daskwire.decode(frames, mode=mode)
        with parse_path("exact"):
            exact = daskwire.decode(frames, mode=mode)
        _check(natural, exact)
        if not contains(natural, lambda v: type(v) is Float32) and b"\xca" not in bytes(frames[1]):
            with parse_path("fast"):
                fast = daskwire.decode(frames, mode=mode)
            _check(natural, fast)


def test_float32_takes_the_exact_path_and_keeps_its_width() -> None:
    frames = daskwire.encode({"a": Float32(0.25), "b": 0.25})
    decoded = daskwire.decode(frames)
    assert type(decoded["a"]) is Float32
    assert type(decoded["b"]) is float
    with parse_path("fast"):
        widened = daskwire.decode(frames)
    assert type(widened["a"]) is float  # what the exact path exists to prevent


def test_many_containers_take_the_exact_path_within_the_depth_limit() -> None:
    """More container markers than max_depth, but shallow: the exact path counts depth."""
    message = {"l": [{} for _ in range(300)]}
    frames = daskwire.encode(message)
    _check(expected(message, FORWARDING), daskwire.decode(frames))
    with parse_path("fast"):
        _check(expected(message, FORWARDING), daskwire.decode(frames))


@pytest.mark.parametrize("mode", [FORWARDING, CONSUMING])
def test_decoded_frames_are_views_not_copies(mode: str) -> None:
    frame = b"payload-bytes" * 10
    frames = daskwire.encode({"v": Materialized({}, [frame]), "r": b"r" * 70_000})
    decoded = daskwire.decode(frames, mode=mode)  # type: ignore[arg-type]
    [view] = decoded["v"].frames
    assert isinstance(view, memoryview)
    assert view.obj is frames[2]
    assert isinstance(decoded["r"], memoryview)
    assert decoded["r"].obj is frames[3]


def test_encode_never_copies_offloaded_frames() -> None:
    frame = bytearray(b"z" * 1000)
    frames = daskwire.encode({"m": Materialized({}, [frame]), "o": Offloaded({}, [frame])})
    assert frames[2] is frame
    assert frames[3] is frame
    split = daskwire.encode({"m": Materialized({}, [frame])}, shard_size=300)
    assert all(isinstance(f, memoryview) and f.obj is frame for f in split[2:])


def test_encode_takes_a_depth_limit() -> None:
    deep: Any = []
    for _ in range(9):
        deep = [deep]
    daskwire.encode(deep, limits=Limits(max_depth=10))
    with pytest.raises(daskwire.LimitExceeded):
        daskwire.encode([deep], limits=Limits(max_depth=10))


def test_lengths_of_uncompressed_values_are_checked_by_forwarders() -> None:
    """CP-11: what a forwarding receiver accepts, an encoder may send again (RX-4, CE-12)."""
    header = bare_header("91 05", "91 c0", 1)  # lengths [5], one uncompressed 3-byte frame
    frames = [b"", hx(f"81 a1 76 {placeholder(header, 0, 1)}"), b"abc"]
    for mode in (FORWARDING, "consuming"):
        with pytest.raises(daskwire.LengthMismatch):
            daskwire.decode(frames, mode=mode)
    good = bare_header("91 03", "91 c0", 1)  # lengths [3] match the 3-byte frame
    frames = [b"", hx(f"81 a1 76 {placeholder(good, 0, 1)}"), b"abc"]
    forwarded = daskwire.decode(frames, mode=FORWARDING)
    assert hexes(daskwire.encode(forwarded)) == hexes(frames)
