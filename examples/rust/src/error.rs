//! The closed list of error categories (ER-2) and the crate's error type.
//!
//! Every decoder or encoder failure is exactly one [`Error`]; its variant is the
//! category, and [`Error::category`] gives the stable name from the spec.

use std::fmt;

/// The limit that a [`Error::LimitExceeded`] refers to (field names of [`crate::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// LM-1: number of frames in one message.
    MaxFrames,
    /// LM-2: bytes in one frame.
    MaxFrameBytes,
    /// LM-3: bytes of one message on the wire (prelude and frames).
    MaxMessageBytes,
    /// LM-4: nesting depth of maps and arrays.
    MaxDepth,
    /// LM-5: declared decompressed size of one frame.
    MaxDecompressedBytes,
    /// LM-6: declared decompressed size divided by compressed size.
    MaxDecompressionRatio,
}

impl Limit {
    /// The field name, as in the harness `limits` object.
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxFrames => "max_frames",
            Limit::MaxFrameBytes => "max_frame_bytes",
            Limit::MaxMessageBytes => "max_message_bytes",
            Limit::MaxDepth => "max_depth",
            Limit::MaxDecompressedBytes => "max_decompressed_bytes",
            Limit::MaxDecompressionRatio => "max_decompression_ratio",
        }
    }

    /// The requirement that defines the limit.
    pub fn requirement(self) -> &'static str {
        match self {
            Limit::MaxFrames => "LM-1",
            Limit::MaxFrameBytes => "LM-2",
            Limit::MaxMessageBytes => "LM-3",
            Limit::MaxDepth => "LM-4",
            Limit::MaxDecompressedBytes => "LM-5",
            Limit::MaxDecompressionRatio => "LM-6",
        }
    }
}

/// What went wrong, in words, and which requirement says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The requirement ID that the input violates, e.g. `"PH-6"`.
    pub requirement: &'static str,
    /// A human-readable explanation (not part of any contract).
    pub message: String,
}

/// A rejected input or an unencodable message: one variant per error category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `truncated-input`: the bytes end inside the prelude or a frame.
    TruncatedInput(Detail),
    /// `trailing-bytes`: bytes follow the last frame of a single message.
    TrailingBytes(Detail),
    /// `too-few-frames`: fewer than two frames (placeholder-v1), no frame (dask-2023.11).
    TooFewFrames(Detail),
    /// `invalid-small-header`: frame 0 is not empty nor one map with str keys, or a bad `compression`.
    InvalidSmallHeader(Detail),
    /// `unknown-codec`: a codec name this decoder cannot apply.
    UnknownCodec(Detail),
    /// `invalid-compressed-data`: data that does not decompress to its declared size.
    InvalidCompressedData(Detail),
    /// `invalid-msgpack`: frame 1 is not exactly one well-formed msgpack value.
    InvalidMsgpack(Detail),
    /// `unsupported-type`: an ext type in frame 1.
    UnsupportedType(Detail),
    /// `invalid-message`: the top level is neither a map nor an array.
    InvalidMessage(Detail),
    /// `invalid-map-key`: a disallowed key type or a duplicate key.
    InvalidMapKey(Detail),
    /// `invalid-placeholder`: a map with a reserved key that is not a well-formed placeholder.
    InvalidPlaceholder(Detail),
    /// `misplaced-placeholder`: a placeholder where none may stand.
    MisplacedPlaceholder(Detail),
    /// `frame-out-of-range`: a placeholder points past the last frame.
    FrameOutOfRange(Detail),
    /// `overlapping-frames`: two placeholders claim the same frame.
    OverlappingFrames(Detail),
    /// `unclaimed-frame`: a frame of the offload area that no placeholder claims.
    UnclaimedFrame(Detail),
    /// `count-mismatch`: `_$fcount` differs from the header's `count`.
    CountMismatch(Detail),
    /// `invalid-header`: a transport key of a header is missing or has the wrong type.
    InvalidHeader(Detail),
    /// `length-mismatch`: `sum(lengths)` differs from the merged size.
    LengthMismatch(Detail),
    /// `limit-exceeded`: a configured limit was exceeded.
    LimitExceeded {
        /// The limit.
        limit: Limit,
        /// What was seen.
        detail: Detail,
    },
    /// `unencodable-value`: the encoder cannot represent the message.
    UnencodableValue(Detail),
    /// `invalid-read-hint` (dask-2023.11): the TCP no-split hint is not on a frame boundary.
    InvalidReadHint(Detail),
    /// `invalid-marker` (dask-2023.11): a map with a reserved marker key is malformed or misplaced.
    InvalidMarker(Detail),
    /// `invalid-handshake` (dask-2023.11): the first message of a connection is no handshake.
    InvalidHandshake(Detail),
}

