"""Coverage-guided fuzz target (atheris) for daskwire's wire reader and decoders."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import lz4.block
from _harness import instrumented, main

with instrumented():
    import daskwire
    from daskwire.notation import difference

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

#: Decompression errors and limits: the only categories that may differ between modes.
LAYER_SIX = {"unknown-codec", "invalid-compressed-data", "length-mismatch", "limit-exceeded"}
TIGHT = Limits(
    max_frames=16,
    max_frame_bytes=4096,
    max_message_bytes=16384,
    max_depth=8,
    max_decompressed_bytes=4096,
    max_decompression_ratio=64,
)
SMALL_LZ4 = b"\x81\xabcompression\xa3lz4"


def _outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, call()
    except DaskwireError as exc:
        return False, exc.category.value


def _same(a: Any, b: Any) -> None:
    found = difference(a, b)
    if found is not None:
        raise AssertionError(found)


def check_decode(frames: list[Any], limits: Limits) -> None:
    """Both modes agree on acceptance; what a consuming receiver accepts re-encodes."""
    fwd_ok, fwd = _outcome(lambda: daskwire.decode(frames, mode=FORWARDING, limits=limits))
    con_ok, con = _outcome(lambda: daskwire.decode(frames, mode=CONSUMING, limits=limits))
    if not fwd_ok:
        assert not con_ok, f"forwarding rejects ({fwd}) what consuming accepts"
        assert con == fwd or {con, fwd} <= LAYER_SIX, (fwd, con)
    if con_ok:
        assert fwd_ok, f"consuming accepts what forwarding rejects ({fwd})"
        again = daskwire.encode(fwd)
        _same(fwd, daskwire.decode(again, mode=FORWARDING))
        _same(con, daskwire.decode(again, mode=CONSUMING))
        _same(con, daskwire.decode(daskwire.encode(con), mode=CONSUMING))


def _read(pieces: list[bytes], limits: Limits) -> tuple[str | None, list[list[bytes]]]:
    reader = FrameReader(limits)
    got: list[list[bytes]] = []
    try:
        for piece in pieces:
            got.extend([bytes(f) for f in m] for m in reader.feed(piece))
        reader.close()
    except DaskwireError as exc:
        return exc.category.value, got
    return None, got


def check_wire(data: bytes, cut: int, limits: Limits) -> None:
    """unpack and FrameReader agree however the bytes are chunked; decode what unpacks."""
    whole = _read([data], limits)
    at = cut * len(data) // 256
    chunked = _read([data[:at], data[at:]], limits)
    assert whole[0] == chunked[0], (whole[0], chunked[0])
    if whole[0] is None:
        assert whole[1] == chunked[1]
    ok, frames = _outcome(lambda: daskwire.unpack(data, limits=limits))
    if ok:
        assert whole == (None, [[bytes(f) for f in frames]])
        check_decode(frames, limits)


def test_one_input(data: bytes) -> None:
    """One fuzz input: a flags byte, a cut byte, then wire bytes or frame 1."""
    if len(data) < 2:
        return
    flags, cut, body = data[0], data[1], data[2:]
    limits = TIGHT if flags & 4 else DEFAULT_LIMITS
    target = flags & 3
    if target == 0:
        check_wire(body, cut, limits)
    elif target == 1:
        check_decode([b"", body], limits)
    elif target == 2:
        check_decode([SMALL_LZ4, lz4.block.compress(body, store_size=True)], limits)
    else:
        extra = [body[i : i + 3] for i in range(0, min(cut % 8, len(body)) * 3, 3)]
        check_decode([b"", body, *extra], limits)


def seeds() -> dict[str, bytes]:
    """A small seed corpus: valid messages of every shape, as wire bytes and as frame 1."""
    messages: dict[str, tuple[Any, dict[str, Any]]] = {
        "g1": ({"op": "x", "data": Offloaded({"serializer": "pickle"}, [b"\x80\x04K{."])}, {}),
        "batch": ([{"op": "a", "d": Materialized({}, [b"A"])}, {"op": "b"}], {}),
        "split": ({"v": Materialized({"s": 1}, [b"abcdef", b""])}, {"shard_size": 4}),
        "zero-frames": ({"v": Materialized({}, []), "w": [1, 2.5, Float32(0.5)]}, {}),
        "keys": ({None: 1, 2: b"b", (1, ("a",)): "x", -1: [True]}, {}),
        "lz4-payload": ({"s": "y" * 12_000}, {"compression": "lz4"}),
        "raw": ({"r": b"x" * 65_537}, {"compression": "lz4"}),
    }
    out = {}
    for name, (message, options) in messages.items():
        frames = [bytes(f) for f in daskwire.encode(message, **options)]
        out[f"{name}-wire"] = b"\x00\x80" + daskwire.pack_bytes(frames)
        if not frames[0]:
            out[f"{name}-payload"] = b"\x01\x00" + frames[1]
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv, __doc__, test_one_input, seeds))
