//! The canonical encoder (CE-*): message to frame list.

use super::header::parse_transport;
use std::collections::HashSet;

use crate::codecs;
use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::msgpack::to_vec;
use crate::value::{Map, Offloaded, Value, map_get, nesting_depth};

use super::keys::{disallowed_key_type, has_reserved_key, is_transport_key, key_repr};

/// Bytes strictly longer than this, as a map value or array element, are offloaded (HD-10).
pub const RAW_BYTES_THRESHOLD: usize = 65_536;

/// The encoder options and the default shard size, 64 MiB (CE-7), shared with
/// dask-2023.11 (DC-2).
pub use crate::options::{DEFAULT_SHARD_SIZE, EncodeOptions};

/// Encodes a message into canonical frames.
///
/// Without compression the output is exactly the canonical bytes (CE-9). Messages the
/// profile cannot carry give `unencodable-value`.
pub fn encode(message: &Value, options: &EncodeOptions) -> Result<Vec<Vec<u8>>> {
    encode_with_limits(message, options, &Limits::default())
}

/// Encodes a message, refusing one nested deeper than `limits.max_depth` with
/// `limit-exceeded` (LM-8): depth counted as a decoder counts it (LM-4, PL-11), on the
/// payload written, placeholders and headers included.
pub fn encode_with_limits(
    message: &Value,
    options: &EncodeOptions,
    limits: &Limits,
) -> Result<Vec<Vec<u8>>> {
    options.check("CE-14", "CE-7")?;
    let mut encoder = Encoder {
        options,
        frames: Vec::new(),
    };
    let payload_value = match message {
        Value::Map(_) | Value::Array(_) => encoder.value(message, Position::Top)?,
        Value::Offloaded(_) | Value::Materialized(_) => {
            return Err(Error::unencodable_value(
                "PH-7",
                "an offloaded value cannot be the message itself",
            ));
        }
        other => {
            return Err(Error::unencodable_value(
                "PL-2",
                format!(
                    "a message is a map or an array, not a {}",
                    other.type_name()
                ),
            ));
        }
    };
    let depth = nesting_depth(&payload_value);
    if depth > limits.max_depth {
        return Err(Error::limit_exceeded(
            Limit::MaxDepth,
            format!(
                "the message is nested {depth} deep, over max_depth {}",
                limits.max_depth
            ),
        ));
    }
    let payload = to_vec(&payload_value)?;
    let (small_header, payload) = match &options.compression {
        Some(codec) => match codecs::maybe_compress(codec, &payload)? {
            Some(compressed) => (
                to_vec(&Value::Map(vec![(
                    Value::str("compression"),
                    Value::str(codec.clone()),
                )]))?,
                compressed,
            ),
            None => (Vec::new(), payload),
        },
        None => (Vec::new(), payload),
    };
    let mut frames = Vec::with_capacity(2 + encoder.frames.len());
    frames.push(small_header);
    frames.push(payload);
    frames.extend(encoder.frames);
    Ok(frames)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// The message itself.
    Top,
    /// A map value or array element: offloaded values may stand here (PH-7).
    Element,
    /// Inside a map key.
    Key,
    /// Inside an offloaded value's header.
    Header,
}

struct Encoder<'a> {
    options: &'a EncodeOptions,
    /// The offload area, in pre-order (CE-3).
    frames: Vec<Vec<u8>>,
}

