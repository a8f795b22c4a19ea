"""One category each: no invalid vector breaks a second requirement of its layer unlisted.

ER-3 makes any category of a broken requirement of the right layer correct, unless a
requirement orders the checks of that layer (WF-9 in layer 1, CP-14 for declared sizes).
A vector whose input breaks two requirements of one layer must therefore expect the category
that order gives, or list every correct category in `also`. This file checks that with
models written from the spec alone, for the faults that can be modelled without a second
decoder:

- layer 1, completely: every fault of the prelude, the frames and the limits, and the order
  of WF-9, for wire bytes, streams and frame lists;
- layers 3 and 6, for `lz4` frames: the size prefix against the limits (CP-5), and the
  block read by an independent decoder that keeps the end-of-block conditions (CP-12) and
  the offsets (CP-13);
- layer 4, for placeholder ranges: `frame-out-of-range` (PH-6), `overlapping-frames` (PH-8)
  and `count-mismatch` (PH-10) of well-typed placeholders.

The other faults of layers 2, 4 and 5 (small header fields, msgpack, value profile, header
fields, depth) are left to the case sources, where each invalid case changes one field.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
from daskwire.limits import Limits
from daskwire.notation import frame_from_notation
from daskwire_conformance.common.suite import Vector, load_vectors

VECTORS = load_vectors()
REJECTS = [v for v in VECTORS if v.negative]

# --- layer 1 ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """A broken requirement: where a reader meets it, and its category."""

    #: Bytes a reader has read when it can tell; for a cut, one more than the input holds.
    at: int
    category: str
    requirement: str


def wire_faults(data: bytes, limits: Limits) -> list[Fault]:
    """Every layer-1 fault of `data` read as one message, in the order WF-9 meets them."""
    size = len(data)
    if size < 8:
        return [Fault(size + 1, "truncated-input", "WF-4")]
    (count,) = struct.unpack_from("<Q", data)
    faults = []
    if count > limits.max_frames:
        faults.append(Fault(8, "limit-exceeded", "LM-1"))
    elif count < 2:
        faults.append(Fault(8, "too-few-frames", "WF-2"))
    present = min(count, size // 8 - 1)
    lengths = struct.unpack_from(f"<{present}Q", data, 8)
    for index, length in enumerate(lengths):
        if length > limits.max_frame_bytes:
            faults.append(Fault(16 + 8 * index, "limit-exceeded", "LM-2"))
    prelude = 8 * (count + 1)
    if present < count:
        faults.append(Fault(size + 1, "truncated-input", "WF-4"))
        return faults
    total = prelude + sum(lengths)
    if total > limits.max_message_bytes:
        faults.append(Fault(prelude, "limit-exceeded", "LM-3"))
    if size < total:
        faults.append(Fault(size + 1, "truncated-input", "WF-4"))
    elif size > total:
        faults.append(Fault(total + 1, "trailing-bytes", "WF-3"))
    return sorted(faults, key=lambda f: f.at)


def list_faults(frames: list[bytes], limits: Limits) -> list[Fault]:
    """Every layer-1 fault of a frame list, in the order of WF-9 (checks 2 to 4)."""
    faults = []
    if len(frames) > limits.max_frames:
        faults.append(Fault(8, "limit-exceeded", "LM-1"))
    elif len(frames) < 2:
        faults.append(Fault(8, "too-few-frames", "WF-2"))
    for index, frame in enumerate(frames):
        if len(frame) > limits.max_frame_bytes:
            faults.append(Fault(16 + 8 * index, "limit-exceeded", "LM-2"))
    if 8 * (len(frames) + 1) + sum(map(len, frames)) > limits.max_message_bytes:
        faults.append(Fault(8 * (len(frames) + 1), "limit-exceeded", "LM-3"))
    return faults


def stream_outcome(data: bytes, limits: Limits) -> tuple[int, list[Fault]]:
    """Messages a stream reader returns, and the faults of the message it stops at."""
    messages = 0
    while data:
        faults = [f for f in wire_faults(data, limits) if f.category != "trailing-bytes"]
        if faults:
            return messages, faults
        (count,) = struct.unpack_from("<Q", data)
        lengths = struct.unpack_from(f"<{count}Q", data, 8)
        data = data[8 * (count + 1) + sum(lengths) :]
        messages += 1
    return messages, []


def limits_of(vector: Vector) -> Limits:
    return Limits(**vector.input.get("limits", {}))


def frames_of(vector: Vector) -> list[bytes]:
    return [frame_from_notation(f) for f in vector.input["frames"]]


def accepted(vector: Vector) -> set[str]:
    """The categories a vector accepts: `category` and `also`."""
    return {vector.expected["category"], *vector.expected.get("also", ())}


def check_ordered(vector: Vector, faults: list[Fault]) -> None:
    """A vector whose input breaks layer 1 expects the first fault WF-9 meets."""
    assert accepted(vector) == {faults[0].category}, (
        f"{vector.id}: WF-9 gives {faults[0]}, the vector accepts {sorted(accepted(vector))}"
    )
    several = len({f.category for f in faults}) > 1
    if several and vector.derived is None:
        assert "WF-9" in vector.requirements, f"{vector.id}: several layer-1 faults, cite WF-9"


LAYER_1 = [v for v in VECTORS if v.kind in ("reject-unpack", "stream", "reject-decode")]


@pytest.mark.parametrize("vector", LAYER_1, ids=[v.id for v in LAYER_1])
def test_layer_1_category_is_the_first_in_wf_9_order(vector: Vector) -> None:
    limits = limits_of(vector)
    if vector.kind == "reject-unpack":
        faults = wire_faults(frame_from_notation(vector.input["wire"]), limits)
        assert faults, f"{vector.id}: the wire bytes break no layer-1 requirement"
        check_ordered(vector, faults)
    elif vector.kind == "stream":
        data = b"".join(frame_from_notation(c) for c in vector.input["chunks"])
        messages, faults = stream_outcome(data, limits)
        assert len(vector.expected["messages"]) == messages
        if faults:
            check_ordered(vector, faults)
        else:
            assert "category" not in vector.expected
    else:
        faults = list_faults(frames_of(vector), limits)
        if faults:
            check_ordered(vector, faults)


def test_the_layer_1_model_knows_the_order() -> None:
    limits = Limits()
    cut = struct.pack("<QQ", 3, 2**31 + 1)
    assert [f.category for f in wire_faults(cut, limits)] == ["limit-exceeded", "truncated-input"]
    head = struct.pack("<Q", 2**64 - 1) + b"\x00"
    assert [f.category for f in wire_faults(head, limits)] == [
        "limit-exceeded",
        "truncated-input",
    ]
    zero = struct.pack("<QQ", 0, 0)
    assert [f.category for f in wire_faults(zero, limits)] == ["too-few-frames", "trailing-bytes"]
    partial = struct.pack("<QQ", 3, 5) + b"\xff" * 4
    assert [f.category for f in wire_faults(partial, limits)] == ["truncated-input"]
    assert list_faults([b"\x80"], Limits(max_frame_bytes=0))[0].category == "too-few-frames"


# --- lz4 (layers 3 and 6) -------------------------------------------------------------------


class BadBlock(ValueError):
    """An lz4 block that breaks CP-4, CP-12 or CP-13."""


def lz4_block(block: bytes, size: int) -> bytes:
    """Decode one LZ4 block to exactly `size` bytes, keeping CP-12 and CP-13; else BadBlock."""
    out = bytearray()
    at = 0

    def length(nibble: int) -> int:
        nonlocal at
        total = nibble
        while nibble == 15:
            if at >= len(block):
                raise BadBlock("the block ends inside a length")
            nibble = block[at]
            at += 1
            total += nibble
            nibble = 15 if nibble == 255 else 0
        return total

    while True:
        if at >= len(block):
            raise BadBlock("the block ends before its last sequence")
        token = block[at]
        at += 1
        count = length(token >> 4)
        if at + count > len(block):
            raise BadBlock("literals past the end of the block")
        out += block[at : at + count]
        at += count
        if at == len(block):
            break
        if at + 2 > len(block):
            raise BadBlock("the block ends inside an offset")
        offset = block[at] | block[at + 1] << 8
        at += 2
        if offset == 0 or offset > len(out):
            raise BadBlock(f"offset {offset} after {len(out)} bytes (CP-13)")
        start = len(out)
        if start + 12 > size:
            raise BadBlock("a match starts less than 12 bytes before the end (CP-12)")
        for _ in range(length(token & 0x0F) + 4):
            out.append(out[-offset])
        if len(out) + 5 > size:
            raise BadBlock("a match ends inside the last 5 bytes (CP-12)")
    if len(out) != size:
        raise BadBlock(f"{len(out)} bytes, not the declared {size} (CP-4)")
    return bytes(out)


def lz4_faults(frame: bytes, limits: Limits) -> list[str]:
    """The categories an lz4 frame deserves, in the order of CP-14: limits first."""
    if len(frame) < 5:
        return ["invalid-compressed-data"]
    (size,) = struct.unpack_from("<I", frame)
    faults = []
    ratio = limits.max_decompression_ratio * max(len(frame) - 4, 1)
    if size > limits.max_decompressed_bytes or size > ratio:
        faults.append("limit-exceeded")
    try:
        lz4_block(frame[4:], size)
    except BadBlock:
        faults.append("invalid-compressed-data")
    return faults


def test_the_lz4_model_reads_hand_derived_blocks() -> None:
    assert lz4_block(bytes.fromhex("406162636404008065666768696a6b6c"), 16) == (b"abcdabcdefghijkl")
    assert lz4_block(bytes.fromhex("43616263640400506566676869"), 16) == (b"abcdabcdabcefghi")
    assert lz4_block(b"\x00", 0) == b""
    assert lz4_block(bytes([0xF0, 0x00]) + b"x" * 15, 15) == b"x" * 15
    for hexed, size in [
        ("406162636400008065666768696a6b6c", 16),  # offset 0
        ("406162636405008065666768696a6b6c", 16),  # offset before the start
        ("446162636404004065666768", 16),  # 4 last literals
        ("50616263646505007065666768696a6b", 16),  # match 11 from the end
        ("40616263640400", 8),  # ends with a match
        ("4061626364", 5),  # literals past the end
        ("f0", 15),  # ends inside a length
        ("406162636404", 8),  # ends inside an offset
        ("", 0),  # no sequence
        ("10616263", 3),  # a match offset after 1 byte of output
    ]:
        with pytest.raises(BadBlock):
            lz4_block(bytes.fromhex(hexed), size)


class Map(tuple[tuple[Any, Any], ...]):
    """A msgpack map as its pairs, in order, so that no key type is lost."""

    def get(self, key: str) -> Any:
        return next((v for k, v in self if k == key), None)

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self)


def parse(payload: bytes) -> Any:
    return msgpack.unpackb(
        payload, raw=False, strict_map_key=False, object_pairs_hook=Map, use_list=True
    )


@dataclass(frozen=True, slots=True)
class Site:
    """One well-typed placeholder in the payload (not in a key, not in a header)."""

    findex: int
    fcount: int
    header: Map


RESERVED = ("_$header", "_$findex", "_$fcount")


def _index(value: Any) -> bool:
    return type(value) is int and value >= 0


def sites(node: Any) -> Iterator[Site]:
    """Every placeholder standing as a map value or an array element, left to right."""
    items: list[Any] = (
        [v for _, v in node] if isinstance(node, Map) else node if isinstance(node, list) else []
    )
    for item in items:
        reserved = isinstance(item, Map) and any(item.has(k) for k in RESERVED)
        if reserved:
            header, findex, fcount = (item.get(k) for k in RESERVED)
            if len(item) != 3 or not isinstance(header, Map) or not _index(findex):
                raise ValueError("not a well-typed placeholder")
            if not _index(fcount):
                raise ValueError("not a well-typed placeholder")
            yield Site(findex, fcount, header)
        else:
            yield from sites(item)


def payload_of(frames: list[bytes], limits: Limits) -> Any:
    """Frame 1 parsed, decompressed as frame 0 says; ValueError when it cannot be read."""
    small = parse(frames[0]) if frames[0] else Map()
    codec = small.get("compression") if isinstance(small, Map) else None
    body = frames[1]
    if codec == "lz4":
        if lz4_faults(body, limits):
            raise ValueError("frame 1 is not valid lz4")
        body = lz4_block(body[4:], struct.unpack_from("<I", body)[0])
    elif codec == "zlib":
        body = zlib.decompress(body)
    elif codec is not None:
        raise ValueError("an unknown codec")
    return parse(body)


def range_faults(frames: list[bytes], found: list[Site]) -> set[str]:
    """PH-6, PH-8 and PH-10 over the well-typed placeholders of a message."""
    area = len(frames) - 2
    faults = set()
    claimed: set[int] = set()
    for site in found:
        if site.findex + site.fcount > area or site.findex > area:
            faults.add("frame-out-of-range")
        span = set(range(site.findex, min(site.findex + site.fcount, area)))
        if span & claimed:
            faults.add("overlapping-frames")
        claimed |= span
        count = site.header.get("count")
        if type(count) is int and count != site.fcount:
            faults.add("count-mismatch")
    return faults


def offloaded_lz4(frames: list[bytes], found: list[Site]) -> Iterator[bytes]:
    """The offloaded frames that a header says are lz4."""
    for site in found:
        codecs = site.header.get("compression")
        if isinstance(codecs, list):
            for i, codec in enumerate(codecs[: site.fcount]):
                at = 2 + site.findex + i
                if codec == "lz4" and at < len(frames):
                    yield frames[at]


def layer_faults(frames: list[bytes], limits: Limits) -> Mapping[int, set[str]]:
    """Faults of layers 3, 4 (ranges) and 6 (lz4) that the models above can see."""
    faults: dict[int, set[str]] = {}
    try:
        small = parse(frames[0]) if frames[0] else Map()
        if isinstance(small, Map) and small.get("compression") == "lz4":
            first = lz4_faults(frames[1], limits)
            if first:
                return {3: set(first[:1])}  # CP-14: the size prefix decides first
        found = list(sites(payload_of(frames, limits)))
    except (ValueError, TypeError, zlib.error, msgpack.StackError):
        return faults  # a fault of layer 2, 3 or 4 that these models do not see
    four = range_faults(frames, found)
    if four:
        faults[4] = four
    six = {f for frame in offloaded_lz4(frames, found) for f in lz4_faults(frame, limits)[:1]}
    if six:
        faults[6] = six
    return faults


_LAYER_OF = {
    "frame-out-of-range": 4,
    "overlapping-frames": 4,
    "count-mismatch": 4,
    "invalid-compressed-data": 6,
    "limit-exceeded": 6,
}
DECODES = [
    v for v in REJECTS if v.kind == "reject-decode" and not list_faults(frames_of(v), limits_of(v))
]


@pytest.mark.parametrize("vector", DECODES, ids=[v.id for v in DECODES])
def test_modelled_faults_of_one_layer_are_all_accepted(vector: Vector) -> None:
    faults = layer_faults(frames_of(vector), limits_of(vector))
    if not faults:
        return
    layer = min(faults)
    if layer == 3:
        assert accepted(vector) == faults[3], f"{vector.id}: CP-14 gives {faults[3]}"
        return
    named = vector.expected["category"]
    if _LAYER_OF.get(named) != layer and not (layer == 6 and named == "length-mismatch"):
        return  # the vector's fault lies in a layer or a field these models do not see
    missing = faults[layer] - accepted(vector)
    assert not missing, f"{vector.id}: also breaks {sorted(missing)} of layer {layer}"
