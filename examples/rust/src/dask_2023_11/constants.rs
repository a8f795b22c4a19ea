//! Wire facts of dask-2023.11 as named constants, each citing its requirement.

/// DT-1: bytes of the no-split read hint H, before the prelude (a u64, like N and the
/// lengths).
pub const HINT_BYTES: u64 = crate::framing::U64_BYTES as u64;

/// DT-4, DT-8 step 2: the smallest H any message allows (the prelude of one frame).
pub const MIN_HINT: u64 = 16;

/// DM-4: the reserved key of a `__Serialized__` index marker (and, in sub-headers only,
/// of an inline serialized value, DS-9).
pub const SERIALIZED: &str = "__Serialized__";
/// DM-4: the reserved key of a `__Pickled__` index marker.
pub const PICKLED: &str = "__Pickled__";
/// DM-4: the reserved key of a set marker.
pub const SET: &str = "__Set__";
/// DM-4: the reserved key of an enum marker.
pub const ENUM: &str = "__Enum__";
/// DM-4: the four reserved str keys.
pub const RESERVED_KEYS: [&str; 4] = [SERIALIZED, PICKLED, SET, ENUM];

/// DM-12: a set marker's element array.
pub const AS_LIST: &str = "as-list";
/// DM-13: an enum marker's member name.
pub const ENUM_NAME: &str = "name";
/// DM-13: an enum marker's module.
pub const ENUM_MODULE: &str = "__module__";
/// DM-13: an enum marker's class name.
pub const ENUM_CLASS: &str = "__name__";
/// DS-9: the entry of an inline serialized value holding `[header, frames]`.
pub const INLINE_DATA: &str = "data";

/// DS-2: the number of data frames after a sub-header.
pub const NUM_SUB_FRAMES: &str = "num-sub-frames";
/// DS-3: one codec name or nil per data frame.
pub const COMPRESSION: &str = "compression";
/// DS-4: data frames per original frame.
pub const SPLIT_NUM_SUB_FRAMES: &str = "split-num-sub-frames";
/// DS-4: first data frame of each original frame.
pub const SPLIT_OFFSETS: &str = "split-offsets";
/// DS-6: the pickle bytes of a `__Pickled__` sub-header (a bin).
pub const PICKLED_OBJ: &str = "pickled-obj";

/// DS-5: the transport keys of a `__Serialized__` sub-header, in the order DC-2 writes them.
pub const SERIALIZED_TRANSPORT_KEYS: [&str; 4] = [
    SPLIT_NUM_SUB_FRAMES,
    SPLIT_OFFSETS,
    COMPRESSION,
    NUM_SUB_FRAMES,
];

/// DC-2: the default shard size S, 64 MiB; the one default shared with placeholder-v1 (CE-7).
pub use crate::options::DEFAULT_SHARD_SIZE;

/// DK-2: the handshake's keys, in the order a writer writes them (DK-4).
pub const HANDSHAKE_COMPRESSION: &str = "compression";
/// DK-2: the handshake's informative Python version.
pub const HANDSHAKE_PYTHON: &str = "python";
/// DK-2: the highest pickle protocol the writer reads.
pub const HANDSHAKE_PICKLE_PROTOCOL: &str = "pickle-protocol";
/// DK-4: the `"python"` this implementation writes (the version the profile was checked
/// against; any three non-negative integers are accepted).
pub const HANDSHAKE_PYTHON_VERSION: [i128; 3] = [3, 11, 7];
/// DK-4: the pickle protocol a writer SHOULD propose.
pub const DEFAULT_PICKLE_PROTOCOL: u64 = 5;
