//! dask-2023.11's map-key rules (DM-2): which keys a map (or a set) may have and when two
//! are the same, as the [`KeyPolicy`] the shared msgpack reader applies.

use std::collections::HashSet;

use crate::msgpack::{KeyPolicy, KeyRejection, ReadErrorKind};
use crate::value::Value;

/// A dask-2023.11 key in a hashable form where equal keys (DM-2) have equal forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DaskKey {
    /// nil.
    Nil,
    /// An int, a bool (as 0 or 1) or an integral float: numbers compare by value.
    Int(i128),
    /// A float that is no integer: its float64 bits (never a NaN).
    Float(u64),
    /// A str.
    Str(String),
    /// A bin.
    Bin(Vec<u8>),
    /// An array of keys.
    Array(Vec<DaskKey>),
}

/// The DM-2 form of a key: `Err(())` for a type no key may have, `Ok(None)` for a key
/// holding a NaN (equal to no key, itself included).
fn dask_key(key: &Value) -> std::result::Result<Option<DaskKey>, ()> {
    fn float(x: f64) -> Option<DaskKey> {
        if x.is_nan() {
            None
        } else if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e38 {
            // Integral and well inside i128: equal to the integer of that value (0.0 = -0.0).
            Some(DaskKey::Int(x as i128))
        } else {
            Some(DaskKey::Float(x.to_bits()))
        }
    }
    Ok(match key {
        Value::Nil => Some(DaskKey::Nil),
        Value::Bool(b) => Some(DaskKey::Int(i128::from(*b))),
        Value::Int(i) => Some(DaskKey::Int(*i)),
        Value::F32(f) => float(f64::from(*f)),
        Value::F64(f) => float(*f),
        Value::Str(s) => Some(DaskKey::Str(s.clone())),
        Value::Bin(b) => Some(DaskKey::Bin(b.clone())),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut nan = false;
            for item in items {
                match dask_key(item)? {
                    Some(k) => out.push(k),
                    None => nan = true,
                }
            }
            (!nan).then_some(DaskKey::Array(out))
        }
        _ => return Err(()),
    })
}

/// Checks keys (or set elements) under DM-2: each an allowed key, no two the same.
/// `Err` says which one breaks the rule and whether it is a duplicate (`true`).
pub fn check_dask_keys<'a>(
    keys: impl IntoIterator<Item = &'a Value>,
) -> std::result::Result<(), (bool, String)> {
    let mut seen = HashSet::new();
    for (index, key) in keys.into_iter().enumerate() {
        match dask_key(key) {
            Err(()) => {
                return Err((
                    false,
                    format!("key {index} is or holds a {}", disallowed_dask_type(key)),
                ));
            }
            Ok(Some(repr)) => {
                if !seen.insert(repr) {
                    return Err((true, format!("key {index} equals an earlier key")));
                }
            }
            Ok(None) => {}
        }
    }
    Ok(())
}

fn disallowed_dask_type(key: &Value) -> &'static str {
    match key {
        Value::Array(items) => items
            .iter()
            .find(|item| dask_key(item).is_err())
            .map_or("array", disallowed_dask_type),
        other => other.type_name(),
    }
}

/// dask-2023.11's map keys (DM-2): nil, bool, int, float32, float64, str, bin and arrays of
/// those; numbers compare by value across int, float and bool, and a NaN equals nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaskKeys;

impl KeyPolicy for DaskKeys {
    type Form = DaskKey;

    fn form(&self, key: &Value) -> std::result::Result<Option<DaskKey>, KeyRejection> {
        dask_key(key).map_err(|()| KeyRejection {
            kind: ReadErrorKind::MapKey,
            what: format!("is or holds a {}", disallowed_dask_type(key)),
        })
    }

    fn duplicate(&self) -> &'static str {
        "equals an earlier key"
    }
}
