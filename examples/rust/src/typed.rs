//! Strict serde types over decoded messages: [`Offloadable<T>`], [`from_value`], [`to_value`].
//!
//! This is the pull request's use case made concrete. A message type is an ordinary
//! `#[derive(Serialize, Deserialize)]` struct; every field that a sender may offload is an
//! [`Offloadable<T>`], which holds either the value in place or the offloaded header and
//! frames. No path-based patching, no untyped dictionaries:
//!
//! ```
//! use daskwire_rs::{Mode, Limits, Offloadable, decode, typed::from_value};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Msg {
//!     op: String,
//!     data: Offloadable<serde_bytes::ByteBuf>,
//! }
//!
//! // {"op": "x", "data": <placeholder for one frame "abc">}
//! let payload = daskwire_rs::hex::decode(concat!(
//!     "82a26f70a178a46461746183a85f2468656164657283a76c656e677468739103",
//!     "a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f2466636f756e7401",
//! )).unwrap();
//! let frames = vec![vec![], payload, b"abc".to_vec()];
//! let msg: Msg = from_value(decode(frames, Mode::Forwarding, &Limits::default()).unwrap()).unwrap();
//! assert_eq!(msg.op, "x");
//! match msg.data {
//!     Offloadable::Offloaded { frames, .. } => assert_eq!(frames, vec![b"abc".to_vec()]),
//!     Offloadable::InPlace(_) => unreachable!(),
//! }
//! ```
//!
//! Typed decoding works on the output of a *forwarding* decode ([`crate::Mode::Forwarding`]):
//! an [`Offloadable::Offloaded`] is the wire form, which [`crate::encode()`] passes through
//! unchanged (RX-4). Raw byte strings arrive as bin values, so a
//! `Offloadable<ByteBuf>` holds them `InPlace`.
//!
//! Values convert through [`Value`], which has serde impls of its own. Offloaded values
//! cross serde as a one-entry map under a reserved key ([`OFFLOADED_KEY`],
//! [`MATERIALIZED_KEY`], [`PICKLED_KEY`]), which [`to_value`] and [`from_value`] turn back
//! into [`Value::Offloaded`] / [`Value::Materialized`] / [`Value::Pickled`]. Other serde
//! formats see that map. A dask-2023.11 set is read as a sequence; an enum has no serde form.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::ser::{self, SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decode::{Mode, decode};
use crate::encode::encode;
use crate::limits::Limits;
use crate::options::EncodeOptions;
use crate::value::{Map, Offloaded, Value};

/// The key under which an offloaded value in wire form crosses serde.
pub const OFFLOADED_KEY: &str = "$daskwire:offloaded";
/// The key under which an offloaded value in original form crosses serde.
pub const MATERIALIZED_KEY: &str = "$daskwire:materialized";
/// The key under which a dask-2023.11 pickled value ([`Value::Pickled`]) crosses serde.
pub const PICKLED_KEY: &str = "$daskwire:pickled";

/// A field that a sender may offload: the value in place, or its header and frames.
#[derive(Debug, Clone, PartialEq)]
pub enum Offloadable<T> {
    /// The value was sent inline, in frame 1.
    InPlace(T),
    /// The value was offloaded: its header (transport keys included) and its wire frames,
    /// as a forwarding receiver yields them (RX-1).
    Offloaded {
        /// The header map, every key in its order.
        header: Map,
        /// The wire frames, possibly compressed or sharded.
        frames: Vec<Vec<u8>>,
    },
}

impl<T> Offloadable<T> {
    /// The in-place value, if the value was not offloaded.
    pub fn in_place(&self) -> Option<&T> {
        match self {
            Offloadable::InPlace(value) => Some(value),
            Offloadable::Offloaded { .. } => None,
        }
    }

    /// True if the value was offloaded.
    pub fn is_offloaded(&self) -> bool {
        matches!(self, Offloadable::Offloaded { .. })
    }
}

impl<T: Serialize> Serialize for Offloadable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Offloadable::InPlace(value) => value.serialize(serializer),
            Offloadable::Offloaded { header, frames } => {
                OffloadedRef(OFFLOADED_KEY, header, frames).serialize(serializer)
            }
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Offloadable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Buffer the field as a Value, then decide: this also works inside internally
        // tagged enums, where serde buffers the content itself.
        match Value::deserialize(deserializer)? {
            Value::Offloaded(node) => Ok(Offloadable::Offloaded {
                header: node.header,
                frames: node.frames,
            }),
            Value::Materialized(_) => Err(de::Error::custom(
                "an offloaded value in original form; typed messages take the output of a \
                 forwarding decode",
            )),
            other => T::deserialize(other)
                .map(Offloadable::InPlace)
                .map_err(de::Error::custom),
        }
    }
}

