//! The value model: msgpack values plus offloaded values (both profiles), and the sets,
//! enums and pickled values that only `dask-2023.11` yields.

/// A map: entries in wire order (PL-8). Keys are unique (PL-7).
pub type Map = Vec<(Value, Value)>;

/// One message value.
///
/// The plain variants are the msgpack types of the profile (PL-3..PL-10); the two
/// offloaded variants stand where a placeholder stands on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// msgpack nil.
    Nil,
    /// msgpack bool.
    Bool(bool),
    /// An integer; the profile's range is `-2**63 ..= 2**64-1` (PL-4).
    Int(i128),
    /// A float32; its width is kept (PL-5).
    F32(f32),
    /// A float64.
    F64(f64),
    /// A str: valid UTF-8 text (PL-3).
    Str(String),
    /// A bin: bytes (PL-3).
    Bin(Vec<u8>),
    /// An array (PL-10).
    Array(Vec<Value>),
    /// A map, in entry order (PL-8).
    Map(Map),
    /// Wire form of an offloaded value: the full header (transport keys included) and the
    /// frames exactly as they travel (RX-1). The encoder passes it through (CE-5).
    Offloaded(Box<Offloaded>),
    /// Original form of an offloaded value: the header without transport keys and the
    /// frames decompressed and merged (RX-2). The encoder splits and compresses it (CE-8).
    Materialized(Box<Offloaded>),
    /// dask-2023.11: a set marker's value, elements in wire order (DM-12).
    Set(Vec<Value>),
    /// dask-2023.11: an enum marker's value; nothing is imported (DM-13).
    Enum(Box<EnumMember>),
    /// dask-2023.11: a `__Pickled__` value in wire form, in both receiver modes (DR-2,
    /// DP-2): the sub-header exactly as decoded (its `"pickled-obj"` a bin) and the
    /// out-of-band buffers as on the wire. Never unpickled.
    Pickled(Box<Offloaded>),
}

/// An enum member as a dask-2023.11 enum marker names it (DM-13).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnumMember {
    /// The marker's `"__module__"`: the module of the enum class.
    pub module: String,
    /// The marker's `"__name__"`: the enum class name.
    pub class: String,
    /// The marker's `"name"`: the member name.
    pub name: String,
}

/// The header and frames of an offloaded value (either form).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Offloaded {
    /// The header map.
    pub header: Map,
    /// The frames.
    pub frames: Vec<Vec<u8>>,
}

impl Offloaded {
    /// Builds an offloaded value.
    pub fn new(header: Map, frames: Vec<Vec<u8>>) -> Self {
        Offloaded { header, frames }
    }
}

impl Value {
    /// A str value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(s.into())
    }

    /// The text of a str value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an int.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True for a str equal to `s`.
    pub fn is_str(&self, s: &str) -> bool {
        matches!(self, Value::Str(v) if v == s)
    }

    /// A short type name for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::F32(_) => "float32",
            Value::F64(_) => "float64",
            Value::Str(_) => "str",
            Value::Bin(_) => "bin",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Offloaded(_) => "offloaded",
            Value::Materialized(_) => "materialized",
            Value::Set(_) => "set",
            Value::Enum(_) => "enum",
            Value::Pickled(_) => "pickled",
        }
    }
}

/// Levels of maps and arrays, map keys included; the top-level value is at depth 1 (LM-4).
pub fn nesting_depth(value: &Value) -> u64 {
    match value {
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| nesting_depth(k).max(nesting_depth(v)))
                .max()
                .unwrap_or(0)
        }
        Value::Array(items) => 1 + items.iter().map(nesting_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Looks up a str key in a map.
pub fn map_get<'a>(map: &'a Map, key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.is_str(key)).map(|(_, v)| v)
}

/// Typed comparison: exact types, map order matters, NaN equals NaN, -0.0 differs from 0.0.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => same_map(x, y),
        (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Offloaded(x), Value::Offloaded(y))
        | (Value::Materialized(x), Value::Materialized(y))
        | (Value::Pickled(x), Value::Pickled(y)) => {
            same_map(&x.header, &y.header) && x.frames == y.frames
        }
        _ => a == b,
    }
}

fn same_map(x: &Map, y: &Map) -> bool {
    x.len() == y.len()
        && x.iter()
            .zip(y)
            .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
}

/// Converts to an `rmpv` value (for code that keeps opaque fields as `rmpv::Value`, as
/// rsds did). Offloaded values have no `rmpv` form.
impl TryFrom<Value> for rmpv::Value {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        Ok(match value {
            Value::Nil => rmpv::Value::Nil,
            Value::Bool(b) => rmpv::Value::Boolean(b),
            Value::Int(i) => {
                if let Ok(v) = i64::try_from(i) {
                    rmpv::Value::from(v)
                } else if let Ok(v) = u64::try_from(i) {
                    rmpv::Value::from(v)
                } else {
                    return Err(format!("integer {i} is outside msgpack's range"));
                }
            }
            Value::F32(f) => rmpv::Value::F32(f),
            Value::F64(f) => rmpv::Value::F64(f),
            Value::Str(s) => rmpv::Value::String(s.into()),
            Value::Bin(b) => rmpv::Value::Binary(b),
            Value::Array(items) => rmpv::Value::Array(
                items
                    .into_iter()
                    .map(rmpv::Value::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => rmpv::Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((rmpv::Value::try_from(k)?, rmpv::Value::try_from(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Value::Offloaded(_)
            | Value::Materialized(_)
            | Value::Set(_)
            | Value::Enum(_)
            | Value::Pickled(_) => {
                return Err(format!("a {} value has no rmpv form", value.type_name()));
            }
        })
    }
}

/// Converts from an `rmpv` value. Ext values and str that is not UTF-8 are outside the
/// profile (PL-9, PL-3).
impl TryFrom<rmpv::Value> for Value {
    type Error = String;

    fn try_from(value: rmpv::Value) -> Result<Self, String> {
        Ok(match value {
            rmpv::Value::Nil => Value::Nil,
            rmpv::Value::Boolean(b) => Value::Bool(b),
            rmpv::Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(v), _) => Value::Int(i128::from(v)),
                (None, Some(v)) => Value::Int(i128::from(v)),
                (None, None) => return Err("integer out of range".into()),
            },
            rmpv::Value::F32(f) => Value::F32(f),
            rmpv::Value::F64(f) => Value::F64(f),
            rmpv::Value::String(s) => match s.into_str() {
                Some(text) => Value::Str(text),
                None => return Err("a str that is not valid UTF-8".into()),
            },
            rmpv::Value::Binary(b) => Value::Bin(b),
            rmpv::Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(Value::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            rmpv::Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((Value::try_from(k)?, Value::try_from(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            rmpv::Value::Ext(kind, _) => return Err(format!("ext type {kind}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmpv_round_trip() {
        let value = Value::Map(vec![
            (Value::str("a"), Value::F32(1.5)),
            (Value::Int(-1), Value::Int(u64::MAX.into())),
            (
                Value::Nil,
                Value::Array(vec![Value::Bin(vec![1]), Value::Bool(true)]),
            ),
        ]);
        let other = rmpv::Value::try_from(value.clone()).unwrap();
        assert_eq!(Value::try_from(other).unwrap(), value);
        assert!(Value::try_from(rmpv::Value::Ext(1, vec![])).is_err());
    }
}
