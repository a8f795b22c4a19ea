//! Markers (DM-4..DM-14): recognising reserved keys and checking each marker's shape.

use crate::error::{Error, Result};
use crate::value::{EnumMember, Map, Value};

use super::constants::{
    AS_LIST, ENUM, ENUM_CLASS, ENUM_MODULE, ENUM_NAME, INLINE_DATA, PICKLED, RESERVED_KEYS,
    SERIALIZED, SET,
};
use super::keys::check_dask_keys;

/// Which index marker: `__Serialized__` (an offloaded value) or `__Pickled__`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// `{"__Serialized__": i}`.
    Serialized,
    /// `{"__Pickled__": i}`.
    Pickled,
}

impl IndexKind {
    /// The marker's reserved key.
    pub fn key(self) -> &'static str {
        match self {
            IndexKind::Serialized => SERIALIZED,
            IndexKind::Pickled => PICKLED,
        }
    }
}

/// DM-4: the reserved str keys of a map, in entry order (a bin key is an ordinary key).
pub fn reserved_keys(entries: &Map) -> Vec<&'static str> {
    entries
        .iter()
        .filter_map(|(k, _)| match k {
            Value::Str(s) => RESERVED_KEYS.iter().copied().find(|r| r == s),
            _ => None,
        })
        .collect()
}

/// The one reserved key of a marker occurrence, `None` for a plain map; more than one
/// gives `invalid-marker` (DM-5).
pub fn marker_key(entries: &Map) -> Result<Option<&'static str>> {
    let keys = reserved_keys(entries);
    match keys.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(Error::invalid_marker(
            "DM-5",
            format!("a map has more than one reserved key: {keys:?}"),
        )),
    }
}

/// The value of a str key, and whether every entry's key is one of `keys`.
fn exactly<'a>(entries: &'a Map, keys: &[&str]) -> Option<Vec<&'a Value>> {
    if entries.len() != keys.len() {
        return None;
    }
    keys.iter()
        .map(|key| entries.iter().find(|(k, _)| k.is_str(key)).map(|(_, v)| v))
        .collect()
}

/// DM-6: an index marker's kind and index: exactly one entry, a positive integer.
pub fn index_marker(entries: &Map, key: &'static str) -> Result<(IndexKind, u64)> {
    let kind = if key == SERIALIZED {
        IndexKind::Serialized
    } else {
        IndexKind::Pickled
    };
    match exactly(entries, &[key]).as_deref() {
        Some([Value::Int(i)]) if *i >= 1 => u64::try_from(*i)
            .map(|i| (kind, i))
            .map_err(|_| Error::invalid_marker("DM-6", format!("{key} index {i} is out of range"))),
        Some([other]) => Err(Error::invalid_marker(
            "DM-6",
            format!(
                "{key} is {}, not a positive integer",
                match other {
                    Value::Int(i) => i.to_string(),
                    v => format!("a {}", v.type_name()),
                }
            ),
        )),
        _ => Err(Error::invalid_marker(
            "DM-6",
            format!(
                "an index marker has exactly one entry; found {}",
                entries.len()
            ),
        )),
    }
}

/// DM-12: a set marker's elements (allowed map keys, no two the same), in wire order.
pub fn set_marker(entries: &Map) -> Result<Vec<Value>> {
    match exactly(entries, &[SET, AS_LIST]).as_deref() {
        Some([Value::Bool(true), Value::Array(items)]) => {
            check_dask_keys(items.iter()).map_err(|(_, why)| {
                Error::invalid_marker("DM-12", format!("a set element breaks DM-2: {why}"))
            })?;
            Ok(items.clone())
        }
        _ => Err(Error::invalid_marker(
            "DM-12",
            "a set marker is exactly {\"__Set__\": true, \"as-list\": [...]}",
        )),
    }
}

/// DM-13: an enum marker's member, from exactly four entries with str values.
pub fn enum_marker(entries: &Map) -> Result<EnumMember> {
    match exactly(entries, &[ENUM, ENUM_NAME, ENUM_MODULE, ENUM_CLASS]).as_deref() {
        Some(
            [
                Value::Bool(true),
                Value::Str(name),
                Value::Str(module),
                Value::Str(class),
            ],
        ) => Ok(EnumMember {
            module: module.clone(),
            class: class.clone(),
            name: name.clone(),
        }),
        _ => Err(Error::invalid_marker(
            "DM-13",
            "an enum marker is exactly \"__Enum__\": true and str \"name\", \"__module__\", \
             \"__name__\"",
        )),
    }
}

/// DS-9: an inline serialized value, `{"__Serialized__": true, "data": [header, [bin...]]}`.
pub fn check_inline(entries: &Map) -> Result<()> {
    match exactly(entries, &[SERIALIZED, INLINE_DATA]).as_deref() {
        Some([Value::Bool(true), Value::Array(data)])
            if matches!(data.as_slice(), [Value::Map(_), Value::Array(frames)]
                if frames.iter().all(|f| matches!(f, Value::Bin(_)))) =>
        {
            Ok(())
        }
        _ => Err(Error::invalid_marker(
            "DS-9",
            "an inline serialized value is exactly \
             {\"__Serialized__\": true, \"data\": [map, [bin, ...]]}",
        )),
    }
}
