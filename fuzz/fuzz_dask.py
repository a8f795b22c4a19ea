"""Coverage-guided fuzz target (atheris) for the dask-2023.11 codec: framing, decode, encode."""

from __future__ import annotations

import itertools
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lz4.block
import msgpack
from _harness import Source, instrumented, main

with instrumented():
    from daskwire.dask_2023_11 import (
        CONSUMING,
        FORWARDING,
        FrameReader,
        decode,
        encode,
        pack_bytes,
        read_handshake,
        unpack,
    )
    from daskwire.dask_2023_11.framing import hint_boundaries
    from daskwire.notation import difference, frame_from_notation

from daskwire import DEFAULT_LIMITS, DaskwireError, Limits, Materialized, Offloaded, Pickled

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors" / "dask-2023.11"

#: The limit fields in the order of the limits byte's bits, each with its tight value.
TIGHT = (
    ("max_frames", 8),
    ("max_frame_bytes", 256),
    ("max_message_bytes", 1024),
    ("max_depth", 4),
    ("max_decompressed_bytes", 512),
    ("max_decompression_ratio", 8),
)
#: What only a consuming receiver checks (layer 4 of DE-2): decompression and merging.
LAYER_FOUR = frozenset({"unknown-codec", "invalid-compressed-data", "limit-exceeded"})
#: Bytes that start msgpack containers, float32, ext, nil, true and wide ints and strings.
TOKENS = (0x80, 0x81, 0x82, 0x90, 0x91, 0x92, 0xA7, 0xC0, 0xC1, 0xC3, 0xC4, 0xCA, 0xCB)
TOKENS += (0xCC, 0xCD, 0xCF, 0xD3, 0xD4, 0xD9, 0xDC, 0xDD, 0xDE, 0xDF)
#: Keys and values of markers and sub-headers (message.md, sub-header.md).
MARKERS = ("__Serialized__", "__Pickled__", "__Set__", "__Enum__")
CODECS = (None, "lz4", "zlib", "zstd", "", 1)
#: Most frames and ops one input builds; a byte-by-byte feed only for inputs this short.
MAX_FRAMES, MAX_OPS, BYTEWISE = 400, 24, 512
#: The longest frame a repeat op makes.
MAX_GROWN = 1 << 16


def limits_of(bits: int) -> Limits:
    """Default limits, with each field whose bit is set at its tight value."""
    return Limits(**{name: value for i, (name, value) in enumerate(TIGHT) if bits >> i & 1})


def _outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, call()
    except DaskwireError as exc:
        return False, exc.category.value


def _same(a: Any, b: Any, what: str) -> None:
    found = difference(a, b)
    if found is not None:
        raise AssertionError(f"{what}: {found}")


def _hexes(frames: Any) -> list[str]:
    return [bytes(f).hex() for f in frames]


def _no_offloaded(value: Any) -> None:
    """A consuming receiver yields original forms only: never an `Offloaded` (DR-4)."""
    pending = [value]
    while pending:
        item = pending.pop()
        assert type(item) is not Offloaded, "a consuming decode yields an Offloaded value"
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, tuple | list):
            pending.extend(item)
        elif isinstance(item, Materialized | Pickled):
            pending.append(item.header)


# -- decode and encode --------------------------------------------------------------------------