/// An error converting between [`Value`] and a serde type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedError(pub String);

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TypedError {}

impl de::Error for TypedError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        TypedError(msg.to_string())
    }
}

impl ser::Error for TypedError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        TypedError(msg.to_string())
    }
}

/// Builds a `T` from a decoded message (or any value).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, TypedError> {
    T::deserialize(value)
}

/// Turns a `T` into a message value. Structs become maps with their field names as str
/// keys, in declaration order; bytes wrapped in `serde_bytes` become bin.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, TypedError> {
    value.serialize(ValueSerializer)
}

/// Decodes frames as a forwarding receiver and builds a `T`.
pub fn decode_typed<T: DeserializeOwned>(
    frames: Vec<Vec<u8>>,
    limits: &Limits,
) -> Result<T, TypedDecodeError> {
    let value = decode(frames, Mode::Forwarding, limits).map_err(TypedDecodeError::Wire)?;
    from_value(value).map_err(TypedDecodeError::Shape)
}

/// Encodes a `T` into canonical frames.
pub fn encode_typed<T: Serialize>(
    message: &T,
    options: &EncodeOptions,
) -> Result<Vec<Vec<u8>>, TypedDecodeError> {
    let value = to_value(message).map_err(TypedDecodeError::Shape)?;
    encode(&value, options).map_err(TypedDecodeError::Wire)
}

/// Why a typed decode or encode failed.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedDecodeError {
    /// The frames break the spec (or the value cannot be encoded).
    Wire(crate::Error),
    /// The message is valid but does not have the expected shape.
    Shape(TypedError),
}

impl fmt::Display for TypedDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypedDecodeError::Wire(e) => write!(f, "{e}"),
            TypedDecodeError::Shape(e) => write!(f, "message shape: {e}"),
        }
    }
}

impl std::error::Error for TypedDecodeError {}

// ---------------------------------------------------------------------------------------
// Value <-> serde data model

/// Borrowed view of an offloaded value, serialized as `{KEY: {"header": .., "frames": ..}}`.
struct OffloadedRef<'a>(&'static str, &'a Map, &'a [Vec<u8>]);

impl Serialize for OffloadedRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Body<'a>(&'a Map, &'a [Vec<u8>]);
        impl Serialize for Body<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("header", &MapRef(self.0))?;
                let frames: Vec<&serde_bytes::Bytes> =
                    self.1.iter().map(|f| serde_bytes::Bytes::new(f)).collect();
                map.serialize_entry("frames", &frames)?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &Body(self.1, self.2))?;
        map.end()
    }
}

struct MapRef<'a>(&'a Map);

