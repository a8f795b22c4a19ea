"""Mutant: an lz4 block decoder without the end-of-block rules that copies offset 0 as zeros.

It follows the LZ4 block format's letter where the format lets a decoder choose, and decodes
an offset of 0 as liblz4 does (CP-12, CP-13). Run as a command: it replaces the reference's
lz4 decompression for the whole process.
"""

from __future__ import annotations

import struct
from typing import Any

import daskwire.codecs
from _base import ReferenceTestee, run_main
from daskwire import InvalidCompressedData


def _length(block: bytes, at: int, nibble: int) -> tuple[int, int]:
    length = nibble
    while nibble == 15:
        nibble = block[at]
        at += 1
        length += nibble
        nibble = 15 if nibble == 255 else 0
    return length, at


def _lenient(block: bytes) -> bytes:
    out = bytearray()
    at = 0
    while True:
        token = block[at]
        literals, at = _length(block, at + 1, token >> 4)
        out += block[at : at + literals]
        at += literals
        if at >= len(block):
            return bytes(out)
        offset = block[at] | block[at + 1] << 8
        size, at = _length(block, at + 2, token & 0x0F)
        if offset > len(out):
            raise IndexError(offset)
        for _ in range(size + 4):
            out.append(out[-offset] if offset else 0)  # the fault: no CP-12, offset 0 zeros


def _decompress(data: Any, limits: Any) -> bytes:
    frame = bytes(data)
    if len(frame) < 5:
        raise InvalidCompressedData("shorter than the size prefix and one byte")
    (declared,) = struct.unpack_from("<I", frame)
    daskwire.codecs._check_size(declared, len(frame) - 4, limits)
    try:
        out = _lenient(frame[4:])
    except IndexError as exc:
        raise InvalidCompressedData("the block does not decompress") from exc
    if len(out) != declared:
        raise InvalidCompressedData("the block decompresses to another size")
    return out


class Mutant(ReferenceTestee):
    pass


if __name__ == "__main__":
    daskwire.codecs._lz4_decompress = _decompress
    run_main(Mutant())
