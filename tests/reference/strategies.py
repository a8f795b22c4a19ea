"""Hypothesis strategies for messages, the decodings a message must have, and test helpers."""

from __future__ import annotations

import os
import random
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal
from unittest import mock

import lz4.block
from daskwire import CONSUMING, FORWARDING, Float32, Materialized, Offloaded, payload
from daskwire.placeholder_v1 import accel
from daskwire.placeholder_v1.constants import DEFAULT_SHARD_SIZE, RESERVED_KEYS, TRANSPORT_KEYS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Scales every fuzz budget: DASKWIRE_FUZZ_SCALE=10 runs ten times the examples.
FUZZ_SCALE = float(os.environ.get("DASKWIRE_FUZZ_SCALE", "1"))


def fixed_settings(max_examples: int, *, scaled: bool = False) -> settings:
    """Reproducible settings: derandomized, no example database, no deadline."""
    count = max(1, round(max_examples * FUZZ_SCALE)) if scaled else max_examples
    return settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- hex written by hand -------------------------------------------------------------------

_COMMENT = re.compile(r"#[^\n]*")


def hx(text: str) -> bytes:
    """Bytes from hex text that may hold spaces, newlines and `#` comments."""
    return bytes.fromhex(_COMMENT.sub("", text))


def hexes(frames: Sequence[Any]) -> list[str]:
    """Frames as lowercase hex strings, for readable comparisons."""
    return [bytes(frame).hex() for frame in frames]


# msgpack of the strings that recur, written by hand.
K_HEADER = "a8 5f24686561646572"  # "_$header"
K_FINDEX = "a8 5f2466696e646578"  # "_$findex"
K_FCOUNT = "a8 5f2466636f756e74"  # "_$fcount"
K_LENGTHS = "a7 6c656e67746873"  # "lengths"
K_COMPRESSION = "ab 636f6d7072657373696f6e"  # "compression"
K_COUNT = "a5 636f756e74"  # "count"
K_DESERIALIZE = "ab 646573657269616c697a65"  # "deserialize"
K_SERIALIZER = "aa 73657269616c697a6572"  # "serializer"
V_PICKLE = "a6 7069636b6c65"  # "pickle"


def placeholder(header: str, findex: int, fcount: int) -> str:
    """A placeholder map in canonical key order (CE-4); findex and fcount as fixints."""
    return f"83 {K_HEADER} {header} {K_FINDEX} {findex:02x} {K_FCOUNT} {fcount:02x}"


def bare_header(lengths: str, compression: str, count: int, *, raw: bool = False) -> str:
    """A header map of only transport keys in canonical order (CE-5); arrays as hex."""
    flag = "c3" if raw else "c2"
    return (
        f"84 {K_LENGTHS} {lengths} {K_COMPRESSION} {compression} "
        f"{K_COUNT} {count:02x} {K_DESERIALIZE} {flag}"
    )


# -- values of the profile -----------------------------------------------------------------

INTS = st.integers(-(2**63), 2**64 - 1)
EDGE_INTS = st.sampled_from(
    [0, 1, 127, 128, 255, 256, 2**16, 2**32 - 1, 2**32, 2**63, 2**64 - 1, -1, -32, -33, -(2**63)]
)
FLOATS = st.floats()  # NaN, infinities and -0.0 included
FLOAT32S = st.floats(width=32).map(Float32)
TEXTS = st.text(max_size=12)
BINS = st.binary(max_size=24)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    EDGE_INTS,
    FLOATS,
    FLOAT32S,
    TEXTS,
    BINS,
    BINS.map(bytearray),
    BINS.map(memoryview),
)

_KEY_ATOMS = st.one_of(
    TEXTS.filter(lambda k: k not in RESERVED_KEYS), st.binary(max_size=8), INTS, st.none()
)
#: Map keys of the profile: str, bin, int, nil and arrays (tuples) of those (PL-6).
KEYS = st.recursive(_KEY_ATOMS, lambda keys: st.lists(keys, max_size=3).map(tuple), max_leaves=4)

_SERIALIZER_KEYS = st.one_of(
    st.text(max_size=10).filter(lambda k: k not in RESERVED_KEYS and k not in TRANSPORT_KEYS),
    st.sampled_from(["serializer", "type", "type-serialized", "sub-headers", "writeable"]),
    INTS,
)
#: Values inside headers: anything of the profile except offloaded values.
HEADER_VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS, c, max_size=3),
    max_leaves=4,
)


