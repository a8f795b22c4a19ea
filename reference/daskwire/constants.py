"""Wire facts all profiles share, as named constants, each citing the requirement that fixes it."""

from __future__ import annotations

from typing import Final

#: Version of the specification text this package implements.
SPEC_VERSION: Final = "2.0.0"

# --- wire framing (spec/framing.md) --------------------------------------------------------

#: Width in bytes of the frame count and of each frame length: unsigned, little-endian (WF-1).
PRELUDE_INT_BYTES: Final = 8
#: struct format of one prelude integer: u64 little-endian (WF-1).
PRELUDE_INT_FORMAT: Final = "<Q"

# --- compression (spec/compression.md) -----------------------------------------------------

#: The codec every decoder supports: 4-byte LE size prefix + LZ4 block (CP-1).
CODEC_LZ4: Final = "lz4"
#: Optional codec: a zlib stream, RFC 1950 (CP-2).
CODEC_ZLIB: Final = "zlib"
#: Optional codec names the spec defines (CP-2); an implementation declares which it supports.
OPTIONAL_CODECS: Final = ("snappy", CODEC_ZLIB, "zstd")
#: Width of the lz4 uncompressed-size prefix, little-endian u32 (CP-1).
LZ4_SIZE_PREFIX_BYTES: Final = 4