def check_decode(frames: list[bytes], limits: Limits) -> None:
    """Both modes agree up to layer 4; what is accepted re-encodes and decodes to itself;
    read as a comm handshake, it fails as the decoder does, or with invalid-handshake."""
    fwd_ok, fwd = _outcome(lambda: decode(frames, mode=FORWARDING, limits=limits))
    con_ok, con = _outcome(lambda: decode(frames, mode=CONSUMING, limits=limits))
    hs_ok, hs = _outcome(lambda: read_handshake(frames, limits))
    if not fwd_ok:
        assert (hs_ok, hs) == (False, fwd), f"decode rejects ({fwd}), read_handshake: {hs}"
    elif not hs_ok:
        assert hs == "invalid-handshake", f"read_handshake rejects ({hs}) what decodes (DK-3)"
    if not fwd_ok:
        assert (con_ok, con) == (False, fwd), f"forwarding rejects ({fwd}), consuming: {con}"
        return
    if not con_ok:
        assert con in LAYER_FOUR, f"consuming rejects ({con}) outside layer 4"
    else:
        _no_offloaded(con)
        # Consuming again: the encoder adds split keys (depth 2) and may grow the frames.
        relaxed = Limits(max_depth=max(limits.max_depth, 2))
        ok, again = _outcome(lambda: encode(con, limits=relaxed))
        assert ok, f"a consumed message does not encode: {again}"
        ok, back = _outcome(lambda: decode(again, mode=CONSUMING, limits=relaxed))
        assert ok, f"a consumed message, re-encoded, does not decode: {back}"
        _same(con, back, "consuming round trip")
    # Forwarding re-sends in canonical form, no larger than what came: the same limits hold.
    ok, again = _outcome(lambda: encode(fwd, limits=limits))
    assert ok, f"a forwarded message does not encode: {again}"
    ok, back = _outcome(lambda: decode(again, mode=FORWARDING, limits=limits))
    assert ok, f"a forwarded message, re-encoded, does not decode: {back}"
    _same(fwd, back, "forwarding round trip")
    assert _hexes(encode(back, limits=limits)) == _hexes(again), "encode is not a fixpoint"
    if limits != DEFAULT_LIMITS:  # limits only take away: the defaults accept it the same
        ok, wide = _outcome(lambda: decode(frames, mode=FORWARDING))
        assert ok, f"accepted under tight limits, rejected under the defaults: {wide}"
        _same(fwd, wide, "decode under the default limits")


# -- framing ------------------------------------------------------------------------------------


def _read(chunks: list[bytes], limits: Limits) -> tuple[list[list[str]], str | None, bool]:
    """A FrameReader fed the chunks, then one empty chunk, then closed: the messages, the
    error category, and whether the error waited for `close`."""
    reader = FrameReader(limits)
    got: list[list[str]] = []
    try:
        for chunk in [*chunks, b""]:
            got.extend(_hexes(m) for m in reader.feed(chunk))
    except DaskwireError as exc:
        return got, exc.category.value, False
    try:
        reader.close()
    except DaskwireError as exc:
        return got, exc.category.value, True
    return got, None, False


