//! The dask-2023.11 canonical encoder (DC-1, DC-2): message to frame list.
//!
//! Frame 0 and every sub-header use the shortest msgpack forms; index markers get frames
//! in the pre-order of DM-11; values in original form are split at the shard size and
//! never compressed unless a codec is asked for; wire-form and pickled values are re-sent
//! as they are (DR-3). Every sub-header written is checked by the decoder's own rules, so
//! the output always decodes.

use crate::codecs;
use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::msgpack::to_vec;
use crate::options::EncodeOptions;
use crate::value::{EnumMember, Map, Offloaded, Value, nesting_depth};

use super::constants::{
    AS_LIST, COMPRESSION, ENUM, ENUM_CLASS, ENUM_MODULE, ENUM_NAME, NUM_SUB_FRAMES,
    SERIALIZED_TRANSPORT_KEYS, SET, SPLIT_NUM_SUB_FRAMES, SPLIT_OFFSETS,
};
use super::keys::check_dask_keys;
use super::markers::{IndexKind, reserved_keys};
use super::sub_header;

/// Encodes a message into canonical frames (default limits).
pub fn encode(message: &Value, options: &EncodeOptions) -> Result<Vec<Vec<u8>>> {
    encode_with_limits(message, options, &Limits::default())
}

/// Encodes a message, refusing one whose frame 0 or a sub-header is nested deeper than
/// `limits.max_depth` with `limit-exceeded` (LM-8, DL-2). A message the profile cannot
/// carry gives `unencodable-value` (DM-15, DM-16); an unsupported codec `unknown-codec`.
pub fn encode_with_limits(
    message: &Value,
    options: &EncodeOptions,
    limits: &Limits,
) -> Result<Vec<Vec<u8>>> {
    options.check("DC-2", "DC-2")?;
    if matches!(
        message,
        Value::Set(_)
            | Value::Enum(_)
            | Value::Offloaded(_)
            | Value::Materialized(_)
            | Value::Pickled(_)
    ) {
        return Err(Error::unencodable_value(
            "DM-14",
            format!("a {} cannot be the message itself", message.type_name()),
        ));
    }
    let mut encoder = Encoder {
        options,
        limits,
        frames: vec![Vec::new()],
    };
    let frame0 = encoder.value(message, false)?;
    let depth = nesting_depth(&frame0);
    if depth > limits.max_depth {
        return Err(Error::limit_exceeded(
            Limit::MaxDepth,
            format!(
                "frame 0 is nested {depth} deep, over max_depth {}",
                limits.max_depth
            ),
        ));
    }
    encoder.frames[0] = to_vec(&frame0)?;
    Ok(encoder.frames)
}

struct Encoder<'a> {
    options: &'a EncodeOptions,
    limits: &'a Limits,
    /// Frame 0 (filled last), then each marker's sub-header and data frames (DM-11).
    frames: Vec<Vec<u8>>,
}

fn unencodable(requirement: &'static str, message: impl Into<String>) -> Error {
    Error::unencodable_value(requirement, message)
}

