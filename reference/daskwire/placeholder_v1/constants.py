"""Wire facts of placeholder-v1 as named constants, each citing the requirement that fixes it."""

from __future__ import annotations

from typing import Final

#: Name of the profile this subpackage implements (spec: index).
PROFILE: Final = "placeholder-v1"

# --- wire framing (spec/framing.md) --------------------------------------------------------

#: The fewest frames a message has: frame 0 (small header) and frame 1 (payload) (WF-2).
MIN_FRAMES: Final = 2
#: Index of the small header frame (SH-1).
SMALL_HEADER_INDEX: Final = 0
#: Index of the payload frame (PL-1).
PAYLOAD_INDEX: Final = 1
#: Index of the first frame of the offload area; `_$findex` counts from here (PH-5).
OFFLOAD_BASE: Final = 2

# --- frame 0, the small header (spec/small-header.md) --------------------------------------

#: The one key frame 0 defines: the codec applied to frame 1 as a whole (SH-2).
SMALL_HEADER_COMPRESSION: Final = "compression"

# --- the placeholder (spec/placeholder.md) -------------------------------------------------

#: Reserved key holding the offloaded value's header map (PH-1).
KEY_HEADER: Final = "_$header"
#: Reserved key holding the index of the value's first frame, relative to frame 2 (PH-1, PH-5).
KEY_FINDEX: Final = "_$findex"
#: Reserved key holding the number of frames of the value (PH-1, PH-10).
KEY_FCOUNT: Final = "_$fcount"
#: The reserved keys; in canonical order (PH-1, CE-4).
RESERVED_KEYS: Final = (KEY_HEADER, KEY_FINDEX, KEY_FCOUNT)

# --- the header (spec/header.md) -----------------------------------------------------------

#: Transport key: number of frames on the wire (HD-2).
HEADER_COUNT: Final = "count"
#: Transport key: true marks a raw byte string every receiver materialises (HD-3, HD-9).
HEADER_DESERIALIZE: Final = "deserialize"
#: Transport key: sizes of the original frames before splitting and compression (HD-4).
HEADER_LENGTHS: Final = "lengths"
#: Transport key: codec name or nil per wire frame (HD-5).
HEADER_COMPRESSION: Final = "compression"
#: The transport keys in the order a canonical encoder appends them (HD-1, CE-5).
TRANSPORT_KEYS: Final = (HEADER_LENGTHS, HEADER_COMPRESSION, HEADER_COUNT, HEADER_DESERIALIZE)

#: A bin value longer than this many bytes, standing as a map value or array element,
#: is offloaded by a canonical encoder as a raw byte string (HD-10).
BYTESTRING_THRESHOLD: Final = 65_536

# --- canonical encoding (spec/canonical.md) ------------------------------------------------

#: Default shard size: frames longer than this are split by the encoder (CP-7, CE-7).
DEFAULT_SHARD_SIZE: Final = 64 * 2**20

# The reference encoder's compression choice is informative, not normative (CP-10):
#: Frames shorter than this are never compressed by the reference encoder.
REFERENCE_MIN_COMPRESS_SIZE: Final = 10_000
#: The reference encoder keeps a compressed frame only if it is at most this fraction of the input.
REFERENCE_MAX_COMPRESS_RATIO: Final = 0.9
