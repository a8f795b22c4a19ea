//! Encoder options, the same for every profile: the codec to compress with and the shard
//! size at which long original frames are split.

use crate::codecs;
use crate::error::{Error, Result};

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

impl EncodeOptions {
    /// Refuses options no encoder can apply, citing the profile's rules: a codec this crate
    /// does not support (`unknown-codec`, `codec_rule`) or a shard size of 0
    /// (`unencodable-value`, `shard_rule`).
    pub fn check(&self, codec_rule: &'static str, shard_rule: &'static str) -> Result<()> {
        if let Some(codec) = &self.compression {
            if !codecs::is_supported(codec) {
                return Err(Error::unknown_codec(
                    codec_rule,
                    format!("cannot compress with codec {codec:?}"),
                ));
            }
        }
        if self.shard_size == 0 {
            return Err(Error::unencodable_value(
                shard_rule,
                "shard_size must be positive",
            ));
        }
        Ok(())
    }
}
