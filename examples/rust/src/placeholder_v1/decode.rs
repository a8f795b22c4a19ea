//! The decoder: frame list to message, in the layer order of ER-3.
//!
//! 1. frame count and frame limits (WF-2, WF-7);
//! 2. frame 0, the small header (SH-*);
//! 3. frame 1 decompression (CP-*);
//! 4. frame 1 msgpack, profile, placeholders and headers (PL-*, PH-*, HD-*);
//! 5. offload-area coverage (PH-9);
//! 6. decompression and merge of offloaded values (CP-4..CP-6, HD-9), and the `lengths`
//!    of uncompressed values in every mode (CP-11).

use super::header::{Transport, find_reserved, parse_transport, serializer_keys};
use crate::codecs;
use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::msgpack::{ReadError, ReadErrorKind, read_one};
use crate::value::{Map, Offloaded, Value, map_get};

use super::keys::{PlaceholderKeys, RESERVED_KEYS, has_reserved_key};

pub use crate::mode::Mode;

/// Decodes a frame list into a message.
///
/// Placeholders become [`Value::Offloaded`] (forwarding) or [`Value::Materialized`]
/// (consuming); raw byte strings (`deserialize: true`) become [`Value::Bin`] in both
/// modes (HD-9). Any violation gives exactly one [`Error`] and no partial message (ER-1).
pub fn decode(frames: Vec<Vec<u8>>, mode: Mode, limits: &Limits) -> Result<Value> {
    // Layer 1: wire framing and frame limits, in the order of WF-9.
    limits.check_frame_count(frames.len() as u64)?;
    if frames.len() < 2 {
        return Err(Error::too_few_frames(
            "WF-2",
            format!("{} frames; a message has at least 2", frames.len()),
        ));
    }
    limits.check_frames(frames.len() as u64, frames.iter().map(|f| f.len() as u64))?;

    // Layer 2: frame 0.
    let codec = small_header(&frames[0], limits)?;

    // Layer 3: frame 1 decompression.
    let decompressed;
    let payload: &[u8] = match &codec {
        None => &frames[1],
        Some(name) => {
            decompressed = codecs::decompress(name, &frames[1], limits)?;
            &decompressed
        }
    };

    // Layer 4: msgpack, profile, placeholders, headers.
    let max_depth = limits.effective_max_depth();
    let raw =
        read_one(payload, max_depth, &PlaceholderKeys).map_err(|e| payload_error(e, max_depth))?;
    let mut walker = Walker {
        offload_len: (frames.len() - 2) as u128,
        pending: Vec::new(),
    };
    let mut message = walker.top(raw)?;
    walker.check_overlaps()?;

    // Layer 5: every frame of the offload area is claimed.
    walker.check_coverage()?;

    // Layer 6: decompression and merge of offloaded values.
    let mut filler = Filler {
        frames,
        pending: walker.pending.into_iter(),
        mode,
        limits,
    };
    filler.fill(&mut message)?;
    Ok(message)
}

/// The error for a reader failure in frame 1 (the payload) and in headers inside it.
fn payload_error(error: ReadError, max_depth: u64) -> Error {
    match error.kind {
        ReadErrorKind::Malformed => Error::invalid_msgpack("PL-1", error.message),
        ReadErrorKind::Ext => Error::unsupported_type("PL-9", error.message),
        ReadErrorKind::MapKey => Error::invalid_map_key("PL-6", error.message),
        ReadErrorKind::DuplicateKey => Error::invalid_map_key("PL-7", error.message),
        ReadErrorKind::Utf8 => Error::invalid_msgpack("PL-3", error.message),
        ReadErrorKind::ReservedInKey => Error::misplaced_placeholder("PH-7", error.message),
        ReadErrorKind::Depth => Error::limit_exceeded(
            Limit::MaxDepth,
            format!("{} (max_depth {max_depth})", error.message),
        ),
    }
}

/// Reads frame 0: the codec that frame 1 is compressed with, if any (SH-1..SH-5).
fn small_header(frame: &[u8], limits: &Limits) -> Result<Option<String>> {
    if frame.is_empty() {
        return Ok(None);
    }
    let max_depth = limits.effective_max_depth();
    let value = read_one(frame, max_depth, &PlaceholderKeys).map_err(|e| match e.kind {
        ReadErrorKind::Depth => Error::limit_exceeded(
            Limit::MaxDepth,
            format!("frame 0: {} (max_depth {max_depth})", e.message),
        ),
        _ => Error::invalid_small_header("SH-1", format!("frame 0: {}", e.message)),
    })?;
    let Value::Map(entries) = value else {
        return Err(Error::invalid_small_header(
            "SH-1",
            format!("frame 0 holds a {}, not a map", value.type_name()),
        ));
    };
    if let Some((key, _)) = entries.iter().find(|(k, _)| !matches!(k, Value::Str(_))) {
        return Err(Error::invalid_small_header(
            "SH-1",
            format!("frame 0 has a {} key; keys must be str", key.type_name()),
        ));
    }
    match map_get(&entries, "compression") {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(name)) => Ok(Some(name.clone())),
        Some(other) => Err(Error::invalid_small_header(
            "SH-2",
            format!(
                "frame 0 \"compression\" is a {}, not a str or nil",
                other.type_name()
            ),
        )),
    }
}

