"""Limits (spec/limits.md): every field rejects one past its bound and accepts the bound itself."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from typing import Any

import daskwire
import lz4.block
import pytest
from daskwire import CONSUMING, DEFAULT_LIMITS, FORWARDING, LimitExceeded, Limits, Materialized

from .strategies import bare_header, hx, parse_path, placeholder

BOTH = (FORWARDING, CONSUMING)


def rejects(frames: list[bytes], limits: Limits, limit: str, *, modes: Any = BOTH) -> None:
    """Every mode in `modes` raises LimitExceeded naming `limit`."""
    for mode in modes:
        with pytest.raises(LimitExceeded) as info:
            daskwire.decode(frames, mode=mode, limits=limits)
        assert info.value.limit == limit, str(info.value)
        assert info.value.category == "limit-exceeded"


def accepts(frames: list[bytes], limits: Limits, *, modes: Any = BOTH) -> None:
    for mode in modes:
        daskwire.decode(frames, mode=mode, limits=limits)


def nested(depth: int) -> bytes:
    """A payload of `depth` nested arrays: [[...[]...]]."""
    return b"\x91" * (depth - 1) + b"\x90"


# -- LM-1 .. LM-3: the frame list -------------------------------------------------------------


def test_max_frames() -> None:
    frames = [b"", b"\x80"]
    accepts(frames, Limits(max_frames=2))
    rejects(frames, Limits(max_frames=1), "max_frames")


def test_max_frames_is_checked_before_too_few_frames() -> None:
    rejects([b""], Limits(max_frames=0), "max_frames")


def test_max_frame_bytes() -> None:
    frames = [b"", b"\x81\xa1a\xa3abc"]  # frame 1 is 7 bytes
    accepts(frames, Limits(max_frame_bytes=7))
    rejects(frames, Limits(max_frame_bytes=6), "max_frame_bytes")


def test_max_message_bytes_counts_the_prelude() -> None:
    frames = [b"", b"\x80", b""]
    placeholder_free = [b"", b"\x80"]
    size = 8 * 3 + 1  # count, two lengths, one byte
    accepts(placeholder_free, Limits(max_message_bytes=size))
    rejects(placeholder_free, Limits(max_message_bytes=size - 1), "max_message_bytes")
    rejects(frames, Limits(max_message_bytes=8 * 4), "max_message_bytes")


def test_frame_limits_come_before_frame_zero() -> None:
    """ER-3 layer 1 before layer 2."""
    rejects([b"\xc1", b"\x80", b""], Limits(max_frames=2), "max_frames")
    rejects([b"\xc1\xc1", b"\x80"], Limits(max_frame_bytes=1), "max_frame_bytes")


@pytest.mark.parametrize(
    ("limits", "name"),
    [
        (Limits(max_frames=2), "max_frames"),
        (Limits(max_frame_bytes=2), "max_frame_bytes"),
        (Limits(max_message_bytes=8 * 4 + 3), "max_message_bytes"),
    ],
)
def test_frame_limits_on_the_wire(limits: Limits, name: str) -> None:
    wire = daskwire.pack_bytes([b"", b"\x80", b"abc"])
    with pytest.raises(LimitExceeded) as info:
        daskwire.unpack(wire, limits=limits)
    assert info.value.limit == name
    with pytest.raises(LimitExceeded) as streamed:
        daskwire.FrameReader(limits).feed(wire)
    assert streamed.value.limit == name


# -- LM-4: nesting depth ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["natural", "exact"])
@pytest.mark.parametrize("depth", [1, 2, 5, 40])
def test_max_depth_in_frame_one(depth: int, path: str) -> None:
    frames = [b"", nested(depth)]

    def run(limits: Limits) -> None:
        if path == "natural":
            daskwire.decode(frames, limits=limits)
        else:
            with parse_path("exact"):
                daskwire.decode(frames, limits=limits)

    run(Limits(max_depth=depth))
    with pytest.raises(LimitExceeded) as info:
        run(Limits(max_depth=depth - 1))
    assert info.value.limit == "max_depth"
    assert info.value.requirement == "PL-11"


def test_default_max_depth_is_256() -> None:
    assert DEFAULT_LIMITS.max_depth == 256
    daskwire.decode([b"", nested(256)])
    rejects([b"", nested(257)], DEFAULT_LIMITS, "max_depth")


def test_depth_of_a_long_flat_payload_is_one() -> None:
    """Many container markers but depth 2: the exact path counts depth, not markers."""
    payload = b"\xdc\x01\x2c" + b"\x80" * 300  # an array of 300 empty maps
    accepts([b"", payload], Limits(max_depth=2))
    rejects([b"", payload], Limits(max_depth=1), "max_depth")


def test_max_depth_in_frame_zero() -> None:
    """LM-4 covers frame 0 too, and is a limit, not an invalid small header."""
    frame0 = hx("81 a1 78 91 91 90")  # {"x": [[[]]]}: depth 4
    accepts([frame0, b"\x80"], Limits(max_depth=4))
    rejects([frame0, b"\x80"], Limits(max_depth=3), "max_depth")


def test_placeholders_and_headers_count_toward_depth() -> None:
    """{"v": placeholder} puts the placeholder at 2, its header at 3, `lengths` at 4."""
    header = bare_header("91 01", "91 c0", 1)
    frames = [b"", hx(f"81 a1 76 {placeholder(header, 0, 1)}"), b"A"]
    accepts(frames, Limits(max_depth=4))
    rejects(frames, Limits(max_depth=3), "max_depth")
    message = {"v": Materialized({}, [b"A"])}
    daskwire.encode(message, limits=Limits(max_depth=4))
    with pytest.raises(LimitExceeded) as info:
        daskwire.encode(message, limits=Limits(max_depth=3))
    assert info.value.limit == "max_depth"


def test_encoder_counts_the_placeholder_itself() -> None:
    """A value at depth 2 needs max_depth >= 2 for its placeholder, before its header."""
    with pytest.raises(LimitExceeded) as info:
        daskwire.encode({"v": Materialized({}, [])}, limits=Limits(max_depth=1))
    assert info.value.limit == "max_depth"
    with pytest.raises(LimitExceeded):
        daskwire.encode({"v": b"x" * 65_537}, limits=Limits(max_depth=1))


def test_depth_limit_zero_rejects_every_container() -> None:
    rejects([b"", b"\x80"], Limits(max_depth=0), "max_depth")
    with pytest.raises(daskwire.InvalidMessage):
        daskwire.decode([b"", b"\x01"], limits=Limits(max_depth=0))


def test_encoder_depth_matches_decoder_depth() -> None:
    deep: Any = {}
    for _ in range(255):
        deep = [deep]
    frames = daskwire.encode(deep)  # 256 levels
    daskwire.decode(frames)
    with pytest.raises(LimitExceeded):
        daskwire.encode([deep])


# -- LM-5, LM-6: decompression ---------------------------------------------------------------

SMALL_LZ4 = hx("81 ab 636f6d7072657373696f6e a3 6c7a34")
SMALL_ZLIB = hx("81 ab 636f6d7072657373696f6e a4 7a6c6962")
BODY = b"\x81\xa1s\xda\x03\xe8" + b"y" * 1000  # {"s": "y" * 1000}, 1006 bytes


def lz4_frame(data: bytes) -> bytes:
    out: bytes = lz4.block.compress(data, store_size=True)
    return out


def test_lz4_payload_at_and_over_max_decompressed_bytes() -> None:
    frames = [SMALL_LZ4, lz4_frame(BODY)]
    accepts(frames, Limits(max_decompressed_bytes=len(BODY)))
    rejects(frames, Limits(max_decompressed_bytes=len(BODY) - 1), "max_decompressed_bytes")


def test_lz4_payload_at_and_over_max_decompression_ratio() -> None:
    frame = lz4_frame(BODY)
    compressed = len(frame) - 4  # CP-5: the size prefix does not count
    ratio = -(-len(BODY) // compressed)  # the smallest whole ratio that admits it
    accepts([SMALL_LZ4, frame], Limits(max_decompression_ratio=ratio))
    rejects(
        [SMALL_LZ4, frame], Limits(max_decompression_ratio=ratio - 1), "max_decompression_ratio"
    )


def test_forged_lz4_size_prefix_fails_before_allocating() -> None:
    frame = struct.pack("<I", 2**32 - 1) + lz4_frame(BODY)[4:]
    rejects([SMALL_LZ4, frame], DEFAULT_LIMITS, "max_decompressed_bytes")
    bomb = struct.pack("<I", 2049 * 8) + b"\x80" * 8  # 8 compressed bytes claim 16392
    rejects([SMALL_LZ4, bomb], DEFAULT_LIMITS, "max_decompression_ratio")


def test_zlib_payload_limits() -> None:
    frame = zlib.compress(BODY)
    accepts([SMALL_ZLIB, frame], Limits(max_decompressed_bytes=len(BODY)))
    rejects(
        [SMALL_ZLIB, frame], Limits(max_decompressed_bytes=len(BODY) - 1), "max_decompressed_bytes"
    )
    ratio = -(-len(BODY) // len(frame))
    accepts([SMALL_ZLIB, frame], Limits(max_decompression_ratio=ratio))
    rejects(
        [SMALL_ZLIB, frame], Limits(max_decompression_ratio=ratio - 1), "max_decompression_ratio"
    )


def test_zlib_bomb_stops_at_the_bound() -> None:
    """CP-5: zlib declares no size, so decompression stops once the output passes a bound.

    The category alone would not show it (inflating the whole bomb, then refusing it, gives
    the same one), so the peak of the memory allocated while decoding is measured too.
    """
    bomb = zlib.compress(b"\x00" * 50_000_000, 9)
    tracemalloc.start()
    try:
        rejects([SMALL_ZLIB, bomb], Limits(max_decompressed_bytes=1000), "max_decompressed_bytes")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"decoding allocated {peak} bytes at its peak"


def offloaded(codec_hex: str, frame: bytes, size: int, *, raw: bool = False) -> list[bytes]:
    lengths = f"91 cd {size:04x}"
    header = bare_header(lengths, f"91 {codec_hex}", 1, raw=raw)
    return [b"", hx(f"81 a1 76 {placeholder(header, 0, 1)}"), frame]


@pytest.mark.parametrize("codec", ["lz4", "zlib"])
def test_offloaded_frames_obey_the_decompression_limits(codec: str) -> None:
    """LM-5/LM-6 apply to every decompressed offloaded frame, in consuming mode (RX-3)."""
    frame = lz4_frame(BODY) if codec == "lz4" else zlib.compress(BODY)
    codec_hex = "a3 6c7a34" if codec == "lz4" else "a4 7a6c6962"
    frames = offloaded(codec_hex, frame, len(BODY))
    accepts(frames, Limits(max_decompressed_bytes=len(BODY)))
    tight = Limits(max_decompressed_bytes=len(BODY) - 1)
    rejects(frames, tight, "max_decompressed_bytes", modes=(CONSUMING,))
    accepts(frames, tight, modes=(FORWARDING,))
    raw = offloaded(codec_hex, frame, len(BODY), raw=True)
    rejects(raw, tight, "max_decompressed_bytes")  # raw byte strings: every receiver


def test_limits_come_from_the_limits_argument_only() -> None:
    frames = [SMALL_LZ4, lz4_frame(BODY)]
    daskwire.decode(frames)
    daskwire.decode(frames, limits=DEFAULT_LIMITS)
    rejects(frames, Limits(max_decompressed_bytes=10), "max_decompressed_bytes")
    daskwire.decode(frames)  # no state carried over


# -- deep nesting within a raised limit ------------------------------------------------------

DEEP_LIMITS = Limits(max_depth=1024)  # the highest bound Limits admits


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_encode_within_a_raised_depth_limit() -> None:
    frames = daskwire.encode(_deep_list(600), limits=DEEP_LIMITS)
    daskwire.decode(frames, limits=DEEP_LIMITS)


def test_decode_deep_array_key_within_a_raised_depth_limit() -> None:
    key = b"\x91" * 600 + b"\x01"  # an array key nested 601 deep
    daskwire.decode([b"", b"\x81" + key + b"\x01"], limits=DEEP_LIMITS)


def test_decode_deep_header_within_a_raised_depth_limit() -> None:
    empty = bare_header("90", "90", 0)
    deep = b"\x91" * 600 + b"\x90"
    header = hx("85 a1 78") + deep + hx(bare_header("90", "90", 0)[3:])
    payload = hx(f"82 a1 61 {placeholder(empty, 0, 0)} a1 62 83 a8 5f24686561646572") + header
    payload += hx("a8 5f2466696e646578 00 a8 5f2466636f756e74 00")
    daskwire.decode([b"", payload], limits=DEEP_LIMITS)


def test_deep_messages_within_the_default_limit() -> None:
    """What the xfail cases above need, at the default bound: fine."""
    daskwire.decode(daskwire.encode(_deep_list(256)))
    key = b"\x91" * 254 + b"\x01"
    daskwire.decode([b"", b"\x81" + key + b"\x01"])