def serializer_headers() -> st.SearchStrategy[dict[Any, Any]]:
    """Header maps that hold only serializer keys (no transport keys, no reserved keys)."""
    return st.dictionaries(_SERIALIZER_KEYS, HEADER_VALUES, max_size=3)


def _compress(codec: str | None, data: bytes) -> bytes:
    """Compress with the codec libraries directly, not through daskwire."""
    if codec == "lz4":
        out: bytes = lz4.block.compress(data, store_size=True)
        return out
    if codec == "zlib":
        return zlib.compress(data)
    return data


def _decompress(codec: str | None, data: bytes) -> bytes:
    if codec == "lz4":
        out: bytes = lz4.block.decompress(data)
        return out
    if codec == "zlib":
        return zlib.decompress(data)
    return data


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@st.composite
def offloaded(
    draw: st.DrawFn, *, frames: st.SearchStrategy[bytes] = BINS, raw: bool = True
) -> Offloaded:
    """Offloaded values in wire form: some transport keys present at any position, some absent,
    frames possibly compressed (lz4, zlib) one by one or split across several wire frames."""
    originals = draw(st.lists(frames, max_size=3))
    items = list(draw(serializer_headers()).items())
    style = draw(st.sampled_from(["plain", "plain", "split", "compressed"]))
    codecs: list[str | None]
    if style == "compressed" and originals:
        codecs = [draw(st.sampled_from([None, "lz4", "zlib"])) for _ in originals]
        wire = [_compress(c, f) for c, f in zip(codecs, originals, strict=True)]
    elif style == "split" and originals:
        wire = _cut(b"".join(originals), draw(st.lists(st.integers(0, 200), max_size=3)))
        codecs = [None] * len(wire)
    else:
        wire, codecs = list(originals), [None] * len(originals)
    transport: list[tuple[str, Any]] = []
    split_or_compressed = wire != originals
    if split_or_compressed or draw(st.booleans()):
        transport.append(("lengths", [len(f) for f in originals]))
    if any(codecs) or draw(st.booleans()):
        transport.append(("compression", codecs))
    if draw(st.booleans()):
        transport.append(("count", len(wire)))
    deserialize = raw and draw(st.integers(0, 9)) == 0
    if deserialize or draw(st.booleans()):
        transport.append(("deserialize", deserialize))
    for key, value in transport:
        items.insert(draw(st.integers(0, len(items))), (key, value))
    return Offloaded(dict(items), wire)


@st.composite
def materialized(draw: st.DrawFn, *, frames: st.SearchStrategy[bytes] = BINS) -> Materialized:
    """Offloaded values in original form: serializer keys only, zero or more frames."""
    header = draw(serializer_headers())
    return Materialized(header, draw(st.lists(frames, max_size=3)))