/// Every category name, in the order of the spec's list.
pub const CATEGORIES: [&str; 23] = [
    "truncated-input",
    "trailing-bytes",
    "too-few-frames",
    "invalid-small-header",
    "unknown-codec",
    "invalid-compressed-data",
    "invalid-msgpack",
    "unsupported-type",
    "invalid-message",
    "invalid-map-key",
    "invalid-placeholder",
    "misplaced-placeholder",
    "frame-out-of-range",
    "overlapping-frames",
    "unclaimed-frame",
    "count-mismatch",
    "invalid-header",
    "length-mismatch",
    "limit-exceeded",
    "unencodable-value",
    "invalid-read-hint",
    "invalid-marker",
    "invalid-handshake",
];

fn detail(requirement: &'static str, message: impl Into<String>) -> Detail {
    Detail {
        requirement,
        message: message.into(),
    }
}

macro_rules! constructors {
    ($($fn_name:ident => $variant:ident),* $(,)?) => {
        impl Error {
            $(
                #[doc = concat!("Builds [`Error::", stringify!($variant), "`].")]
                pub fn $fn_name(requirement: &'static str, message: impl Into<String>) -> Self {
                    Error::$variant(detail(requirement, message))
                }
            )*
        }
    };
}

constructors! {
    truncated_input => TruncatedInput,
    trailing_bytes => TrailingBytes,
    too_few_frames => TooFewFrames,
    invalid_small_header => InvalidSmallHeader,
    unknown_codec => UnknownCodec,
    invalid_compressed_data => InvalidCompressedData,
    invalid_msgpack => InvalidMsgpack,
    unsupported_type => UnsupportedType,
    invalid_message => InvalidMessage,
    invalid_map_key => InvalidMapKey,
    invalid_placeholder => InvalidPlaceholder,
    misplaced_placeholder => MisplacedPlaceholder,
    frame_out_of_range => FrameOutOfRange,
    overlapping_frames => OverlappingFrames,
    unclaimed_frame => UnclaimedFrame,
    count_mismatch => CountMismatch,
    invalid_header => InvalidHeader,
    length_mismatch => LengthMismatch,
    unencodable_value => UnencodableValue,
    invalid_read_hint => InvalidReadHint,
    invalid_marker => InvalidMarker,
    invalid_handshake => InvalidHandshake,
}

impl Error {
    /// Builds [`Error::LimitExceeded`].
    pub fn limit_exceeded(limit: Limit, message: impl Into<String>) -> Self {
        Error::LimitExceeded {
            limit,
            detail: detail(limit.requirement(), message),
        }
    }

