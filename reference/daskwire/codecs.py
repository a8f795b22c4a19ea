"""The codecs of the spec (lz4 block with size prefix, zlib), bounded by the decoder limits."""

from __future__ import annotations

import struct
import zlib
from typing import Final

import lz4.block

from .constants import CODEC_LZ4, CODEC_ZLIB, LZ4_SIZE_PREFIX_BYTES
from .errors import InvalidCompressedData, LimitExceeded, UnknownCodec
from .limits import Limits
from .model import Buffer

__all__ = ["SUPPORTED_CODECS", "compress", "decompress"]

#: The codecs this implementation decodes and encodes: lz4 (required, CP-1), zlib (CP-2).
SUPPORTED_CODECS: Final = (CODEC_LZ4, CODEC_ZLIB)

_LZ4_PREFIX = struct.Struct("<I")
#: A length nibble of 15 continues in the bytes after it; a byte of 255 continues further.
_LZ4_MORE: Final = 15
_LZ4_BYTE_MAX: Final = 255
#: What a match with offset 0 leaves: its offset field, and at least 4 zero bytes of output.
_ZERO_OFFSET: Final = bytes(2)
_ZERO_MATCH: Final = bytes(4)


def compress(codec: str, data: Buffer) -> bytes:
    """Compress one frame with a supported codec (CP-1, CP-2)."""
    if codec == CODEC_LZ4:
        out: bytes = lz4.block.compress(data, store_size=True)
        return out
    if codec == CODEC_ZLIB:
        return zlib.compress(data)
    msg = f"codec {codec!r} is not one of {SUPPORTED_CODECS}"
    raise UnknownCodec(msg, requirement="CP-2")


def _check_size(declared: int, compressed: int, limits: Limits) -> None:
    if declared > limits.max_decompressed_bytes:
        msg = (
            f"frame declares {declared} decompressed bytes, "
            f"over max_decompressed_bytes={limits.max_decompressed_bytes}"
        )
        raise LimitExceeded(msg, limit="max_decompressed_bytes", requirement="CP-5")
    if declared > limits.max_decompression_ratio * max(compressed, 1):
        msg = (
            f"frame declares {declared} bytes from {compressed} compressed bytes, "
            f"over max_decompression_ratio={limits.max_decompression_ratio}"
        )
        raise LimitExceeded(msg, limit="max_decompression_ratio", requirement="CP-5")


def _lz4_decompress(data: Buffer, limits: Limits) -> bytes:
    view = memoryview(data)
    if view.nbytes < LZ4_SIZE_PREFIX_BYTES + 1:
        msg = f"lz4 frame of {view.nbytes} bytes is shorter than its size prefix and one token"
        raise InvalidCompressedData(msg, requirement="CP-1")
    (declared,) = _LZ4_PREFIX.unpack_from(view)
    # CP-14: the declared size is checked before anything in the block.
    _check_size(declared, view.nbytes - LZ4_SIZE_PREFIX_BYTES, limits)
    try:
        # liblz4 also rejects a block that breaks the end-of-block conditions (CP-12) or
        # refers to data before its start (CP-13).
        out: bytes = lz4.block.decompress(view)
    except lz4.block.LZ4BlockError as exc:
        msg = f"lz4 block does not decompress to its declared {declared} bytes: {exc}"
        raise InvalidCompressedData(msg, requirement="CP-4") from exc
    except ValueError as exc:
        # python-lz4 takes sizes up to 2**31 - 1 only (liblz4's `int`), and liblz4 compresses
        # at most LZ4_MAX_INPUT_SIZE (0x7E000000) bytes into one block, so a larger declared
        # size that the limits allow belongs to no block liblz4 writes.
        msg = f"lz4 block declares {declared} bytes, more than liblz4 decompresses: {exc}"
        raise InvalidCompressedData(msg, requirement="CP-4") from exc
    # liblz4 accepts a match offset of 0 and writes zeros for it (lz4_Block_format.md,
    # "Safe decoding"). Such a match leaves four zero bytes in the output and two in the
    # block, so only a block that has both needs its offsets read.
    if _ZERO_MATCH in out:
        block = bytes(view[LZ4_SIZE_PREFIX_BYTES:])
        if _ZERO_OFFSET in block and _lz4_has_zero_offset(block):
            msg = "lz4 block holds a match with offset 0"
            raise InvalidCompressedData(msg, requirement="CP-13")
    return out


def _lz4_has_zero_offset(block: bytes) -> bool:
    """Whether a block that liblz4 accepted holds a match with offset 0 (CP-13).

    Walks the sequences only. liblz4 has already checked that every length stays inside the
    block, so the walk needs no bounds checks of its own.
    """
    end = len(block)
    at = 0
    while True:
        token = block[at]
        at += 1
        literals = token >> 4
        if literals == _LZ4_MORE:
            literals, at = _lz4_long_length(block, at, literals)
        at += literals
        if at >= end:  # the last sequence holds literals only (CP-12)
            return False
        if block[at] == 0 and block[at + 1] == 0:
            return True
        at += 2
        if token & 0x0F == _LZ4_MORE:
            _, at = _lz4_long_length(block, at, _LZ4_MORE)


def _lz4_long_length(block: bytes, at: int, length: int) -> tuple[int, int]:
    """A length whose token nibble is 15: add the bytes that follow, up to one below 255."""
    while True:
        extra = block[at]
        at += 1
        length += extra
        if extra != _LZ4_BYTE_MAX:
            return length, at


def _zlib_decompress(data: Buffer, limits: Limits) -> bytes:
    compressed = memoryview(data).nbytes
    ceiling = min(
        limits.max_decompressed_bytes, limits.max_decompression_ratio * max(compressed, 1)
    )
    stream = zlib.decompressobj()
    try:
        out = stream.decompress(data, ceiling + 1)
    except zlib.error as exc:
        msg = f"zlib stream does not decompress: {exc}"
        raise InvalidCompressedData(msg, requirement="CP-4") from exc
    if len(out) > ceiling:
        _check_size(len(out), compressed, limits)
    if not stream.eof or stream.unused_data:
        msg = "zlib stream is truncated or followed by extra bytes"
        raise InvalidCompressedData(msg, requirement="CP-4")
    return out


def decompress(codec: str, data: Buffer, limits: Limits) -> bytes:
    """Decompress one frame, checking sizes against `limits` before allocating (CP-4, CP-5)."""
    if codec == CODEC_LZ4:
        return _lz4_decompress(data, limits)
    if codec == CODEC_ZLIB:
        return _zlib_decompress(data, limits)
    msg = f"codec {codec!r} is not supported here (supported: {', '.join(SUPPORTED_CODECS)})"
    raise UnknownCodec(msg, requirement="CP-2")