def _size(frames: list[str]) -> int:
    """Bytes of one message on the stream: H, N, the lengths and the frames (DT-1)."""
    return 16 + 8 * len(frames) + sum(len(f) // 2 for f in frames)


def check_stream(data: bytes, chunks: list[bytes], limits: Limits) -> list[bytes] | None:
    """FrameReader against unpack on a stream (DT-7, DT-8, WF-5, WF-6).

    However the bytes are chunked, the reader yields the same messages and the same error;
    each message it yields is what `unpack` gives for that message's bytes; what follows the
    last message, `unpack` rejects with the reader's category, and the reader raised it
    without waiting for the end of the stream unless it is `truncated-input` (WF-6, WF-9).
    Returns the frames of the first message, if any.
    """
    whole = _read([data], limits)
    assert _read(chunks, limits) == whole, "the reader's result depends on the chunks"
    messages, error, at_close = whole
    pos = 0
    for frames in messages:
        size = _size(frames)
        ok, got = _outcome(lambda: unpack(data[pos : pos + size], limits=limits))  # noqa: B023
        assert ok, f"the reader yields a message that unpack rejects: {got}"
        assert _hexes(got) == frames, "the reader and unpack split a message differently"
        pos += size
    tail = data[pos:]
    if error is None:
        assert not tail, "the reader ends normally with bytes left"
    else:
        ok, got = _outcome(lambda: unpack(tail, limits=limits))
        assert not ok, "the reader rejects what unpack accepts"
        assert got == error, f"the reader says {error}, unpack says {got}"
        assert at_close == (error == "truncated-input"), f"{error} reported at close: {at_close}"
    ok, got = _outcome(lambda: unpack(data, limits=limits))
    if messages and len(data) > _size(messages[0]):
        assert (ok, got) == (False, "trailing-bytes"), f"one message and more: {got}"
    if ok:
        return [bytes(f) for f in got]
    return None


def check_hints(frames: list[bytes], choice: int, limits: Limits) -> None:
    """For frames that unpack under `limits`: every hint on a frame boundary gives the same
    frames (DT-5); any other is refused with `invalid-read-hint`, or `limit-exceeded` when
    over max_message_bytes (DT-4, DT-8)."""
    edges = hint_boundaries(frames)
    wire = pack_bytes(frames)
    if not _outcome(lambda: unpack(wire, limits=limits))[0]:
        return
    body = wire[8:]
    hint = edges[choice % len(edges)] if choice < 0x80 else max(0, edges[-1] + 64 - choice)
    ok, got = _outcome(lambda: unpack(struct.pack("<Q", hint) + body, limits=limits))
    if hint in edges:
        assert ok, f"a hint on a frame boundary is refused: {got}"
        assert _hexes(got) == _hexes(frames), "the hint changed the frames"
    else:
        expected = "limit-exceeded" if hint > limits.max_message_bytes else "invalid-read-hint"
        assert (ok, got) == (False, expected), f"hint {hint} off the boundaries {edges}: {got}"


# -- building frame lists -----------------------------------------------------------------------


def _varint(src: Source) -> int:
    """An unsigned LEB128 number of up to three bytes."""
    value = 0
    for shift in (0, 7, 14):
        byte = src.byte()
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
    return value


def _put_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _sub_header(src: Source) -> bytes:
    """A sub-header from choices: counts, codecs and split keys right or slightly off."""
    kind = src.byte()
    count = src.below(6)
    header: dict[Any, Any] = {}
    if kind & 1:
        header["pickled-obj"] = src.take(src.below(4))
    if kind & 2:
        header["serializer"] = src.pick(("dask", "pickle", "cuda", "msgpack", "error"))
    if kind & 4:
        header["compression"] = [src.pick(CODECS) for _ in range(count + src.below(3) - 1)]
    if kind & 8:
        shards = [src.below(3) for _ in range(src.below(4))]
        offsets = list(itertools.accumulate([0, *shards[:-1]])) if shards else []
        if kind & 16 and offsets:
            offsets[src.below(len(offsets))] += src.below(3) - 1
        header["split-num-sub-frames"] = shards
        header["split-offsets"] = offsets
    if kind & 32:
        header[src.pick(MARKERS)] = src.pick((True, 1, {"__Set__": True, "as-list": []}))
    if kind & 64:
        header["inline"] = {"__Serialized__": True, "data": [{"a": 1}, [src.take(2)]]}
    if not kind & 128:
        header["num-sub-frames"] = count + (src.below(3) - 1 if kind & 16 else 0)
    try:
        packed: bytes = msgpack.packb(header, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return b"\x80"
    return packed


def _frame0(src: Source, count: int) -> bytes:
    """A message map or batch of index markers, sets and enums pointing into the frames."""
    items: list[Any] = []
    for i in range(1 + src.below(4)):
        kind = src.below(6)
        if kind < 3:
            key = MARKERS[0] if kind < 2 else MARKERS[1]
            items.append({key: src.below(count + 2) if src.byte() & 1 else 1 + i})
        elif kind == 3:
            items.append({"__Set__": True, "as-list": [src.below(3), "a"]})
        elif kind == 4:
            items.append({"__Enum__": True, "name": "A", "__module__": "m", "__name__": "E"})
        else:
            items.append([src.below(256), None, b"x"])
    if src.byte() & 1:
        return msgpack.packb(items, use_bin_type=True)  # type: ignore[no-any-return]
    return msgpack.packb({"op": "x", **{str(i): v for i, v in enumerate(items)}})  # type: ignore[no-any-return]


def _edit(frames: list[bytes], src: Source) -> None:
    """One op of the program: a byte edit, a frame-list edit, or a structured frame."""
    op = src.below(16)
    k = src.below(len(frames)) if frames else 0
    data = bytearray(frames[k]) if frames else bytearray()
    at = src.below(len(data) + 1)
    if op == 0 and data:
        data[min(at, len(data) - 1)] = src.byte()
    elif op == 1 and data:
        data[min(at, len(data) - 1)] ^= 1 << src.below(8)
    elif op == 2:
        data.insert(at, src.pick(TOKENS))
    elif op == 3:
        del data[at:]
    elif op == 4 and len(frames) > 1:
        del frames[k]
        return
    elif op == 5 and frames and len(frames) < MAX_FRAMES:
        frames.insert(src.below(len(frames) + 1), frames[k])
        return
    elif op == 6 and frames:
        j = src.below(len(frames))
        frames[k], frames[j] = frames[j], frames[k]
        return
    elif op == 7:
        data = bytearray(lz4.block.compress(bytes(data), store_size=True))
    elif op == 8:
        data = bytearray(zlib.compress(bytes(data)))
    elif op == 9:
        data = bytearray(_sub_header(src))
    elif op == 10:
        frames[:1] = [_frame0(src, len(frames))]
        return
    elif op == 11 and len(frames) < MAX_FRAMES:
        frames.insert(src.below(len(frames) + 1), src.take(src.below(8)))
        return
    elif op == 12 and len(data) >= 4:  # an lz4 size prefix: what the block declares
        data[:4] = struct.pack("<I", src.pick((0, 1, 3, 255, 4096, 2**20, 2**31 - 1, 2**32 - 1)))
    elif op == 13:  # wrap frame 0 in a batch with one more index marker
        marker = msgpack.packb({src.pick(MARKERS[:2]): src.below(len(frames) + 1)})
        data = bytearray(b"\x92" + bytes(data) + marker)
        k = 0
    elif op == 14:
        data[at:at] = src.take(src.below(16))
    elif op == 15:  # a longer frame, up to MAX_GROWN bytes (ops repeat: no more)
        data = data * max(1, min(1 + src.below(64), MAX_GROWN // max(len(data), 1)))
    if frames:
        frames[k] = bytes(data)


def read_frames(src: Source) -> list[bytes]:
    """A frame list: a count and each frame's length (LEB128), the frames, then edit ops."""
    count = min(_varint(src), MAX_FRAMES)
    frames = []
    for _ in range(count):
        size = _varint(src)
        frames.append(src.data[src.pos : src.pos + size])
        src.pos = min(len(src.data), src.pos + size)
    for _ in range(MAX_OPS):
        if src.pos >= len(src.data):
            break
        _edit(frames, src)
    return frames


def write_frames(frames: list[bytes]) -> bytes:
    return _put_varint(len(frames)) + b"".join(_put_varint(len(f)) + f for f in frames)


# -- the target ---------------------------------------------------------------------------------


def _chunks(data: bytes, how: int, cuts: bytes) -> list[bytes]:
    """The stream cut at up to three fuzzed points, or byte by byte."""
    if how & 0x80 and len(data) <= BYTEWISE:
        return [data[i : i + 1] for i in range(len(data))]
    points = sorted(c * len(data) // 256 for c in cuts[: how % 4])
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_one_input(data: bytes) -> None:
    """One fuzz input: flags, a limits byte, then a stream (with cuts) or a frame list."""
    if len(data) < 2:
        return
    flags, limits = data[0], limits_of(data[1])
    if flags & 1 == 0:  # a stream of wire bytes
        how, cuts, body = data[2:3], data[3:6], data[6:]
        first = check_stream(body, _chunks(body, how[0] if how else 0, cuts), limits)
        if first is not None:
            check_hints(first, flags, limits)
            check_decode(first, limits)
        return
    src = Source(data[2:])
    choice = src.byte()
    frames = read_frames(src)
    check_decode(frames, limits)
    if flags & 2 and frames:  # the same frames on a stream, with a fuzzed hint
        check_hints(frames, choice, limits)
        wire = pack_bytes(frames)
        stream = wire * (1 + choice % 2) + wire[: choice % 64]
        check_stream(stream, _chunks(stream, choice, data[2:5]), limits)


def _limits_byte(given: Any) -> int:
    """The limits byte closest to a vector's limits: a bit for each field it lowers."""
    fields = [name for name, _ in TIGHT]
    return sum(1 << fields.index(name) for name in dict(given or {}) if name in fields)


def seeds() -> dict[str, bytes]:
    """The dask-2023.11 vectors: wire bytes and streams as streams, frame lists as frames."""
    from daskwire_conformance.common.suite import load_suite

    out: dict[str, bytes] = {}
    for vector in load_suite(VECTORS):
        name = vector.id.replace("/", "-")
        bits = _limits_byte(vector.input.get("limits"))
        frames = vector.input.get("frames")
        if frames is None and vector.kind == "encode":
            frames = vector.expected.get("frames")
        wire = vector.input.get("wire")
        if wire is None and "chunks" in vector.input:
            wire = b"".join(frame_from_notation(c) for c in vector.input["chunks"])
        elif wire is not None:
            wire = frame_from_notation(wire)
        if wire is not None:  # a stream vector byte by byte, others in three pieces
            how = 0x80 if vector.kind == "stream" else 0x02
            out[name] = bytes([0, bits, how, 0x55, 0xAA, 0]) + wire
        if frames is not None:  # frames that decode travel on a stream too
            flags = 1 if vector.negative else 3
            body = write_frames([frame_from_notation(f) for f in frames])
            out[name] = bytes([flags, bits, 0x90]) + body
    assert len(out) > 100, f"only {len(out)} seeds from {VECTORS}"
    assert max(map(len, out.values())) < 2**21
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv, __doc__, test_one_input, seeds))