/// One placeholder found in the payload, in pre-order.
struct Pending {
    findex: usize,
    fcount: usize,
    transport: Transport,
}

/// Layer 4: finds and checks placeholders; leaves empty [`Value::Offloaded`] nodes.
struct Walker {
    offload_len: u128,
    pending: Vec<Pending>,
}

impl Walker {
    fn top(&mut self, value: Value) -> Result<Value> {
        match value {
            Value::Map(entries) => {
                if has_reserved_key(&entries) {
                    return Err(Error::misplaced_placeholder(
                        "PH-7",
                        "the top-level map holds a reserved placeholder key",
                    ));
                }
                Ok(Value::Map(self.entries(entries)?))
            }
            Value::Array(items) => Ok(Value::Array(self.items(items)?)),
            other => Err(Error::invalid_message(
                "PL-2",
                format!(
                    "the message is a {}, not a map or an array",
                    other.type_name()
                ),
            )),
        }
    }

    fn entries(&mut self, entries: Map) -> Result<Map> {
        // Keys hold no maps (PL-6, checked by the reader), so no placeholders either.
        entries
            .into_iter()
            .map(|(k, v)| Ok((k, self.element(v)?)))
            .collect()
    }

    fn items(&mut self, items: Vec<Value>) -> Result<Vec<Value>> {
        items.into_iter().map(|v| self.element(v)).collect()
    }

    /// A map value or array element: the one place a placeholder may stand.
    fn element(&mut self, value: Value) -> Result<Value> {
        match value {
            Value::Map(entries) if has_reserved_key(&entries) => self.placeholder(entries),
            Value::Map(entries) => Ok(Value::Map(self.entries(entries)?)),
            Value::Array(items) => Ok(Value::Array(self.items(items)?)),
            other => Ok(other),
        }
    }

    fn placeholder(&mut self, entries: Map) -> Result<Value> {
        let exact = entries.len() == 3
            && RESERVED_KEYS
                .iter()
                .all(|key| entries.iter().any(|(k, _)| k.is_str(key)));
        if !exact {
            return Err(Error::invalid_placeholder(
                "PH-2",
                format!(
                    "a placeholder has exactly the keys _$header, _$findex, _$fcount; found {}",
                    describe_keys(&entries)
                ),
            ));
        }
        let mut header = None;
        let mut findex = None;
        let mut fcount = None;
        for (key, value) in entries {
            match key.as_str() {
                Some("_$header") => header = Some(value),
                Some("_$findex") => findex = Some(value),
                _ => fcount = Some(value),
            }
        }
        let (Some(header), Some(findex), Some(fcount)) = (header, findex, fcount) else {
            unreachable!("the three keys were checked above");
        };
        let Value::Map(header) = header else {
            return Err(Error::invalid_placeholder(
                "PH-3",
                format!("\"_$header\" is a {}, not a map", header.type_name()),
            ));
        };
        let findex = index_value("_$findex", &findex)?;
        let fcount = index_value("_$fcount", &fcount)?;
        if let Some(path) = find_reserved(&Value::Map(header.clone())) {
            return Err(Error::misplaced_placeholder(
                "PH-7",
                format!("a header holds a reserved placeholder key ({path})"),
            ));
        }
        let transport = parse_transport(&header)
            .map_err(|(req, msg)| Error::invalid_header("HD-6", format!("{msg} ({req})")))?;
        if u128::from(transport.count) != fcount {
            return Err(Error::count_mismatch(
                "PH-10",
                format!(
                    "\"_$fcount\" is {fcount} but the header's \"count\" is {}",
                    transport.count
                ),
            ));
        }
        if findex + fcount > self.offload_len {
            return Err(Error::frame_out_of_range(
                "PH-6",
                format!(
                    "frames {findex}..{} of the offload area requested; it has {}",
                    findex + fcount,
                    self.offload_len
                ),
            ));
        }
        // In range, so both fit the frame count (a usize).
        self.pending.push(Pending {
            findex: findex as usize,
            fcount: fcount as usize,
            transport,
        });
        Ok(Value::Offloaded(Box::new(Offloaded::new(
            header,
            Vec::new(),
        ))))
    }

