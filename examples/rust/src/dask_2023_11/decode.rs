//! The dask-2023.11 decoder: frame list to message, forwarding or consuming, in the layer
//! order of DE-2.
//!
//! 1. frame count and frame limits (DT-2, DL-1);
//! 2. frame 0: msgpack, the value profile, depth, and every marker's shape and place
//!    (DM-1..DM-6, DM-12..DM-14);
//! 3. the index markers' targets, in the order of their indices: range, sub-header,
//!    claim, overlaps (DM-7, DM-8, DS-1..DS-9);
//! 4. consuming receivers only: decompression and merging (DR-4, DL-3, DL-4).

use crate::codecs;
use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::mode::Mode;
use crate::msgpack::read_one;
use crate::value::{Map, Offloaded, Value};

use super::constants::{ENUM, HINT_BYTES, SET};
use super::keys::DaskKeys;
use super::markers::{IndexKind, enum_marker, index_marker, marker_key, set_marker};
use super::sub_header::{self, SubHeader, read_error, serializer_keys};

/// Decodes a frame list (no read hint, no prelude) into a message.
///
/// Set and enum markers become [`Value::Set`] and [`Value::Enum`]; a `__Serialized__`
/// marker becomes [`Value::Offloaded`] (forwarding: the sub-header as decoded and the
/// data frames as on the wire) or [`Value::Materialized`] (consuming: the serializer keys
/// and the original frames); a `__Pickled__` marker becomes [`Value::Pickled`] in both
/// modes. Unclaimed frames are dropped (DM-10). Any violation gives exactly one
/// [`Error`] and no partial message (ER-1).
pub fn decode(mut frames: Vec<Vec<u8>>, mode: Mode, limits: &Limits) -> Result<Value> {
    // Layer 1 (DL-1): N, each length, then the message size with H counted.
    let count = frames.len() as u64;
    limits.check_frame_count(count)?;
    if frames.is_empty() {
        return Err(Error::too_few_frames(
            "DT-2",
            "a message has at least one frame",
        ));
    }
    limits.check_frames_after(HINT_BYTES, count, frames.iter().map(|f| f.len() as u64))?;

    // Layer 2: frame 0.
    let max_depth = limits.effective_max_depth();
    let raw = read_one(&frames[0], max_depth, &DaskKeys)
        .map_err(|e| read_error(e, "frame 0", max_depth))?;
    let mut walker = Walker::default();
    let mut message = walker.top(raw)?;

    // Layer 3: each index marker's frames, in the order of the indices.
    let mut order: Vec<usize> = (0..walker.markers.len()).collect();
    order.sort_by_key(|&k| walker.markers[k].1);
    let last = count - 1;
    let mut claimed_to: u64 = 0;
    let mut targets: Vec<Option<SubHeader>> = vec![None; walker.markers.len()];
    for k in order {
        let (kind, index) = walker.markers[k];
        if index > last {
            return Err(Error::frame_out_of_range(
                "DM-7",
                format!("{} {index} points past the last frame, {last}", kind.key()),
            ));
        }
        // DE-2, layer 3: the sub-header and the claim's range come before the overlap.
        // In range, so the index fits a usize.
        let header = sub_header::read(&frames[index as usize], kind, limits)?;
        let end = u128::from(index) + u128::from(header.count);
        if end > u128::from(last) {
            return Err(Error::frame_out_of_range(
                "DM-7",
                format!(
                    "{} {index} claims frames up to {end}; the last is {last}",
                    kind.key()
                ),
            ));
        }
        if index <= claimed_to {
            return Err(Error::overlapping_frames(
                "DM-8",
                format!("frame {index} is claimed twice"),
            ));
        }
        claimed_to = end as u64;
        targets[k] = Some(header);
    }

    // Layer 4 (and the final values): the data frames of each marker, in pre-order.
    let mut filler = Filler {
        frames: &mut frames,
        markers: &walker.markers,
        targets,
        next: 0,
        mode,
        limits,
    };
    filler.fill(&mut message)?;
    Ok(message)
}

/// Layer 2: checks markers in frame 0, replaces inline ones, and notes index markers in
/// pre-order (a slot [`Value::Offloaded`] stands in for each until layer 4).
#[derive(Default)]
struct Walker {
    markers: Vec<(IndexKind, u64)>,
}

