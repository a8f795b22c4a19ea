//! Decoder limits (LM-1..LM-7) with the spec's defaults.

use crate::error::{Error, Limit, Result};

/// The limits a decoder enforces. [`Limits::default`] gives the spec's defaults (LM-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// LM-1: frames in one message.
    pub max_frames: u64,
    /// LM-2: bytes in one frame.
    pub max_frame_bytes: u64,
    /// LM-3: bytes of one message on the wire, prelude included.
    pub max_message_bytes: u64,
    /// LM-4: nesting depth of maps and arrays (the top level is depth 1).
    pub max_depth: u64,
    /// LM-5: declared decompressed bytes of one frame.
    pub max_decompressed_bytes: u64,
    /// LM-6: declared decompressed size divided by the compressed size.
    pub max_decompression_ratio: u64,
}

/// The deepest nesting this implementation will ever parse, whatever `max_depth` says.
///
/// Decoding recurses once per level, so a configured `max_depth` above this bound is
/// applied as this bound: deeper input is rejected with `limit-exceeded` instead of
/// exhausting the stack. The harness binary's stack holds this depth with room to spare.
pub const HARD_MAX_DEPTH: u64 = 100_000;

/// The spec's default limits.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_frames: 1 << 20,
    max_frame_bytes: 1 << 31,
    max_message_bytes: 1 << 32,
    max_depth: 256,
    max_decompressed_bytes: 1 << 31,
    max_decompression_ratio: 2048,
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

impl Limits {
    /// Sets one limit by its field name; `false` if the name is unknown.
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        let slot = match name {
            "max_frames" => &mut self.max_frames,
            "max_frame_bytes" => &mut self.max_frame_bytes,
            "max_message_bytes" => &mut self.max_message_bytes,
            "max_depth" => &mut self.max_depth,
            "max_decompressed_bytes" => &mut self.max_decompressed_bytes,
            "max_decompression_ratio" => &mut self.max_decompression_ratio,
            _ => return false,
        };
        *slot = value;
        true
    }

    /// The depth bound actually applied: `max_depth`, at most [`HARD_MAX_DEPTH`].
    pub fn effective_max_depth(&self) -> u64 {
        self.max_depth.min(HARD_MAX_DEPTH)
    }

    /// Checks the shape of a frame list against LM-1, LM-2 and LM-3 (WF-7).
    ///
    /// `lengths` are the frame lengths; the message size counts the prelude
    /// (8 bytes for N, 8 per length) and every frame.
    pub fn check_frames<I>(&self, count: u64, lengths: I) -> Result<()>
    where
        I: IntoIterator<Item = u64>,
    {
        self.check_frames_after(0, count, lengths)
    }

    /// As [`Limits::check_frames`], with `extra` bytes on the wire before the prelude
    /// (dask-2023.11's 8-byte read hint, DL-1).
    pub fn check_frames_after<I>(&self, extra: u64, count: u64, lengths: I) -> Result<()>
    where
        I: IntoIterator<Item = u64>,
    {
        self.check_frame_count(count)?;
        let mut total: u128 = u128::from(extra) + 8 + 8 * u128::from(count);
        for (index, length) in lengths.into_iter().enumerate() {
            self.check_frame_bytes(index, length)?;
            total += u128::from(length);
        }
        self.check_message_bytes(total)
    }

    /// Checks a frame count against LM-1.
    pub fn check_frame_count(&self, count: u64) -> Result<()> {
        if count > self.max_frames {
            return Err(Error::limit_exceeded(
                Limit::MaxFrames,
                format!("{count} frames, limit {}", self.max_frames),
            ));
        }
        Ok(())
    }

    /// Checks one frame length against LM-2.
    pub fn check_frame_bytes(&self, index: usize, length: u64) -> Result<()> {
        if length > self.max_frame_bytes {
            return Err(Error::limit_exceeded(
                Limit::MaxFrameBytes,
                format!(
                    "frame {index} has {length} bytes, limit {}",
                    self.max_frame_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Checks a message size (prelude and frames) against LM-3.
    pub fn check_message_bytes(&self, total: u128) -> Result<()> {
        if total > u128::from(self.max_message_bytes) {
            return Err(Error::limit_exceeded(
                Limit::MaxMessageBytes,
                format!("message of {total} bytes, limit {}", self.max_message_bytes),
            ));
        }
        Ok(())
    }

    /// Checks a declared decompressed size against LM-5 and LM-6, before anything is allocated.
    ///
    /// `compressed` is the compressed size as CP-5 defines it (a size of 0 counts as 1).
    pub fn check_declared_size(&self, declared: u64, compressed: u64) -> Result<()> {
        let compressed = compressed.max(1);
        if declared > self.max_decompressed_bytes {
            return Err(Error::limit_exceeded(
                Limit::MaxDecompressedBytes,
                format!(
                    "declared size {declared} exceeds {}",
                    self.max_decompressed_bytes
                ),
            ));
        }
        if u128::from(declared) > u128::from(self.max_decompression_ratio) * u128::from(compressed)
        {
            return Err(Error::limit_exceeded(
                Limit::MaxDecompressionRatio,
                format!(
                    "declared size {declared} from {compressed} compressed bytes exceeds ratio {}",
                    self.max_decompression_ratio
                ),
            ));
        }
        Ok(())
    }
}