def trees(leaves: st.SearchStrategy[Any], max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Values nested in maps, lists and tuples down to `leaves`."""
    return st.recursive(
        leaves,
        lambda c: st.one_of(
            st.lists(c, max_size=4),
            st.lists(c, max_size=4).map(tuple),
            st.dictionaries(KEYS, c, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def messages(
    offloads: st.SearchStrategy[Any] | None = None, max_leaves: int = 10
) -> st.SearchStrategy[Any]:
    """Messages: a map or an array (a batch), with `offloads` among the leaves at any depth."""
    leaves = SCALARS if offloads is None else st.one_of(SCALARS, offloads)
    children = trees(leaves, max_leaves)
    return st.one_of(
        st.dictionaries(KEYS, children, max_size=5),
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
    )


def compressible(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Byte strings that lz4 and zlib shrink well: a short pattern repeated."""
    return st.builds(
        lambda pattern, n: (pattern * (n // len(pattern) + 1))[:n],
        st.binary(min_size=1, max_size=6),
        st.integers(min_size, max_size),
    )


def incompressible(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Byte strings that no codec shrinks: pseudo-random bytes from a drawn seed."""
    return st.builds(
        lambda seed, n: random.Random(seed).randbytes(n),
        st.integers(0, 2**32),
        st.integers(min_size, max_size),
    )


# -- what a decoder must yield for an encoded message --------------------------------------


def plain(value: Any) -> Any:
    """A header value as a decoder yields it: arrays as tuples, bins as bytes."""
    kind = type(value)
    if kind in (list, tuple):
        return tuple(plain(item) for item in value)
    if kind in (bytearray, memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def merged_frames(value: Offloaded) -> list[bytes]:
    """The original frames of a wire-form value: each frame decompressed, then cut at lengths."""
    header = value.header
    wire = [bytes(f) for f in value.frames]
    codecs = header.get("compression") or [None] * len(wire)
    data = [_decompress(c, f) for c, f in zip(codecs, wire, strict=True)]
    lengths = list(header.get("lengths", [len(d) for d in data]))
    if lengths == [len(d) for d in data]:
        return data
    joined, out, start = b"".join(data), [], 0
    for length in lengths:
        out.append(joined[start : start + length])
        start += length
    return out


def shards(frames: Sequence[Any], shard_size: int) -> list[bytes]:
    """Frames cut at the shard size (CE-7): an empty frame is one empty shard."""
    out: list[bytes] = []
    for frame in frames:
        data = bytes(frame)
        if len(data) <= shard_size:
            out.append(data)
        else:
            out.extend(data[i : i + shard_size] for i in range(0, len(data), shard_size))
    return out


def filled_header(header: Mapping[Any, Any], frames: Sequence[Any]) -> dict[Any, Any]:
    """A pass-through header with the missing transport keys appended (CE-5)."""
    out = dict(header)
    out.setdefault("lengths", [len(bytes(f)) for f in frames])
    out["count"] = len(frames)
    out.setdefault("deserialize", False)
    return out


def expected(value: Any, mode: str, *, shard_size: int = DEFAULT_SHARD_SIZE) -> Any:
    """The value a `mode` decoder yields for `value` after an uncompressed-offloads encode.

    Arrays become tuples, bins stay bins (any bytes-like type), offloaded values follow RX-1/RX-2
    and raw byte strings (deserialize: true) become bins (HD-9). Materialized values in
    forwarding mode are predicted for frames the encoder does not compress.
    """
    kind = type(value)
    if kind is Offloaded:
        if value.header.get("deserialize") is True:
            return b"".join(merged_frames(value))
        if mode == FORWARDING:
            header = plain(filled_header(value.header, value.frames))
            return Offloaded(header, [bytes(f) for f in value.frames])
        serializer = {k: v for k, v in value.header.items() if k not in TRANSPORT_KEYS}
        return Materialized(plain(serializer), merged_frames(value))
    if kind is Materialized:
        if mode == CONSUMING:
            return Materialized(plain(value.header), [bytes(f) for f in value.frames])
        wire = shards(value.frames, shard_size)
        header = {
            **plain(value.header),
            "lengths": tuple(len(bytes(f)) for f in value.frames),
            "compression": (None,) * len(wire),
            "count": len(wire),
            "deserialize": False,
        }
        return Offloaded(header, wire)
    if kind in (list, tuple):
        return tuple(expected(item, mode, shard_size=shard_size) for item in value)
    if isinstance(value, Mapping):
        return {k: expected(v, mode, shard_size=shard_size) for k, v in value.items()}
    if kind in (bytearray, memoryview):
        return bytes(value)
    return value


def contains(value: Any, predicate: Callable[[Any], bool]) -> bool:
    """True when `value` or anything inside it (headers excluded) satisfies `predicate`."""
    if predicate(value):
        return True
    if type(value) in (list, tuple):
        return any(contains(item, predicate) for item in value)
    if isinstance(value, Mapping):
        return any(contains(item, predicate) for item in value.values())
    return False


def is_raw_offloaded(value: Any) -> bool:
    """An Offloaded value marked as a raw byte string: decoders turn it into a bin (HD-9)."""
    return type(value) is Offloaded and value.header.get("deserialize") is True


# -- forcing one of the two msgpack parse paths --------------------------------------------


@contextmanager
def parse_path(path: Literal["fast", "exact"]) -> Iterator[None]:
    """Make every decode in the block parse frames 0 and 1 on one path of `payload.parse`,
    with the compiled scanner's fast paths off (they would skip `payload.parse`)."""
    fast = payload._parse_fast
    exact = payload._parse_exact

    def forced(data: Any, hook: Any, max_depth: int) -> Any:
        view = memoryview(data)
        return fast(view, hook) if path == "fast" else exact(view, hook, max_depth)

    with mock.patch.object(payload, "parse", forced), pure_python():
        yield


@contextmanager
def pure_python() -> Iterator[None]:
    """Turn the compiled scanner off for the block: only the exact, pure-Python paths run."""
    with (
        mock.patch.object(accel, "scan", None),
        mock.patch.object(accel, "frames_ok", None),
        mock.patch.object(accel, "build", None),
        mock.patch.object(accel, "decode", None),
        mock.patch.object(accel, "pack", None),
    ):
        yield