    /// The category name, exactly as the spec spells it.
    pub fn category(&self) -> &'static str {
        match self {
            Error::TruncatedInput(_) => "truncated-input",
            Error::TrailingBytes(_) => "trailing-bytes",
            Error::TooFewFrames(_) => "too-few-frames",
            Error::InvalidSmallHeader(_) => "invalid-small-header",
            Error::UnknownCodec(_) => "unknown-codec",
            Error::InvalidCompressedData(_) => "invalid-compressed-data",
            Error::InvalidMsgpack(_) => "invalid-msgpack",
            Error::UnsupportedType(_) => "unsupported-type",
            Error::InvalidMessage(_) => "invalid-message",
            Error::InvalidMapKey(_) => "invalid-map-key",
            Error::InvalidPlaceholder(_) => "invalid-placeholder",
            Error::MisplacedPlaceholder(_) => "misplaced-placeholder",
            Error::FrameOutOfRange(_) => "frame-out-of-range",
            Error::OverlappingFrames(_) => "overlapping-frames",
            Error::UnclaimedFrame(_) => "unclaimed-frame",
            Error::CountMismatch(_) => "count-mismatch",
            Error::InvalidHeader(_) => "invalid-header",
            Error::LengthMismatch(_) => "length-mismatch",
            Error::LimitExceeded { .. } => "limit-exceeded",
            Error::UnencodableValue(_) => "unencodable-value",
            Error::InvalidReadHint(_) => "invalid-read-hint",
            Error::InvalidMarker(_) => "invalid-marker",
            Error::InvalidHandshake(_) => "invalid-handshake",
        }
    }

    /// The requirement ID and explanation.
    pub fn detail(&self) -> &Detail {
        match self {
            Error::TruncatedInput(d)
            | Error::TrailingBytes(d)
            | Error::TooFewFrames(d)
            | Error::InvalidSmallHeader(d)
            | Error::UnknownCodec(d)
            | Error::InvalidCompressedData(d)
            | Error::InvalidMsgpack(d)
            | Error::UnsupportedType(d)
            | Error::InvalidMessage(d)
            | Error::InvalidMapKey(d)
            | Error::InvalidPlaceholder(d)
            | Error::MisplacedPlaceholder(d)
            | Error::FrameOutOfRange(d)
            | Error::OverlappingFrames(d)
            | Error::UnclaimedFrame(d)
            | Error::CountMismatch(d)
            | Error::InvalidHeader(d)
            | Error::LengthMismatch(d)
            | Error::UnencodableValue(d)
            | Error::InvalidReadHint(d)
            | Error::InvalidMarker(d)
            | Error::InvalidHandshake(d) => d,
            Error::LimitExceeded { detail, .. } => detail,
        }
    }

    /// The requirement ID the input violates.
    pub fn requirement(&self) -> &'static str {
        self.detail().requirement
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.detail();
        write!(f, "{} ({}): {}", self.category(), d.requirement, d.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_distinct_and_match_variants() {
        let all = [
            Error::truncated_input("WF-4", ""),
            Error::trailing_bytes("WF-3", ""),
            Error::too_few_frames("WF-2", ""),
            Error::invalid_small_header("SH-1", ""),
            Error::unknown_codec("CP-2", ""),
            Error::invalid_compressed_data("CP-4", ""),
            Error::invalid_msgpack("PL-1", ""),
            Error::unsupported_type("PL-9", ""),
            Error::invalid_message("PL-2", ""),
            Error::invalid_map_key("PL-6", ""),
            Error::invalid_placeholder("PH-2", ""),
            Error::misplaced_placeholder("PH-7", ""),
            Error::frame_out_of_range("PH-6", ""),
            Error::overlapping_frames("PH-8", ""),
            Error::unclaimed_frame("PH-9", ""),
            Error::count_mismatch("PH-10", ""),
            Error::invalid_header("HD-6", ""),
            Error::length_mismatch("CP-6", ""),
            Error::limit_exceeded(Limit::MaxDepth, ""),
            Error::unencodable_value("PH-11", ""),
            Error::invalid_read_hint("DT-4", ""),
            Error::invalid_marker("DM-6", ""),
            Error::invalid_handshake("DK-3", ""),
        ];
        let names: Vec<&str> = all.iter().map(Error::category).collect();
        assert_eq!(names, CATEGORIES);
    }
}