impl Serialize for MapRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => {
                if let Ok(v) = i64::try_from(*i) {
                    serializer.serialize_i64(v)
                } else if let Ok(v) = u64::try_from(*i) {
                    serializer.serialize_u64(v)
                } else {
                    serializer.serialize_i128(*i)
                }
            }
            Value::F32(f) => serializer.serialize_f32(*f),
            Value::F64(f) => serializer.serialize_f64(*f),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Bin(b) => serializer.serialize_bytes(b),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => MapRef(entries).serialize(serializer),
            Value::Offloaded(node) => {
                OffloadedRef(OFFLOADED_KEY, &node.header, &node.frames).serialize(serializer)
            }
            Value::Materialized(node) => {
                OffloadedRef(MATERIALIZED_KEY, &node.header, &node.frames).serialize(serializer)
            }
            Value::Pickled(node) => {
                OffloadedRef(PICKLED_KEY, &node.header, &node.frames).serialize(serializer)
            }
            Value::Set(_) | Value::Enum(_) => Err(serde::ser::Error::custom(format!(
                "a dask-2023.11 {} value has no serde form",
                self.type_name()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a msgpack value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::F32(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bin(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bin(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries: Map = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = access.next_entry::<Value, Value>()? {
            entries.push((k, v));
        }
        from_marker_map(entries).map_err(de::Error::custom)
    }
}

/// Turns `{OFFLOADED_KEY: {"header": map, "frames": [bin...]}}` (or the same under
/// [`MATERIALIZED_KEY`] or [`PICKLED_KEY`]) back into its value; any other map is returned as
/// it is.
fn from_marker_map(entries: Map) -> Result<Value, String> {
    let wrap: fn(Box<Offloaded>) -> Value = match entries.as_slice() {
        [(Value::Str(k), _)] if k == OFFLOADED_KEY => Value::Offloaded,
        [(Value::Str(k), _)] if k == MATERIALIZED_KEY => Value::Materialized,
        [(Value::Str(k), _)] if k == PICKLED_KEY => Value::Pickled,
        _ => return Ok(Value::Map(entries)),
    };
    let Some((_, Value::Map(body))) = entries.into_iter().next() else {
        return Err("an offloaded value's body must be a map".into());
    };
    let mut header = None;
    let mut frames = None;
    for (k, v) in body {
        match (k.as_str(), v) {
            (Some("header"), Value::Map(h)) => header = Some(h),
            (Some("frames"), Value::Array(fs)) => {
                frames = Some(
                    fs.into_iter()
                        .map(|f| match f {
                            Value::Bin(b) => Ok(b),
                            // Formats without bytes (JSON) give arrays of small ints.
                            Value::Array(ints) => ints
                                .into_iter()
                                .map(|i| match i {
                                    Value::Int(n) => u8::try_from(n).map_err(|_| ()),
                                    _ => Err(()),
                                })
                                .collect::<Result<Vec<u8>, ()>>()
                                .map_err(|()| "a frame must be bytes".to_owned()),
                            _ => Err("a frame must be bytes".to_owned()),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            _ => {
                return Err(
                    "an offloaded value has a map \"header\" and a \"frames\" array".into(),
                );
            }
        }
    }
    let (Some(header), Some(frames)) = (header, frames) else {
        return Err("an offloaded value has a \"header\" and \"frames\"".into());
    };
    Ok(wrap(Box::new(Offloaded::new(header, frames))))
}

// ---------------------------------------------------------------------------------------
// Value as a Deserializer

impl<'de> IntoDeserializer<'de, TypedError> for Value {
    type Deserializer = Value;
    fn into_deserializer(self) -> Value {
        self
    }
}

fn int_visit<'de, V: Visitor<'de>>(i: i128, visitor: V) -> Result<V::Value, TypedError> {
    if let Ok(v) = i64::try_from(i) {
        visitor.visit_i64(v)
    } else if let Ok(v) = u64::try_from(i) {
        visitor.visit_u64(v)
    } else {
        visitor.visit_i128(i)
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = TypedError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self {
            Value::Nil => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => int_visit(i, visitor),
            Value::F32(f) => visitor.visit_f32(f),
            Value::F64(f) => visitor.visit_f64(f),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bin(b) => visitor.visit_byte_buf(b),
            Value::Array(items) => visitor.visit_seq(SeqDe(items.into_iter())),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.into_iter(),
                value: None,
            }),
            Value::Offloaded(node) => marker_map(OFFLOADED_KEY, *node, visitor),
            Value::Materialized(node) => marker_map(MATERIALIZED_KEY, *node, visitor),
            Value::Pickled(node) => marker_map(PICKLED_KEY, *node, visitor),
            Value::Set(items) => visitor.visit_seq(SeqDe(items.into_iter())),
            other @ Value::Enum(_) => Err(de::Error::custom(format!(
                "a dask-2023.11 {} value has no serde form",
                other.type_name()
            ))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self {
            Value::Nil => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        match self {
            Value::Str(variant) => visitor.visit_enum(EnumDe {
                variant,
                value: None,
            }),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = entries.into_iter().next().expect("one entry");
                match k {
                    Value::Str(variant) => visitor.visit_enum(EnumDe {
                        variant,
                        value: Some(v),
                    }),
                    other => Err(de::Error::custom(format!(
                        "an enum variant is named by a str, not a {}",
                        other.type_name()
                    ))),
                }
            }
            other => Err(de::Error::custom(format!(
                "expected an enum (a str or a one-entry map), found a {}",
                other.type_name()
            ))),
        }
    }

    /// A struct's field name, or an enum's variant: only a str names one. serde's derived
    /// code would also take an integer as a field's index and bytes as its name, so a map
    /// key `0` or `b"key"` would fill a field that a strict type has under a str name.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self {
            Value::Str(s) => visitor.visit_string(s),
            other => Err(de::Error::custom(format!(
                "a field name is a str, not a {}",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        ignored_any
    }
}

fn marker_map<'de, V: Visitor<'de>>(
    key: &'static str,
    node: Offloaded,
    visitor: V,
) -> Result<V::Value, TypedError> {
    let body = Value::Map(vec![
        (Value::str("header"), Value::Map(node.header)),
        (
            Value::str("frames"),
            Value::Array(node.frames.into_iter().map(Value::Bin).collect()),
        ),
    ]);
    visitor.visit_map(MapDe {
        entries: vec![(Value::str(key), body)].into_iter(),
        value: None,
    })
}

struct SeqDe(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for SeqDe {
    type Error = TypedError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TypedError> {
        self.0.next().map(|v| seed.deserialize(v)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDe {
    entries: std::vec::IntoIter<(Value, Value)>,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for MapDe {
    type Error = TypedError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TypedError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TypedError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| TypedError("a map value was requested before its key".into()))?;
        seed.deserialize(value)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumDe {
    variant: String,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for EnumDe {
    type Error = TypedError;
    type Variant = VariantDe;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDe), TypedError> {
        let name = seed.deserialize(Value::Str(self.variant))?;
        Ok((name, VariantDe(self.value)))
    }
}

struct VariantDe(Option<Value>);

impl<'de> VariantAccess<'de> for VariantDe {
    type Error = TypedError;

    fn unit_variant(self) -> Result<(), TypedError> {
        match self.0 {
            None | Some(Value::Nil) => Ok(()),
            Some(other) => Err(de::Error::custom(format!(
                "a unit variant has no content, found a {}",
                other.type_name()
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, TypedError> {
        seed.deserialize(self.0.unwrap_or(Value::Nil))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.0.unwrap_or(Value::Nil).deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.0.unwrap_or(Value::Nil).deserialize_any(visitor)
    }
}

// ---------------------------------------------------------------------------------------
// A Serializer that builds a Value

/// Serializes any `T: Serialize` into a [`Value`] (used by [`to_value`]).
pub struct ValueSerializer;

/// Collects the elements of a sequence, tuple or variant.
pub struct SeqBuilder {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

/// Collects the entries of a map, struct or struct variant.
pub struct MapBuilder {
    entries: Map,
    key: Option<Value>,
    variant: Option<&'static str>,
}

fn wrap_variant(variant: Option<&'static str>, value: Value) -> Value {
    match variant {
        Some(name) => Value::Map(vec![(Value::str(name), value)]),
        None => value,
    }
}

impl Serializer for ValueSerializer {
    type Ok = Value;
    type Error = TypedError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = MapBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, TypedError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, TypedError> {
        Ok(Value::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, TypedError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, TypedError> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| TypedError(format!("integer {v} is out of range")))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, TypedError> {
        Ok(Value::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, TypedError> {
        Ok(Value::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, TypedError> {
        Ok(Value::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, TypedError> {
        Ok(Value::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, TypedError> {
        Ok(Value::Bin(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, TypedError> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, TypedError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, TypedError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, TypedError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, TypedError> {
        Ok(Value::str(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, TypedError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, TypedError> {
        Ok(wrap_variant(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, TypedError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, TypedError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, TypedError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, TypedError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, TypedError> {
        Ok(MapBuilder {
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder, TypedError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder, TypedError> {
        Ok(MapBuilder {
            entries: Vec::with_capacity(len),
            key: None,
            variant: Some(variant),
        })
    }
}

impl SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(wrap_variant(self.variant, Value::Array(self.items)))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, TypedError> {
        SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, TypedError> {
        SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, TypedError> {
        SerializeSeq::end(self)
    }
}

impl SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), TypedError> {
        self.key = Some(key.serialize(ValueSerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| TypedError("a map value was given before its key".into()))?;
        self.entries.push((key, value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Value, TypedError> {
        let value = from_marker_map(self.entries).map_err(TypedError)?;
        Ok(wrap_variant(self.variant, value))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TypedError> {
        self.entries
            .push((Value::str(key), value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Value, TypedError> {
        Ok(wrap_variant(self.variant, Value::Map(self.entries)))
    }
}

impl ser::SerializeStructVariant for MapBuilder {
    type Ok = Value;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TypedError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Value, TypedError> {
        ser::SerializeStruct::end(self)
    }
}

// ---------------------------------------------------------------------------------------
// OrderedMap

/// A map that keeps its entries in wire order (PL-8), for typed message fields.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<K: PartialEq, V> OrderedMap<K, V> {
    /// The value of `key`, if present.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.0
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.0.iter()
    }
}

impl<K: Serialize, V: Serialize> Serialize for OrderedMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(V2(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_bytes::ByteBuf;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        name: String,
        blob: Offloadable<ByteBuf>,
        ratio: f32,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "op", rename_all = "kebab-case")]
    enum Msg {
        Thing(Inner),
        Other { n: i64 },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Two {
        a: i64,
        b: i64,
    }

    #[test]
    fn only_a_str_names_a_field() {
        let map =
            |key: Value| Value::Map(vec![(key, Value::Int(1)), (Value::str("b"), Value::Int(2))]);
        assert_eq!(
            from_value::<Two>(map(Value::str("a"))),
            Ok(Two { a: 1, b: 2 })
        );
        // serde's derived code would read 0 as the first field's index and b"a" as its name.
        for key in [Value::Int(0), Value::Bin(b"a".to_vec()), Value::Nil] {
            let err = from_value::<Two>(map(key.clone())).expect_err("not a field name");
            assert!(err.0.contains("a field name is a str"), "{key:?}: {err}");
        }
        // Integer keys stay fine where a map, not a struct, is read.
        let ints: OrderedMap<i64, i64> =
            from_value(Value::Map(vec![(Value::Int(7), Value::Int(8))])).expect("an int key");
        assert_eq!(ints.0, vec![(7, 8)]);
    }

    #[test]
    fn value_round_trips_through_serde() {
        let value = Value::Map(vec![
            (Value::str("a"), Value::F32(0.5)),
            (Value::Int(-3), Value::Bin(vec![1, 2])),
            (
                Value::Array(vec![Value::str("k"), Value::Int(1)]),
                Value::Offloaded(Box::new(Offloaded::new(
                    vec![(Value::str("count"), Value::Int(1))],
                    vec![b"xy".to_vec()],
                ))),
            ),
            (Value::Nil, Value::Int(u64::MAX.into())),
        ]);
        let again: Value = from_value(value.clone()).unwrap();
        assert_eq!(again, value);
        assert_eq!(to_value(&value).unwrap(), value);
    }

    #[test]
    fn offloadable_inside_internally_tagged_enum() {
        let header = vec![
            (Value::str("count"), Value::Int(1)),
            (Value::str("deserialize"), Value::Bool(false)),
            (Value::str("lengths"), Value::Array(vec![Value::Int(3)])),
        ];
        let offloaded = Value::Map(vec![
            (Value::str("op"), Value::str("thing")),
            (Value::str("name"), Value::str("n")),
            (
                Value::str("blob"),
                Value::Offloaded(Box::new(Offloaded::new(
                    header.clone(),
                    vec![b"abc".to_vec()],
                ))),
            ),
            (Value::str("ratio"), Value::F32(0.25)),
        ]);
        let msg: Msg = from_value(offloaded.clone()).unwrap();
        assert_eq!(
            msg,
            Msg::Thing(Inner {
                name: "n".into(),
                blob: Offloadable::Offloaded {
                    header,
                    frames: vec![b"abc".to_vec()]
                },
                ratio: 0.25,
            })
        );
        assert_eq!(to_value(&msg).unwrap(), offloaded);

        let inline = Value::Map(vec![
            (Value::str("op"), Value::str("thing")),
            (Value::str("name"), Value::str("n")),
            (Value::str("blob"), Value::Bin(vec![9])),
            (Value::str("ratio"), Value::F32(0.25)),
        ]);
        let msg: Msg = from_value(inline.clone()).unwrap();
        let Msg::Thing(inner) = &msg else { panic!() };
        assert_eq!(inner.blob, Offloadable::InPlace(ByteBuf::from(vec![9])));
        assert_eq!(to_value(&msg).unwrap(), inline);

        // Strict: an unknown field is an error.
        let Value::Map(mut extra) = inline else {
            panic!()
        };
        extra.push((Value::str("surprise"), Value::Nil));
        assert!(from_value::<Msg>(Value::Map(extra)).is_err());
        let other: Msg = from_value(Value::Map(vec![
            (Value::str("op"), Value::str("other")),
            (Value::str("n"), Value::Int(5)),
        ]))
        .unwrap();
        assert_eq!(other, Msg::Other { n: 5 });
    }
}