impl Walker {
    /// DM-3, DM-14: any top-level value but a marker.
    fn top(&mut self, value: Value) -> Result<Value> {
        if let Value::Map(entries) = &value {
            if marker_key(entries)?.is_some() {
                return Err(Error::invalid_marker(
                    "DM-14",
                    "frame 0's value is itself a marker",
                ));
            }
        }
        self.element(value, true)
    }

    /// A map value or array element (or the top level): where markers may stand.
    fn element(&mut self, value: Value, top: bool) -> Result<Value> {
        match value {
            Value::Map(entries) => {
                if !top {
                    if let Some(key) = marker_key(&entries)? {
                        return self.marker(&entries, key);
                    }
                }
                // Keys are never maps (DM-2), so they hold no markers.
                let mut out: Map = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let v = self.element(v, false)?;
                    out.push((k, v));
                }
                Ok(Value::Map(out))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .into_iter()
                    .map(|v| self.element(v, false))
                    .collect::<Result<_>>()?,
            )),
            other => Ok(other),
        }
    }

    fn marker(&mut self, entries: &Map, key: &'static str) -> Result<Value> {
        match key {
            SET => Ok(Value::Set(set_marker(entries)?)),
            ENUM => Ok(Value::Enum(Box::new(enum_marker(entries)?))),
            _ => {
                let marker = index_marker(entries, key)?;
                self.markers.push(marker);
                Ok(Value::Offloaded(Box::default()))
            }
        }
    }
}

/// Layer 4: gives each slot its value, visiting the message in the walker's pre-order.
struct Filler<'a> {
    frames: &'a mut [Vec<u8>],
    markers: &'a [(IndexKind, u64)],
    targets: Vec<Option<SubHeader>>,
    next: usize,
    mode: Mode,
    limits: &'a Limits,
}

impl Filler<'_> {
    fn fill(&mut self, value: &mut Value) -> Result<()> {
        match value {
            Value::Map(entries) => entries.iter_mut().try_for_each(|(_, v)| self.fill(v)),
            Value::Array(items) => items.iter_mut().try_for_each(|v| self.fill(v)),
            Value::Offloaded(_) => {
                let k = self.next;
                self.next += 1;
                let (kind, index) = self.markers[k];
                let header = self.targets[k]
                    .take()
                    .ok_or_else(|| Error::invalid_marker("DM-7", "a marker without a target"))?;
                // Layer 3 checked that the claim lies inside the frames and overlaps none.
                let start = index as usize + 1;
                let end = start + header.count as usize;
                let wire: Vec<Vec<u8>> = self.frames[start..end]
                    .iter_mut()
                    .map(std::mem::take)
                    .collect();
                *value = match (kind, self.mode) {
                    (IndexKind::Pickled, _) => {
                        Value::Pickled(Box::new(Offloaded::new(header.map, wire)))
                    }
                    (IndexKind::Serialized, Mode::Forwarding) => {
                        Value::Offloaded(Box::new(Offloaded::new(header.map, wire)))
                    }
                    (IndexKind::Serialized, Mode::Consuming) => {
                        let original = merge(&header, wire, self.limits)?;
                        Value::Materialized(Box::new(Offloaded::new(
                            serializer_keys(&header.map),
                            original,
                        )))
                    }
                };
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// DR-4: decompresses each data frame by its codec, then concatenates each split run
/// into an original frame (DL-3, DL-4).
pub fn merge(header: &SubHeader, wire: Vec<Vec<u8>>, limits: &Limits) -> Result<Vec<Vec<u8>>> {
    let mut plain = Vec::with_capacity(wire.len());
    for (k, frame) in wire.into_iter().enumerate() {
        plain.push(match header.codec(k) {
            None => frame,
            Some(codec) => codecs::decompress(codec, &frame, limits)?,
        });
    }
    let Some((counts, offsets)) = &header.split else {
        return Ok(plain);
    };
    let mut out = Vec::with_capacity(counts.len());
    for (j, (&n, &offset)) in counts.iter().zip(offsets).enumerate() {
        // DS-4 was checked: the runs partition the data frames.
        let run = &plain[offset as usize..(offset + n) as usize];
        let size: u128 = run.iter().map(|f| f.len() as u128).sum();
        // DL-4 bounds merged frames only: a run of one shard is kept as it is.
        if n > 1 && size > u128::from(limits.max_decompressed_bytes) {
            return Err(Error::limit_exceeded(
                Limit::MaxDecompressedBytes,
                format!(
                    "original frame {j} merges to {size} bytes, over {}",
                    limits.max_decompressed_bytes
                ),
            ));
        }
        out.push(run.concat());
    }
    Ok(out)
}
