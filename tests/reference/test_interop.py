"""Codec interop: daskwire's lz4 and zlib frames against independent implementations."""

from __future__ import annotations

import zlib

import cramjam
import daskwire
import pytest
from daskwire import CONSUMING, FORWARDING, Materialized

from .strategies import bare_header, hx, placeholder

DATA = b"the quick brown fox jumps over the lazy dog " * 500  # 22500 bytes, compressible
SMALL_LZ4 = hx("81 ab 636f6d7072657373696f6e a3 6c7a34")


def test_daskwire_lz4_frames_decompress_with_cramjam() -> None:
    frames = daskwire.encode({"v": Materialized({}, [DATA])}, compression="lz4")
    header = daskwire.decode(frames, mode=FORWARDING)["v"].header
    assert header["compression"] == ("lz4",)
    wire = bytes(frames[2])
    assert int.from_bytes(wire[:4], "little") == len(DATA)  # CP-1: u32 LE size prefix
    assert bytes(cramjam.lz4.decompress_block(wire)) == DATA
    assert bytes(cramjam.lz4.decompress_block(wire[4:], output_len=len(DATA))) == DATA


def test_daskwire_lz4_payload_decompresses_with_cramjam() -> None:
    message = {"op": "update", "text": DATA.decode()}
    frames = daskwire.encode(message, compression="lz4")
    assert bytes(frames[0]) == SMALL_LZ4
    body = bytes(cramjam.lz4.decompress_block(bytes(frames[1])))
    assert daskwire.decode([b"", body]) == message


def test_split_lz4_shards_decompress_with_cramjam() -> None:
    frames = daskwire.encode({"v": Materialized({}, [DATA])}, compression="lz4", shard_size=10_000)
    header = daskwire.decode(frames)["v"].header
    assert header["compression"] == ("lz4", "lz4", None)  # the 2500-byte tail stays raw
    pieces = [
        bytes(cramjam.lz4.decompress_block(bytes(f))) if codec else bytes(f)
        for codec, f in zip(header["compression"], frames[2:], strict=True)
    ]
    assert b"".join(pieces) == DATA


@pytest.mark.parametrize("mode", [FORWARDING, CONSUMING])
def test_cramjam_lz4_frames_decode_through_daskwire(mode: str) -> None:
    """A frame list built by hand with cramjam's lz4 block output, payload included."""
    frame = bytes(cramjam.lz4.compress_block(DATA))
    lengths = f"91 ce {len(DATA):08x}"
    header = bare_header(lengths, "91 a3 6c7a34", 1)
    body = hx(f"82 a2 6f70 a1 78 a1 76 {placeholder(header, 0, 1)}")
    payload = bytes(cramjam.lz4.compress_block(body))
    decoded = daskwire.decode([SMALL_LZ4, payload, frame], mode=mode)  # type: ignore[arg-type]
    assert decoded["op"] == "x"
    value = decoded["v"]
    if mode == CONSUMING:
        assert value == Materialized({}, [DATA])
    else:
        assert bytes(value.frames[0]) == frame  # forwarded untouched (CP-8)


def test_cramjam_raw_bytestring_decodes_in_every_mode() -> None:
    frame = bytes(cramjam.lz4.compress_block(DATA))
    header = bare_header(f"91 ce {len(DATA):08x}", "91 a3 6c7a34", 1, raw=True)
    frames = [b"", hx(f"81 a1 72 {placeholder(header, 0, 1)}"), frame]
    for mode in (FORWARDING, CONSUMING):
        assert bytes(daskwire.decode(frames, mode=mode)["r"]) == DATA


def test_daskwire_zlib_frames_decompress_with_the_zlib_module() -> None:
    frames = daskwire.encode({"v": Materialized({}, [DATA])}, compression="zlib")
    assert daskwire.decode(frames)["v"].header["compression"] == ("zlib",)
    assert zlib.decompress(bytes(frames[2])) == DATA
    body = daskwire.encode({"t": DATA.decode()}, compression="zlib")
    assert zlib.decompress(bytes(body[1]))[:3] == hx("81 a1 74")


@pytest.mark.parametrize("level", [0, 1, 9])
def test_zlib_module_frames_decode_through_daskwire(level: int) -> None:
    header = bare_header(f"91 ce {len(DATA):08x}", "91 a4 7a6c6962", 1)
    frames = [
        hx("81 ab 636f6d7072657373696f6e a4 7a6c6962"),
        zlib.compress(hx(f"81 a1 76 {placeholder(header, 0, 1)}"), level),
        zlib.compress(DATA, level),
    ]
    assert daskwire.decode(frames, mode=CONSUMING) == {"v": Materialized({}, [DATA])}