impl Encoder<'_> {
    /// Returns the payload form of `value`: offloaded values replaced by placeholders.
    fn value(&mut self, value: &Value, position: Position) -> Result<Value> {
        Ok(match value {
            Value::Map(entries) => {
                if has_reserved_key(entries) {
                    return Err(Error::unencodable_value(
                        "PH-11",
                        "a map holds a reserved placeholder key (_$header, _$findex, _$fcount)",
                    ));
                }
                if let Some((index, _)) = entries
                    .iter()
                    .enumerate()
                    .find(|(_, (k, _))| holds_offloaded(k))
                {
                    return Err(Error::unencodable_value(
                        "PH-7",
                        format!("map key {index} is or holds an offloaded value"),
                    ));
                }
                check_map_keys(entries).map_err(|(req, m)| Error::unencodable_value(req, m))?;
                let inner = if position == Position::Top {
                    Position::Element
                } else {
                    position
                };
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = self.value(k, Position::Key)?;
                    out.push((key, self.value(v, inner)?));
                }
                Value::Map(out)
            }
            Value::Array(items) => {
                let inner = if position == Position::Top {
                    Position::Element
                } else {
                    position
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.value(item, inner)?);
                }
                Value::Array(out)
            }
            Value::Bin(bytes)
                if position == Position::Element && bytes.len() > RAW_BYTES_THRESHOLD =>
            {
                // HD-10: a raw byte string with transport keys only.
                self.materialized(&Vec::new(), std::slice::from_ref(bytes), true)?
            }
            Value::Int(i) if *i < -(1i128 << 63) || *i > (1i128 << 64) - 1 => {
                return Err(Error::unencodable_value(
                    "PL-4",
                    format!("integer {i} is outside -2**63 ..= 2**64-1"),
                ));
            }
            Value::Offloaded(_) | Value::Materialized(_) if position != Position::Element => {
                return Err(Error::unencodable_value(
                    "PH-7",
                    format!(
                        "an offloaded value may stand only as a map value or array element, not {}",
                        match position {
                            Position::Top => "as the message",
                            Position::Key => "in a map key",
                            _ => "in a header",
                        }
                    ),
                ));
            }
            Value::Offloaded(node) => self.offloaded(node)?,
            Value::Materialized(node) => self.materialized(&node.header, &node.frames, false)?,
            Value::Set(_) | Value::Enum(_) | Value::Pickled(_) => {
                return Err(Error::unencodable_value(
                    "PL-2",
                    format!(
                        "a {} value exists in dask-2023.11 only, not in placeholder-v1",
                        value.type_name()
                    ),
                ));
            }
            other => other.clone(),
        })
    }

    /// Checks a header given by the caller: valid keys, no placeholders, no offloaded values.
    fn check_header(&mut self, header: &Map) -> Result<()> {
        // Walk it as header content: rejects reserved keys (PH-11), bad keys (PL-6, PL-7)
        // and offloaded values inside (PH-7).
        self.value(&Value::Map(header.clone()), Position::Header)?;
        Ok(())
    }

    /// Splits frames into shards, compresses where it pays, and builds the placeholder (CE-7, CE-8).
    fn materialized(&mut self, header: &Map, frames: &[Vec<u8>], raw: bool) -> Result<Value> {
        self.check_header(header)?;
        if header.iter().any(|(k, _)| is_transport_key(k)) {
            return Err(Error::unencodable_value(
                "CE-13",
                "a materialized value's header must not hold transport keys \
                 (lengths, compression, count, deserialize)",
            ));
        }
        let shard_size = usize::try_from(self.options.shard_size).unwrap_or(usize::MAX);
        let findex = self.frames.len();
        let mut compression = Vec::new();
        for frame in frames {
            let shards: Vec<&[u8]> = if frame.is_empty() {
                vec![&frame[..]]
            } else {
                frame.chunks(shard_size).collect()
            };
            for shard in shards {
                let packed = match &self.options.compression {
                    Some(codec) => codecs::maybe_compress(codec, shard)?,
                    None => None,
                };
                match packed {
                    Some(bytes) => {
                        compression.push(Value::str(
                            self.options.compression.clone().unwrap_or_default(),
                        ));
                        self.frames.push(bytes);
                    }
                    None => {
                        compression.push(Value::Nil);
                        self.frames.push(shard.to_vec());
                    }
                }
            }
        }
        let count = self.frames.len() - findex;
        let mut out_header = header.clone();
        out_header.push((
            Value::str("lengths"),
            Value::Array(frames.iter().map(|f| Value::Int(f.len() as i128)).collect()),
        ));
        out_header.push((Value::str("compression"), Value::Array(compression)));
        out_header.push((Value::str("count"), Value::Int(count as i128)));
        out_header.push((Value::str("deserialize"), Value::Bool(raw)));
        Ok(placeholder(out_header, findex, count))
    }

    /// Passes a wire-form value through: frames untouched, missing transport keys appended (CE-5).
    fn offloaded(&mut self, node: &Offloaded) -> Result<Value> {
        self.check_header(&node.header)?;
        let count = node.frames.len();
        let mut header = node.header.clone();
        let has_lengths = map_get(&header, "lengths").is_some();
        if !has_lengths {
            header.push((
                Value::str("lengths"),
                Value::Array(
                    node.frames
                        .iter()
                        .map(|f| Value::Int(f.len() as i128))
                        .collect(),
                ),
            ));
        }
        if map_get(&header, "count").is_none() {
            header.push((Value::str("count"), Value::Int(count as i128)));
        }
        if map_get(&header, "deserialize").is_none() {
            header.push((Value::str("deserialize"), Value::Bool(false)));
        }
        let transport = parse_transport(&header).map_err(|(_, msg)| {
            Error::unencodable_value("CE-12", format!("offloaded value: {msg}"))
        })?;
        if transport.count as u128 != count as u128 {
            return Err(Error::unencodable_value(
                "CE-12",
                format!(
                    "offloaded value: header \"count\" is {} but it has {count} frames",
                    transport.count
                ),
            ));
        }
        if !has_lengths && (0..count).any(|i| transport.codec(i).is_some()) {
            return Err(Error::unencodable_value(
                "CE-12",
                "offloaded value: no \"lengths\" while \"compression\" names a codec \
                 (the original sizes are unknown)",
            ));
        }
        if (0..count).all(|i| transport.codec(i).is_none()) {
            let declared: u128 = transport.lengths.iter().map(|&n| u128::from(n)).sum();
            let held: u128 = node.frames.iter().map(|f| f.len() as u128).sum();
            if declared != held {
                return Err(Error::unencodable_value(
                    "CE-12",
                    format!(
                        "offloaded value: \"lengths\" add up to {declared} bytes, \
                         its uncompressed frames hold {held} (CP-6)"
                    ),
                ));
            }
        }
        let findex = self.frames.len();
        self.frames.extend(node.frames.iter().cloned());
        Ok(placeholder(header, findex, count))
    }
}

