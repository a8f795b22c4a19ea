//! Encoder options, the same for every profile: the codec to compress with and the shard
//! size at which long original frames are split.

/// The default shard size: 64 MiB, 67108864 bytes (placeholder-v1: CE-7 and the encoder
/// input of canonical.md; dask-2023.11: DC-2, "default 64 MiB").
pub const DEFAULT_SHARD_SIZE: u64 = 64 * 1024 * 1024;

/// Encoder options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// A codec to compress with where it pays (CP-10), or `None` for canonical output.
    pub compression: Option<String>,
    /// The largest shard of a split frame (placeholder-v1: CE-7; dask-2023.11: DC-2).
    pub shard_size: u64,
}

impl Default for EncodeOptions {
    /// No compression and [`DEFAULT_SHARD_SIZE`].
    fn default() -> Self {
        EncodeOptions {
            compression: None,
            shard_size: DEFAULT_SHARD_SIZE,
        }
    }
}
