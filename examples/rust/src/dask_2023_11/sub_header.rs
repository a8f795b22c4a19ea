//! Sub-headers (DS-1..DS-10): reading and checking the map in frame `i` of an index marker.

use crate::error::{Error, Limit, Result};
use crate::limits::Limits;
use crate::msgpack::{ReadError, ReadErrorKind, read_one};
use crate::value::{Map, Value, map_get};

use super::constants::{
    COMPRESSION, NUM_SUB_FRAMES, PICKLED_OBJ, SERIALIZED, SERIALIZED_TRANSPORT_KEYS,
    SPLIT_NUM_SUB_FRAMES, SPLIT_OFFSETS,
};
use super::keys::DaskKeys;
use super::markers::{IndexKind, check_inline, enum_marker, marker_key, set_marker};

/// A checked sub-header: the map exactly as decoded and its transport keys.
#[derive(Debug, Clone, PartialEq)]
pub struct SubHeader {
    /// The map, every key in wire order (DR-1, DR-2).
    pub map: Map,
    /// `"num-sub-frames"`: the data frames after the sub-header (DS-2).
    pub count: u64,
    /// `"compression"`: one codec name or nil per data frame; `None` when absent (DS-3).
    pub compression: Option<Vec<Option<String>>>,
    /// `"split-num-sub-frames"` with `"split-offsets"`: data frames per original frame,
    /// and where each run starts (DS-4); `None` when absent.
    pub split: Option<(Vec<u64>, Vec<u64>)>,
}

impl SubHeader {
    /// The codec of data frame `k`, if any.
    pub fn codec(&self, k: usize) -> Option<&str> {
        self.compression
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(|c| c.as_deref())
    }
}

/// Maps a reader error in frame 0 or a sub-header to its category (DM-1, DM-2, DS-1, DL-2).
pub fn read_error(error: ReadError, what: &str, max_depth: u64) -> Error {
    let message = format!("{what}: {}", error.message);
    match error.kind {
        ReadErrorKind::Malformed | ReadErrorKind::Utf8 => Error::invalid_msgpack("DM-1", message),
        ReadErrorKind::Ext => Error::unsupported_type("DM-2", message),
        ReadErrorKind::MapKey | ReadErrorKind::DuplicateKey | ReadErrorKind::ReservedInKey => {
            Error::invalid_map_key("DM-2", message)
        }
        ReadErrorKind::Depth => Error::limit_exceeded(
            Limit::MaxDepth,
            format!("{message} (max_depth {max_depth})"),
        ),
    }
}

/// Reads frame `bytes` as the sub-header of an index marker of `kind` and checks it.
pub fn read(bytes: &[u8], kind: IndexKind, limits: &Limits) -> Result<SubHeader> {
    let max_depth = limits.effective_max_depth();
    let value = read_one(bytes, max_depth, &DaskKeys)
        .map_err(|e| read_error(e, "sub-header", max_depth))?;
    check(value, kind)
}

