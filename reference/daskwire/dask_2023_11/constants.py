"""Wire facts of dask-2023.11 as named constants, each citing the requirement that fixes it."""

from __future__ import annotations

from typing import Final

#: Name of the profile this subpackage implements (spec: dask-2023.11/index).
PROFILE: Final = "dask-2023.11"

# --- TCP framing (spec/dask-2023.11/tcp.md) ------------------------------------------------

#: The fewest frames a message has: frame 0, the message itself (DT-2).
MIN_FRAMES: Final = 1
#: Index of the frame that holds the message (DM-1).
MESSAGE_INDEX: Final = 0

# --- markers (spec/dask-2023.11/message.md) ------------------------------------------------

#: Index marker of a serialized value: `{"__Serialized__": i}` (DM-6).
KEY_SERIALIZED: Final = "__Serialized__"
#: Index marker of a pickled value: `{"__Pickled__": i}` (DM-6).
KEY_PICKLED: Final = "__Pickled__"
#: Set marker: `{"__Set__": true, "as-list": [...]}` (DM-12).
KEY_SET: Final = "__Set__"
#: The set marker's elements (DM-12).
KEY_SET_ITEMS: Final = "as-list"
#: Enum marker: `{"__Enum__": true, "name", "__module__", "__name__"}` (DM-13).
KEY_ENUM: Final = "__Enum__"
#: The enum marker's member name (DM-13).
KEY_ENUM_NAME: Final = "name"
#: The enum marker's module of the enum class (DM-13).
KEY_ENUM_MODULE: Final = "__module__"
#: The enum marker's class name (DM-13).
KEY_ENUM_CLASS: Final = "__name__"
#: The str keys that make a map a marker occurrence, wherever it stands (DM-4).
RESERVED_KEYS: Final = frozenset({KEY_SERIALIZED, KEY_PICKLED, KEY_SET, KEY_ENUM})
#: The keys of the two index markers (DM-6).
INDEX_KEYS: Final = (KEY_SERIALIZED, KEY_PICKLED)
#: The payload key of an inline serialized value inside a sub-header (DS-9).
KEY_INLINE_DATA: Final = "data"

# --- sub-headers (spec/dask-2023.11/sub-header.md) -----------------------------------------

#: Transport key: how many data frames follow the sub-header (DS-2).
NUM_SUB_FRAMES: Final = "num-sub-frames"
#: Transport key: codec name or nil per data frame (DS-3).
COMPRESSION: Final = "compression"
#: Transport key: how many data frames (shards) each original frame became (DS-4).
SPLIT_NUM_SUB_FRAMES: Final = "split-num-sub-frames"
#: Transport key: the first data frame of each original frame's shards (DS-4).
SPLIT_OFFSETS: Final = "split-offsets"
#: The transport keys of a `__Serialized__` sub-header, in the order an encoder writes them
#: after the serializer keys (DS-5, DC-2).
SERIALIZED_TRANSPORT_KEYS: Final = (
    SPLIT_NUM_SUB_FRAMES,
    SPLIT_OFFSETS,
    COMPRESSION,
    NUM_SUB_FRAMES,
)
#: The pickle bytes of a `__Pickled__` sub-header: opaque, never loaded (DS-6, DP-1).
PICKLED_OBJ: Final = "pickled-obj"

# --- canonical encoding (spec/dask-2023.11/canonical.md) -----------------------------------

#: Default shard size: original frames longer than this are split by the encoder (DC-2).
DEFAULT_SHARD_SIZE: Final = 64 * 2**20

# The reference encoder's compression choice is informative, not normative (DC-2):
#: Shards shorter than this are never compressed by the reference encoder.
REFERENCE_MIN_COMPRESS_SIZE: Final = 10_000
#: The reference encoder keeps a compressed shard only if it is at most this fraction of it.
REFERENCE_MAX_COMPRESS_RATIO: Final = 0.9