    /// PH-8: non-empty ranges are pairwise disjoint.
    fn check_overlaps(&self) -> Result<()> {
        let mut ranges: Vec<(usize, usize)> = self
            .pending
            .iter()
            .filter(|p| p.fcount > 0)
            .map(|p| (p.findex, p.findex + p.fcount))
            .collect();
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            if pair[1].0 < pair[0].1 {
                return Err(Error::overlapping_frames(
                    "PH-8",
                    format!(
                        "frame ranges {}..{} and {}..{} overlap",
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// PH-9: the disjoint, in-range ranges cover the whole offload area.
    fn check_coverage(&self) -> Result<()> {
        let claimed: u128 = self.pending.iter().map(|p| p.fcount as u128).sum();
        if claimed != self.offload_len {
            let mut covered = vec![false; self.offload_len as usize];
            for p in &self.pending {
                covered[p.findex..p.findex + p.fcount].fill(true);
            }
            let first = covered.iter().position(|c| !c).unwrap_or(0);
            return Err(Error::unclaimed_frame(
                "PH-9",
                format!(
                    "frame {} (offload index {first}) is claimed by no placeholder",
                    first + 2
                ),
            ));
        }
        Ok(())
    }
}

fn index_value(key: &str, value: &Value) -> Result<u128> {
    match value {
        Value::Int(i) if *i >= 0 => Ok(*i as u128),
        other => Err(Error::invalid_placeholder(
            "PH-3",
            format!(
                "{key:?} is a {}, not a non-negative int",
                match other {
                    Value::Int(i) => format!("negative int {i}"),
                    v => v.type_name().to_owned(),
                }
            ),
        )),
    }
}

fn describe_keys(entries: &Map) -> String {
    let keys: Vec<String> = entries
        .iter()
        .map(|(k, _)| match k {
            Value::Str(s) => format!("{s:?}"),
            other => other.type_name().to_owned(),
        })
        .collect();
    format!("[{}]", keys.join(", "))
}

/// Layer 6: takes each value's frames and yields its final form.
struct Filler<'a> {
    frames: Vec<Vec<u8>>,
    pending: std::vec::IntoIter<Pending>,
    mode: Mode,
    limits: &'a Limits,
}

impl Filler<'_> {
    /// Visits the message in the same pre-order as the walker did.
    fn fill(&mut self, value: &mut Value) -> Result<()> {
        match value {
            Value::Map(entries) => {
                for (_, v) in entries.iter_mut() {
                    self.fill(v)?;
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    self.fill(item)?;
                }
            }
            Value::Offloaded(node) => {
                let pending = self
                    .pending
                    .next()
                    .expect("one pending entry per placeholder");
                let start = 2 + pending.findex;
                let wire: Vec<Vec<u8>> = self.frames[start..start + pending.fcount]
                    .iter_mut()
                    .map(std::mem::take)
                    .collect();
                let header = std::mem::take(&mut node.header);
                *value = if pending.transport.deserialize {
                    // HD-9: a raw byte string, in every mode.
                    Value::Bin(merge(&wire, &pending.transport, self.limits)?.concat())
                } else {
                    match self.mode {
                        Mode::Forwarding => {
                            check_plain_lengths(&wire, &pending.transport)?;
                            Value::Offloaded(Box::new(Offloaded::new(header, wire)))
                        }
                        Mode::Consuming => {
                            let frames = merge(&wire, &pending.transport, self.limits)?;
                            Value::Materialized(Box::new(Offloaded::new(
                                serializer_keys(&header),
                                frames,
                            )))
                        }
                    }
                };
            }
            _ => {}
        }
        Ok(())
    }
}

/// CP-11: when no wire frame of a value is compressed, every receiver (forwarding ones
/// too) checks that `lengths` add up to the size of its frames. Nothing is decompressed.
fn check_plain_lengths(wire: &[Vec<u8>], transport: &Transport) -> Result<()> {
    if (0..wire.len()).any(|index| transport.codec(index).is_some()) {
        return Ok(());
    }
    let declared: u128 = transport.lengths.iter().map(|&l| u128::from(l)).sum();
    let total: u128 = wire.iter().map(|f| f.len() as u128).sum();
    if declared != total {
        return Err(Error::length_mismatch(
            "CP-11",
            format!("\"lengths\" add up to {declared} bytes; the frames hold {total}"),
        ));
    }
    Ok(())
}

/// Decompresses each wire frame, concatenates them and cuts at `lengths` (CP-6).
pub fn merge(wire: &[Vec<u8>], transport: &Transport, limits: &Limits) -> Result<Vec<Vec<u8>>> {
    let mut joined = Vec::new();
    for (index, frame) in wire.iter().enumerate() {
        match transport.codec(index) {
            None => joined.extend_from_slice(frame),
            Some(codec) => joined.extend(codecs::decompress(codec, frame, limits)?),
        }
    }
    let declared: u128 = transport.lengths.iter().map(|&l| u128::from(l)).sum();
    if declared != joined.len() as u128 {
        return Err(Error::length_mismatch(
            "CP-6",
            format!(
                "\"lengths\" add up to {declared} bytes; the frames hold {}",
                joined.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(transport.lengths.len());
    let mut at = 0usize;
    for &length in &transport.lengths {
        let end = at + length as usize;
        out.push(joined[at..end].to_vec());
        at = end;
    }
    Ok(out)
}
