//! The comm handshake (DK-1..DK-7): this side's first message, reading the peer's, and
//! the connection options both sides agree on.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::mode::Mode;
use crate::msgpack::to_vec;
use crate::options::EncodeOptions;
use crate::value::{Value, map_get};

use super::constants::{
    DEFAULT_PICKLE_PROTOCOL, DEFAULT_SHARD_SIZE, HANDSHAKE_COMPRESSION, HANDSHAKE_PICKLE_PROTOCOL,
    HANDSHAKE_PYTHON, HANDSHAKE_PYTHON_VERSION,
};
use super::decode::decode;

/// What one side proposes (DK-2), or what both agree (DK-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The codec for data frames this side compresses; `None` for none.
    pub compression: Option<String>,
    /// The highest pickle protocol this side reads.
    pub pickle_protocol: u64,
}

impl Default for Options {
    /// No compression and pickle protocol 5 (DK-4).
    fn default() -> Self {
        Options {
            compression: None,
            pickle_protocol: DEFAULT_PICKLE_PROTOCOL,
        }
    }
}

/// DK-2, DK-4: the frames of this side's handshake, one frame with the three keys in order.
///
/// # Panics
///
/// If `local.compression` is a codec name of 4 GiB or more, which msgpack cannot hold
/// (its str lengths are 32-bit). [`try_write`] reports that as an error instead.
pub fn write(local: &Options) -> Vec<Vec<u8>> {
    try_write(local).expect("a handshake of two small ints and a codec name under 4 GiB")
}

/// As [`write()`], returning `unencodable-value` for a codec name msgpack cannot hold (4 GiB
/// or more), the one way a handshake can fail to be written.
pub fn try_write(local: &Options) -> Result<Vec<Vec<u8>>> {
    let message = Value::Map(vec![
        (
            Value::str(HANDSHAKE_COMPRESSION),
            local.compression.clone().map_or(Value::Nil, Value::Str),
        ),
        (
            Value::str(HANDSHAKE_PYTHON),
            Value::Array(
                HANDSHAKE_PYTHON_VERSION
                    .iter()
                    .map(|&v| Value::Int(v))
                    .collect(),
            ),
        ),
        (
            Value::str(HANDSHAKE_PICKLE_PROTOCOL),
            Value::Int(i128::from(local.pickle_protocol)),
        ),
    ]);
    // Strs, ints in 0..=u64::MAX and a map of three entries: writable unless the codec
    // name is 4 GiB or longer.
    Ok(vec![to_vec(&message)?])
}

/// DK-3: reads the peer's first message as a forwarding receiver, then checks its shape.
pub fn read(frames: Vec<Vec<u8>>, limits: &Limits) -> Result<Options> {
    let message = decode(frames, Mode::Forwarding, limits)?;
    let Value::Map(entries) = &message else {
        return Err(Error::invalid_handshake(
            "DK-3",
            format!("the first message is a {}, not a map", message.type_name()),
        ));
    };
    let compression = match map_get(entries, HANDSHAKE_COMPRESSION) {
        Some(Value::Str(codec)) => Some(codec.clone()),
        Some(Value::Nil) => None,
        Some(other) => {
            return Err(Error::invalid_handshake(
                "DK-3",
                format!(
                    "\"compression\" is a {}, not a str or nil",
                    other.type_name()
                ),
            ));
        }
        None => {
            return Err(Error::invalid_handshake(
                "DK-3",
                "no str key \"compression\"",
            ));
        }
    };
    let pickle_protocol = match map_get(entries, HANDSHAKE_PICKLE_PROTOCOL) {
        Some(Value::Int(p)) if *p >= 0 => u64::try_from(*p).map_err(|_| {
            Error::invalid_handshake("DK-3", format!("\"pickle-protocol\" {p} is too large"))
        })?,
        Some(other) => {
            return Err(Error::invalid_handshake(
                "DK-3",
                format!(
                    "\"pickle-protocol\" is a {}, not a non-negative integer",
                    other.type_name()
                ),
            ));
        }
        None => {
            return Err(Error::invalid_handshake(
                "DK-3",
                "no str key \"pickle-protocol\"",
            ));
        }
    };
    Ok(Options {
        compression,
        pickle_protocol,
    })
}

/// DK-5: the codec both proposed (exactly the same str), and the smaller pickle protocol.
pub fn agree(local: &Options, peer: &Options) -> Options {
    Options {
        compression: match (&local.compression, &peer.compression) {
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => None,
        },
        pickle_protocol: local.pickle_protocol.min(peer.pickle_protocol),
    }
}

/// DK-6: the encoder options of a writer on a connection with the agreed options. A
/// codec this implementation cannot apply is refused by the encoder with `unknown-codec`
/// (CE-14, harness.md), never replaced by no compression.
pub fn writer_options(agreed: &Options) -> EncodeOptions {
    EncodeOptions {
        compression: agreed.compression.clone(),
        shard_size: DEFAULT_SHARD_SIZE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_handshake_is_66_bytes_and_reads_back() {
        let frames = write(&Options::default());
        assert_eq!(frames.len(), 1);
        // DK-2: 66 bytes on the wire with nil compression (H, N, one length, frame 0).
        assert_eq!(24 + frames[0].len(), 66);
        let peer = read(frames, &Limits::default()).unwrap();
        assert_eq!(peer, Options::default());
        let lz4 = Options {
            compression: Some("lz4".into()),
            pickle_protocol: 4,
        };
        let agreed = agree(&lz4, &lz4);
        assert_eq!(agreed, lz4);
        assert_eq!(agree(&lz4, &Options::default()).compression, None);
    }
}