fn holds_offloaded(value: &Value) -> bool {
    match value {
        Value::Offloaded(_) | Value::Materialized(_) => true,
        Value::Array(items) => items.iter().any(holds_offloaded),
        Value::Map(entries) => entries
            .iter()
            .any(|(k, v)| holds_offloaded(k) || holds_offloaded(v)),
        _ => false,
    }
}

/// The placeholder map, keys in canonical order (CE-4).
fn placeholder(header: Map, findex: usize, count: usize) -> Value {
    Value::Map(vec![
        (Value::str("_$header"), Value::Map(header)),
        (Value::str("_$findex"), Value::Int(findex as i128)),
        (Value::str("_$fcount"), Value::Int(count as i128)),
    ])
}

/// Checks the keys of a map against PL-6 and PL-7; `Err` names the requirement and the key.
pub fn check_map_keys(map: &Map) -> std::result::Result<(), (&'static str, String)> {
    let mut seen = HashSet::with_capacity(map.len());
    for (index, (key, _)) in map.iter().enumerate() {
        let Some(repr) = key_repr(key) else {
            return Err((
                "PL-6",
                format!(
                    "map key {index} is a {} (allowed: str, bin, int, nil, arrays of those)",
                    disallowed_key_type(key)
                ),
            ));
        };
        if !seen.insert(repr) {
            return Err(("PL-7", format!("map key {index} repeats an earlier key")));
        }
    }
    Ok(())
}