/// Checks a decoded sub-header value (DS-1..DS-9).
pub fn check(value: Value, kind: IndexKind) -> Result<SubHeader> {
    let Value::Map(map) = value else {
        return Err(Error::invalid_header(
            "DS-1",
            format!("a sub-header is a map, not a {}", value.type_name()),
        ));
    };
    match kind {
        IndexKind::Pickled => {
            check_pickled_keys(&map)?;
            check_no_markers(&map)?;
        }
        IndexKind::Serialized => {
            if marker_key(&map)?.is_some() {
                return Err(Error::invalid_marker(
                    "DS-9",
                    "a sub-header's own top level holds a reserved key",
                ));
            }
            for (_, v) in &map {
                check_nested_markers(v)?;
            }
        }
    }
    let count = match map_get(&map, NUM_SUB_FRAMES) {
        Some(Value::Int(c)) if *c >= 0 => u64::try_from(*c)
            .map_err(|_| Error::invalid_header("DS-2", format!("num-sub-frames {c} too large")))?,
        Some(other) => {
            return Err(Error::invalid_header(
                "DS-2",
                format!(
                    "num-sub-frames is a {}, not a non-negative int",
                    other.type_name()
                ),
            ));
        }
        None => {
            return Err(Error::invalid_header(
                "DS-2",
                "no str key \"num-sub-frames\"",
            ));
        }
    };
    let compression = match map_get(&map, COMPRESSION) {
        None => None,
        Some(Value::Array(items)) if items.len() as u128 == u128::from(count) => Some(
            items
                .iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(Some(s.clone())),
                    Value::Nil => Ok(None),
                    other => Err(Error::invalid_header(
                        "DS-3",
                        format!("a compression entry is a {}", other.type_name()),
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(Value::Array(items)) => {
            return Err(Error::invalid_header(
                "DS-3",
                format!(
                    "compression has {} entries for {count} data frames",
                    items.len()
                ),
            ));
        }
        Some(other) => {
            return Err(Error::invalid_header(
                "DS-3",
                format!("compression is a {}, not an array", other.type_name()),
            ));
        }
    };
    let split = match kind {
        IndexKind::Pickled => {
            if !matches!(map_get(&map, PICKLED_OBJ), Some(Value::Bin(_))) {
                return Err(Error::invalid_header(
                    "DS-6",
                    "a __Pickled__ sub-header has a bin \"pickled-obj\"",
                ));
            }
            None
        }
        IndexKind::Serialized => split_keys(&map, count)?,
    };
    Ok(SubHeader {
        map,
        count,
        compression,
        split,
    })
}

/// DS-4: both or neither split key; arrays of the same length partitioning the data frames.
fn split_keys(map: &Map, count: u64) -> Result<Option<(Vec<u64>, Vec<u64>)>> {
    let ints = |name: &str, value: &Value| -> Result<Vec<u64>> {
        let Value::Array(items) = value else {
            return Err(Error::invalid_header(
                "DS-4",
                format!("{name} is a {}, not an array", value.type_name()),
            ));
        };
        items
            .iter()
            .map(|item| match item {
                Value::Int(i) if *i >= 0 => u64::try_from(*i).map_err(|_| {
                    Error::invalid_header("DS-4", format!("{name} entry {i} too large"))
                }),
                other => Err(Error::invalid_header(
                    "DS-4",
                    format!("a {name} entry is a {}", other.type_name()),
                )),
            })
            .collect()
    };
    let (counts, offsets) = match (
        map_get(map, SPLIT_NUM_SUB_FRAMES),
        map_get(map, SPLIT_OFFSETS),
    ) {
        (None, None) => return Ok(None),
        (Some(c), Some(o)) => (ints(SPLIT_NUM_SUB_FRAMES, c)?, ints(SPLIT_OFFSETS, o)?),
        _ => {
            return Err(Error::invalid_header(
                "DS-4",
                "a sub-header has both or neither of the split keys",
            ));
        }
    };
    if counts.len() != offsets.len() {
        return Err(Error::invalid_header(
            "DS-4",
            "the split arrays differ in length",
        ));
    }
    let mut next: u128 = 0;
    for (j, (&n, &offset)) in counts.iter().zip(&offsets).enumerate() {
        if u128::from(offset) != next {
            return Err(Error::invalid_header(
                "DS-4",
                format!("split-offsets[{j}] is {offset}, the runs before it end at {next}"),
            ));
        }
        next += u128::from(n);
    }
    if next != u128::from(count) {
        return Err(Error::invalid_header(
            "DS-4",
            format!("the split runs cover {next} data frames, num-sub-frames is {count}"),
        ));
    }
    Ok(Some((counts, offsets)))
}

/// DS-7: every key of a `__Pickled__` sub-header, at every depth, is a str.
fn check_pickled_keys(map: &Map) -> Result<()> {
    fn walk(value: &Value) -> Result<()> {
        match value {
            Value::Map(entries) => check_pickled_keys(entries),
            Value::Array(items) => items.iter().try_for_each(walk),
            _ => Ok(()),
        }
    }
    for (k, v) in map {
        if !matches!(k, Value::Str(_)) {
            return Err(Error::invalid_map_key(
                "DS-7",
                format!("a __Pickled__ sub-header has a {} key", k.type_name()),
            ));
        }
        walk(v)?;
    }
    Ok(())
}

/// DS-9: a `__Pickled__` sub-header holds no reserved key at any depth.
fn check_no_markers(map: &Map) -> Result<()> {
    fn walk(value: &Value) -> Result<()> {
        match value {
            Value::Map(entries) => check_no_markers(entries),
            Value::Array(items) => items.iter().try_for_each(walk),
            _ => Ok(()),
        }
    }
    if !super::markers::reserved_keys(map).is_empty() {
        return Err(Error::invalid_marker(
            "DS-9",
            "a __Pickled__ sub-header holds a reserved key",
        ));
    }
    map.iter().try_for_each(|(_, v)| walk(v))
}

/// DS-9: below the top level of a `__Serialized__` sub-header, reserved keys stand only in
/// set markers, enum markers and inline serialized values; they stay plain maps.
fn check_nested_markers(value: &Value) -> Result<()> {
    match value {
        Value::Map(entries) => {
            match marker_key(entries)? {
                None => {}
                Some(SERIALIZED) => check_inline(entries)?,
                Some(super::constants::SET) => {
                    set_marker(entries)?;
                }
                Some(super::constants::ENUM) => {
                    enum_marker(entries)?;
                }
                Some(_) => {
                    return Err(Error::invalid_marker(
                        "DS-9",
                        "a sub-header holds a __Pickled__ index marker",
                    ));
                }
            }
            entries
                .iter()
                .try_for_each(|(_, v)| check_nested_markers(v))
        }
        Value::Array(items) => items.iter().try_for_each(check_nested_markers),
        _ => Ok(()),
    }
}

/// DS-5: a `__Serialized__` sub-header without its top-level transport keys.
pub fn serializer_keys(map: &Map) -> Map {
    map.iter()
        .filter(
            |(k, _)| !matches!(k, Value::Str(s) if SERIALIZED_TRANSPORT_KEYS.contains(&s.as_str())),
        )
        .cloned()
        .collect()
}