impl Encoder<'_> {
    /// The frame-0 form of `value`: markers in place of sets, enums and offloaded values.
    fn value(&mut self, value: &Value, in_key: bool) -> Result<Value> {
        if in_key
            && matches!(
                value,
                Value::Map(_)
                    | Value::Set(_)
                    | Value::Enum(_)
                    | Value::Offloaded(_)
                    | Value::Materialized(_)
                    | Value::Pickled(_)
            )
        {
            return Err(unencodable(
                "DM-2",
                format!("a map key cannot be or hold a {}", value.type_name()),
            ));
        }
        Ok(match value {
            Value::Map(entries) => {
                if let Some(key) = reserved_keys(entries).first() {
                    return Err(unencodable(
                        "DM-15",
                        format!("a map has the reserved key {key:?}; there is no escape"),
                    ));
                }
                check_dask_keys(entries.iter().map(|(k, _)| k))
                    .map_err(|(_, why)| unencodable("DM-2", why))?;
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = self.value(k, true)?;
                    out.push((key, self.value(v, false)?));
                }
                Value::Map(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.value(item, in_key))
                    .collect::<Result<_>>()?,
            ),
            Value::Set(items) => {
                check_dask_keys(items.iter())
                    .map_err(|(_, why)| unencodable("DM-12", format!("a set element: {why}")))?;
                let items = items
                    .iter()
                    .map(|item| self.value(item, true))
                    .collect::<Result<_>>()?;
                set_map(items)
            }
            Value::Enum(member) => enum_map(member),
            Value::Int(i) if *i < -(1i128 << 63) || *i > (1i128 << 64) - 1 => {
                return Err(unencodable(
                    "DM-2",
                    format!("integer {i} is outside -2**63 ..= 2**64-1"),
                ));
            }
            Value::Materialized(node) => self.original(node)?,
            Value::Offloaded(node) => self.resend(node, IndexKind::Serialized)?,
            Value::Pickled(node) => self.resend(node, IndexKind::Pickled)?,
            other => other.clone(),
        })
    }

    /// DC-2: a value in original form: serializer keys, split metadata, one shard per S
    /// bytes, compressed only when a codec is asked for and it pays (CP-10).
    fn original(&mut self, node: &Offloaded) -> Result<Value> {
        if let Some((key, _)) = node.header.iter().find(|(k, _)| is_transport_key(k)) {
            return Err(unencodable(
                "DS-12",
                format!(
                    "a value in original form has no transport keys; found {:?}",
                    key.as_str().unwrap_or_default()
                ),
            ));
        }
        let shard_size = usize::try_from(self.options.shard_size).unwrap_or(usize::MAX);
        let mut shards: Vec<Vec<u8>> = Vec::new();
        let mut compression = Vec::new();
        let mut counts = Vec::with_capacity(node.frames.len());
        let mut offsets = Vec::with_capacity(node.frames.len());
        for frame in &node.frames {
            offsets.push(Value::Int(shards.len() as i128));
            let pieces: Vec<&[u8]> = if frame.is_empty() {
                vec![&frame[..]]
            } else {
                frame.chunks(shard_size).collect()
            };
            counts.push(Value::Int(pieces.len() as i128));
            for piece in pieces {
                let packed = match &self.options.compression {
                    Some(codec) => codecs::maybe_compress(codec, piece)?
                        .map(|bytes| (Value::str(codec.clone()), bytes)),
                    None => None,
                };
                let (entry, bytes) = packed.unwrap_or_else(|| (Value::Nil, piece.to_vec()));
                compression.push(entry);
                shards.push(bytes);
            }
        }
        let mut header = plain_header(&node.header)?;
        header.push((Value::str(SPLIT_NUM_SUB_FRAMES), Value::Array(counts)));
        header.push((Value::str(SPLIT_OFFSETS), Value::Array(offsets)));
        header.push((Value::str(COMPRESSION), Value::Array(compression)));
        header.push((Value::str(NUM_SUB_FRAMES), Value::Int(shards.len() as i128)));
        self.emit(IndexKind::Serialized, header, shards)
    }

    /// DR-3: a value in wire form: the same sub-header but `"num-sub-frames"` (set in
    /// place, or appended last), and the same data frames.
    fn resend(&mut self, node: &Offloaded, kind: IndexKind) -> Result<Value> {
        let mut header = plain_header(&node.header)?;
        let count = Value::Int(node.frames.len() as i128);
        match header.iter_mut().find(|(k, _)| k.is_str(NUM_SUB_FRAMES)) {
            Some((_, v)) => *v = count,
            None => header.push((Value::str(NUM_SUB_FRAMES), count)),
        }
        self.emit(kind, header, node.frames.clone())
    }

    /// Writes a sub-header and its data frames; returns the index marker. The sub-header
    /// must pass the decoder's checks (DS-1..DS-9) and depth limit (DL-2).
    fn emit(&mut self, kind: IndexKind, header: Map, data: Vec<Vec<u8>>) -> Result<Value> {
        let bytes = to_vec(&Value::Map(header))?;
        sub_header::read(&bytes, kind, self.limits).map_err(|e| match e {
            Error::LimitExceeded { .. } => e,
            other => unencodable(
                other.requirement(),
                format!("the sub-header would not decode: {other}"),
            ),
        })?;
        let index = self.frames.len();
        self.frames.push(bytes);
        self.frames.extend(data);
        Ok(index_map(kind, index))
    }
}

/// A sub-header given by the caller, written as the plain data it is (DS-11): marker maps
/// stay the maps they are; set, enum and offloaded values cannot stand there.
fn plain_header(header: &Map) -> Result<Map> {
    fn plain(value: &Value) -> Result<Value> {
        Ok(match value {
            Value::Map(entries) => Value::Map(plain_header(entries)?),
            Value::Array(items) => Value::Array(items.iter().map(plain).collect::<Result<_>>()?),
            Value::Set(_)
            | Value::Enum(_)
            | Value::Offloaded(_)
            | Value::Materialized(_)
            | Value::Pickled(_) => {
                return Err(unencodable(
                    "DS-11",
                    format!("a sub-header cannot hold a {} value", value.type_name()),
                ));
            }
            other => other.clone(),
        })
    }
    header
        .iter()
        .map(|(k, v)| Ok((plain(k)?, plain(v)?)))
        .collect()
}

/// DS-12: true for a transport key of DS-5, which no top-level key of a value in original
/// form may be (the encoder writes those keys itself).
fn is_transport_key(key: &Value) -> bool {
    matches!(key, Value::Str(s) if SERIALIZED_TRANSPORT_KEYS.contains(&s.as_str()))
}

/// DM-12: the marker map of a set, `"__Set__"` first.
fn set_map(items: Vec<Value>) -> Value {
    Value::Map(vec![
        (Value::str(SET), Value::Bool(true)),
        (Value::str(AS_LIST), Value::Array(items)),
    ])
}

/// DM-13: the marker map of an enum, in distributed's key order.
fn enum_map(member: &EnumMember) -> Value {
    Value::Map(vec![
        (Value::str(ENUM), Value::Bool(true)),
        (Value::str(ENUM_NAME), Value::str(member.name.clone())),
        (Value::str(ENUM_MODULE), Value::str(member.module.clone())),
        (Value::str(ENUM_CLASS), Value::str(member.class.clone())),
    ])
}

/// DM-6: the marker map of an index marker.
fn index_map(kind: IndexKind, index: usize) -> Value {
    Value::Map(vec![(Value::str(kind.key()), Value::Int(index as i128))])
}
