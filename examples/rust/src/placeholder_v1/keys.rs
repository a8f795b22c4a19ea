//! placeholder-v1's key rules: the reserved placeholder keys (PH-1), the transport keys of a
//! header (HD-1), and the map keys a payload may have (PL-6, PL-7), as the [`KeyPolicy`] the
//! shared msgpack reader applies. The encoder checks a message's keys by the same rules
//! (`encode::check_map_keys`).

use crate::msgpack::{KeyPolicy, KeyRejection, ReadErrorKind};
use crate::value::{Map, Value};

use super::header::find_reserved;

/// The transport keys of a header (HD-1), in canonical order (CE-5).
pub const TRANSPORT_KEYS: [&str; 4] = ["lengths", "compression", "count", "deserialize"];

/// The reserved placeholder keys (PH-1), in canonical order (CE-4).
pub const RESERVED_KEYS: [&str; 3] = ["_$header", "_$findex", "_$fcount"];

/// True if the map holds at least one reserved placeholder key (PH-1).
pub fn has_reserved_key(map: &Map) -> bool {
    map.iter()
        .any(|(k, _)| matches!(k, Value::Str(s) if RESERVED_KEYS.contains(&s.as_str())))
}

/// True if `key` is a str naming a transport key (HD-1).
pub fn is_transport_key(key: &Value) -> bool {
    matches!(key, Value::Str(s) if TRANSPORT_KEYS.contains(&s.as_str()))
}

/// A key in a form that can be hashed, for the duplicate check (PL-7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyRepr {
    /// nil.
    Nil,
    /// An int, by value whatever its msgpack width.
    Int(i128),
    /// A str.
    Str(String),
    /// A bin.
    Bin(Vec<u8>),
    /// An array of keys.
    Array(Vec<KeyRepr>),
}

/// The hashable form of a key, or `None` if the key's type is not allowed (PL-6).
pub(crate) fn key_repr(key: &Value) -> Option<KeyRepr> {
    Some(match key {
        Value::Nil => KeyRepr::Nil,
        Value::Int(i) => KeyRepr::Int(*i),
        Value::Str(s) => KeyRepr::Str(s.clone()),
        Value::Bin(b) => KeyRepr::Bin(b.clone()),
        Value::Array(items) => KeyRepr::Array(items.iter().map(key_repr).collect::<Option<_>>()?),
        _ => return None,
    })
}

/// The disallowed type a key is, or holds inside arrays (PL-6), for messages.
pub(crate) fn disallowed_key_type(key: &Value) -> &'static str {
    match key {
        Value::Array(items) => items
            .iter()
            .find(|item| key_repr(item).is_none())
            .map_or("array", disallowed_key_type),
        other => other.type_name(),
    }
}

/// placeholder-v1's map keys: str, bin, int, nil and arrays of those, compared by type and
/// value (PL-6, PL-7). A key that is or holds a placeholder breaks both PL-6 and PH-7; it is
/// reported as [`ReadErrorKind::ReservedInKey`], the more specific of the two.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaceholderKeys;

impl KeyPolicy for PlaceholderKeys {
    type Form = KeyRepr;

    fn form(&self, key: &Value) -> std::result::Result<Option<KeyRepr>, KeyRejection> {
        match key_repr(key) {
            Some(repr) => Ok(Some(repr)),
            None if find_reserved(key).is_some() => Err(KeyRejection {
                kind: ReadErrorKind::ReservedInKey,
                what: "is or holds a placeholder".into(),
            }),
            None => Err(KeyRejection {
                kind: ReadErrorKind::MapKey,
                what: format!("is a {}", disallowed_key_type(key)),
            }),
        }
    }

    fn duplicate(&self) -> &'static str {
        "is a duplicate"
    }
}
