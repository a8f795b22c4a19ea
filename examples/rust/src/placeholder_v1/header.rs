//! Offloaded-value headers: the transport keys (HD-1..HD-6) and placeholder checks.

use crate::value::{Map, Value, map_get};

use super::keys::{has_reserved_key, is_transport_key};

/// The transport keys of one header, validated (HD-2..HD-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// `count`: frames on the wire (HD-2).
    pub count: u64,
    /// `deserialize`: true for a raw byte string (HD-3, HD-9).
    pub deserialize: bool,
    /// `lengths`: original frame sizes (HD-4).
    pub lengths: Vec<u64>,
    /// `compression`: one codec name or nil per wire frame; `None` if absent (HD-5).
    pub compression: Option<Vec<Option<String>>>,
}

impl Transport {
    /// The codec of wire frame `index`, if any.
    pub fn codec(&self, index: usize) -> Option<&str> {
        self.compression
            .as_ref()
            .and_then(|c| c.get(index))
            .and_then(|c| c.as_deref())
    }
}

fn non_negative(value: &Value) -> Option<u64> {
    match value {
        Value::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}

/// Reads `count`, `deserialize`, `lengths` and `compression` from a header.
///
/// `Err` carries the requirement ID and an explanation; the decoder reports it as
/// `invalid-header` (HD-6).
pub fn parse_transport(header: &Map) -> Result<Transport, (&'static str, String)> {
    let count = match map_get(header, "count") {
        None => return Err(("HD-2", "header has no \"count\"".into())),
        Some(v) => non_negative(v).ok_or_else(|| {
            (
                "HD-2",
                format!(
                    "header \"count\" is a {}, not a non-negative int",
                    describe(v)
                ),
            )
        })?,
    };
    let deserialize = match map_get(header, "deserialize") {
        None => return Err(("HD-3", "header has no \"deserialize\"".into())),
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err((
                "HD-3",
                format!("header \"deserialize\" is a {}, not a bool", describe(v)),
            ));
        }
    };
    let lengths = match map_get(header, "lengths") {
        None => return Err(("HD-4", "header has no \"lengths\"".into())),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                non_negative(item).ok_or_else(|| {
                    (
                        "HD-4",
                        format!("header \"lengths\"[{i}] is a {}", describe(item)),
                    )
                })
            })
            .collect::<Result<Vec<u64>, _>>()?,
        Some(v) => {
            return Err((
                "HD-4",
                format!("header \"lengths\" is a {}, not an array", describe(v)),
            ));
        }
    };
    let compression = match map_get(header, "compression") {
        None => None,
        Some(Value::Array(items)) => {
            if items.len() as u128 != u128::from(count) {
                return Err((
                    "HD-5",
                    format!(
                        "header \"compression\" has {} entries, \"count\" is {count}",
                        items.len()
                    ),
                ));
            }
            Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::Str(s) => Ok(Some(s.clone())),
                        Value::Nil => Ok(None),
                        other => Err((
                            "HD-5",
                            format!(
                                "header \"compression\"[{i}] is a {}, not a str or nil",
                                describe(other)
                            ),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
        Some(v) => {
            return Err((
                "HD-5",
                format!("header \"compression\" is a {}, not an array", describe(v)),
            ));
        }
    };
    Ok(Transport {
        count,
        deserialize,
        lengths,
        compression,
    })
}

fn describe(value: &Value) -> String {
    match value {
        Value::Int(i) => format!("int {i}"),
        other => other.type_name().to_owned(),
    }
}

/// The header without its transport keys: what a consuming receiver yields (RX-2).
pub fn serializer_keys(header: &Map) -> Map {
    header
        .iter()
        .filter(|(k, _)| !is_transport_key(k))
        .cloned()
        .collect()
}

/// Finds a map holding a reserved key anywhere inside `value` (the value itself included).
///
/// Returns a path for the message. Headers must not contain placeholders (PH-7).
pub fn find_reserved(value: &Value) -> Option<String> {
    match value {
        Value::Map(entries) => {
            if has_reserved_key(entries) {
                return Some(String::from("a map"));
            }
            entries.iter().find_map(|(k, v)| {
                find_reserved(k)
                    .or_else(|| find_reserved(v))
                    .map(|inner| format!("{inner} under a key {}", short(k)))
            })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_reserved(item).map(|inner| format!("{inner} at [{i}]"))),
        _ => None,
    }
}

fn short(key: &Value) -> String {
    match key {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        other => other.type_name().to_owned(),
    }
}
