//! A strict, bounded msgpack reader (PL-*) and a shortest-form writer (CE-1), shared by
//! every profile.
//!
//! The reader accepts every msgpack format the profiles allow (including non-minimal
//! ones, PL-12), rejects ext types (PL-9) and invalid UTF-8 (PL-3), checks each map's keys
//! with the profile's [`KeyPolicy`] (which keys are allowed, and when two are the same), and
//! checks the nesting depth before it descends (PL-11), so hostile input can neither blow
//! the stack nor make it allocate more than the input's size. The writer always chooses the
//! shortest form and uses `rmp`.

use std::collections::HashSet;
use std::hash::Hash;

use crate::error::{Error, Result};
use crate::value::{Map, Value};

/// Why the reader stopped; the caller maps it to its profile's category and requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// Truncated data, a never-used byte, invalid UTF-8 or trailing bytes.
    Malformed,
    /// An ext type (including timestamps).
    Ext,
    /// A key of a type the key policy does not allow.
    MapKey,
    /// A key the key policy finds equal to an earlier key of the same map.
    DuplicateKey,
    /// A str that is not valid UTF-8.
    Utf8,
    /// A key the key policy does not allow because it is, or holds, something the profile
    /// reserves (placeholder-v1: a placeholder map, PH-7): a more specific report than
    /// [`ReadErrorKind::MapKey`].
    ReservedInKey,
    /// Containers nested deeper than the limit.
    Depth,
}

/// A reader failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The kind of failure.
    pub kind: ReadErrorKind,
    /// Where and what.
    pub message: String,
}

type ReadResult<T> = std::result::Result<T, ReadError>;

/// Why a key policy refuses a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRejection {
    /// [`ReadErrorKind::MapKey`], or [`ReadErrorKind::ReservedInKey`].
    pub kind: ReadErrorKind,
    /// What the key is, completing "map key 3 ...", as in "is a float32".
    pub what: String,
}

/// A profile's map-key rules: which keys a map may have, and when two keys are the same.
/// Each profile implements it in its own folder; the reader applies it to every map.
pub trait KeyPolicy {
    /// A key's hashable form: two allowed keys are the same exactly when their forms are.
    type Form: Eq + Hash;

    /// The form of an allowed key; `Ok(None)` for an allowed key equal to no key, itself
    /// included; `Err` for a key the profile does not allow.
    fn form(&self, key: &Value) -> std::result::Result<Option<Self::Form>, KeyRejection>;

    /// What a key equal to an earlier key is, completing "map key 3 ...".
    fn duplicate(&self) -> &'static str;
}

struct Reader<'a, 'p, P: KeyPolicy> {
    buf: &'a [u8],
    pos: usize,
    max_depth: u64,
    keys: &'p P,
    /// Input bytes that container reservations may still claim. Every container claims
    /// from this one budget, so nested hostile counts cannot each reserve the whole input.
    budget: usize,
}

/// Reads exactly one msgpack value from `buf`, no trailing bytes (PL-1), checking every
/// map's keys with `keys`.
///
/// `max_depth` bounds the nesting of maps and arrays; the top-level container is depth 1.
pub fn read_one<P: KeyPolicy>(buf: &[u8], max_depth: u64, keys: &P) -> ReadResult<Value> {
    let mut reader = Reader {
        buf,
        pos: 0,
        max_depth,
        keys,
        budget: buf.len(),
    };
    let value = reader.value(0)?;
    if reader.pos != buf.len() {
        return Err(reader.malformed(format!("{} bytes follow the value", buf.len() - reader.pos)));
    }
    Ok(value)
}

impl<'a, P: KeyPolicy> Reader<'a, '_, P> {
    fn malformed(&self, message: String) -> ReadError {
        ReadError {
            kind: ReadErrorKind::Malformed,
            message: format!("at offset {}: {message}", self.pos),
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> ReadResult<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.malformed(format!(
                "truncated: need {n} bytes, {} left",
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array_n<const N: usize>(&mut self) -> ReadResult<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> ReadResult<u8> {
        Ok(self.array_n::<1>()?[0])
    }

    fn u16(&mut self) -> ReadResult<u16> {
        Ok(u16::from_be_bytes(self.array_n()?))
    }

    fn u32(&mut self) -> ReadResult<u32> {
        Ok(u32::from_be_bytes(self.array_n()?))
    }

    fn u64(&mut self) -> ReadResult<u64> {
        Ok(u64::from_be_bytes(self.array_n()?))
    }

    /// Reads one value; `depth` is the number of containers around it.
    fn value(&mut self, depth: u64) -> ReadResult<Value> {
        let start = self.pos;
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Value::Int(i128::from(marker)),
            0x80..=0x8f => self.map(u32::from(marker & 0x0f), depth)?,
            0x90..=0x9f => self.array(u32::from(marker & 0x0f), depth)?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Nil,
            0xc1 => {
                self.pos = start;
                return Err(self.malformed("byte 0xc1 is never used".into()));
            }
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let n = usize::from(self.u8()?);
                Value::Bin(self.take(n)?.to_vec())
            }
            0xc5 => {
                let n = usize::from(self.u16()?);
                Value::Bin(self.take(n)?.to_vec())
            }
            0xc6 => {
                let n = self.u32()? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                return Err(ReadError {
                    kind: ReadErrorKind::Ext,
                    message: format!("at offset {start}: ext type (marker 0x{marker:02x})"),
                });
            }
            0xca => Value::F32(f32::from_be_bytes(self.array_n()?)),
            0xcb => Value::F64(f64::from_be_bytes(self.array_n()?)),
            0xcc => Value::Int(i128::from(self.u8()?)),
            0xcd => Value::Int(i128::from(self.u16()?)),
            0xce => Value::Int(i128::from(self.u32()?)),
            0xcf => Value::Int(i128::from(self.u64()?)),
            0xd0 => Value::Int(i128::from(i8::from_be_bytes(self.array_n()?))),
            0xd1 => Value::Int(i128::from(i16::from_be_bytes(self.array_n()?))),
            0xd2 => Value::Int(i128::from(i32::from_be_bytes(self.array_n()?))),
            0xd3 => Value::Int(i128::from(i64::from_be_bytes(self.array_n()?))),
            0xd9 => {
                let n = usize::from(self.u8()?);
                self.str(n)?
            }
            0xda => {
                let n = usize::from(self.u16()?);
                self.str(n)?
            }
            0xdb => {
                let n = self.u32()? as usize;
                self.str(n)?
            }
            0xdc => {
                let n = u32::from(self.u16()?);
                self.array(n, depth)?
            }
            0xdd => {
                let n = self.u32()?;
                self.array(n, depth)?
            }
            0xde => {
                let n = u32::from(self.u16()?);
                self.map(n, depth)?
            }
            0xdf => {
                let n = self.u32()?;
                self.map(n, depth)?
            }
            0xe0..=0xff => Value::Int(i128::from(marker as i8)),
        })
    }

    fn str(&mut self, n: usize) -> ReadResult<Value> {
        let start = self.pos;
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Value::Str(s.to_owned())),
            Err(e) => Err(ReadError {
                kind: ReadErrorKind::Utf8,
                message: format!("at offset {start}: str is not valid UTF-8: {e}"),
            }),
        }
    }

    fn enter(&self, depth: u64) -> ReadResult<u64> {
        let inner = depth + 1;
        if inner > self.max_depth {
            return Err(ReadError {
                kind: ReadErrorKind::Depth,
                message: format!("at offset {}: nesting depth {inner}", self.pos),
            });
        }
        Ok(inner)
    }

    /// Room to reserve for `n` items that take at least `width` input bytes each: no more
    /// than the rest of the input holds, nor, summed over all containers, than its size.
    fn reserve(&mut self, n: u32, width: usize) -> usize {
        let room = (n as usize)
            .min(self.remaining() / width)
            .min(self.budget / width);
        self.budget -= room * width;
        room
    }

    fn array(&mut self, n: u32, depth: u64) -> ReadResult<Value> {
        let inner = self.enter(depth)?;
        let mut items = Vec::with_capacity(self.reserve(n, 1));
        for _ in 0..n {
            items.push(self.value(inner)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: u32, depth: u64) -> ReadResult<Value> {
        let inner = self.enter(depth)?;
        let mut entries: Map = Vec::with_capacity(self.reserve(n, 2));
        let mut seen = HashSet::new();
        for index in 0..n {
            let key_at = self.pos;
            let key = self.value(inner)?;
            let refused = match self.keys.form(&key) {
                Err(KeyRejection { kind, what }) => Some((kind, what)),
                Ok(Some(form)) => (!seen.insert(form)).then(|| {
                    (
                        ReadErrorKind::DuplicateKey,
                        self.keys.duplicate().to_owned(),
                    )
                }),
                Ok(None) => None,
            };
            if let Some((kind, what)) = refused {
                return Err(ReadError {
                    kind,
                    message: format!("at offset {key_at}: map key {index} {what}"),
                });
            }
            let value = self.value(inner)?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Writes `value` in the shortest msgpack forms (CE-1).
///
/// Offloaded values cannot be written (the encoder replaces them with placeholders
/// first); neither can ints outside the profile's range or containers longer than
/// `2**32-1`: those give `unencodable-value`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<()> {
    use rmp::encode;
    match value {
        Value::Nil => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Int(i) => write_int(out, *i)?,
        // CE-1: a NaN is written as the quiet NaN with no sign and no payload.
        Value::F32(f) if f.is_nan() => out.extend_from_slice(&[0xca, 0x7f, 0xc0, 0x00, 0x00]),
        Value::F64(f) if f.is_nan() => {
            out.extend_from_slice(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
        }
        Value::F32(f) => encode::write_f32(out, *f).map_err(write_error)?,
        Value::F64(f) => encode::write_f64(out, *f).map_err(write_error)?,
        Value::Str(s) => {
            encode::write_str_len(out, len32(s.len())?).map_err(write_error)?;
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bin(b) => {
            encode::write_bin_len(out, len32(b.len())?).map_err(write_error)?;
            out.extend_from_slice(b);
        }
        Value::Array(items) => {
            encode::write_array_len(out, len32(items.len())?).map_err(write_error)?;
            for item in items {
                write_value(out, item)?;
            }
        }
        Value::Map(entries) => {
            encode::write_map_len(out, len32(entries.len())?).map_err(write_error)?;
            for (k, v) in entries {
                write_value(out, k)?;
                write_value(out, v)?;
            }
        }
        Value::Offloaded(_)
        | Value::Materialized(_)
        | Value::Set(_)
        | Value::Enum(_)
        | Value::Pickled(_) => {
            return Err(Error::unencodable_value(
                "PH-7",
                format!("a {} value cannot be written inline", value.type_name()),
            ));
        }
    }
    Ok(())
}

fn write_error<E: std::fmt::Display>(e: E) -> Error {
    // Writing into a Vec cannot fail; keep the error path total anyway.
    Error::unencodable_value("PL-1", e.to_string())
}

fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::unencodable_value("PL-1", format!("length {n} does not fit msgpack's 32 bits"))
    })
}

fn write_int(out: &mut Vec<u8>, i: i128) -> Result<()> {
    use rmp::encode;
    let r = if i >= 0 {
        let Ok(u) = u64::try_from(i) else {
            return Err(Error::unencodable_value(
                "PL-4",
                format!("integer {i} is above 2**64-1"),
            ));
        };
        encode::write_uint(out, u).map(|_| ())
    } else {
        let Ok(s) = i64::try_from(i) else {
            return Err(Error::unencodable_value(
                "PL-4",
                format!("integer {i} is below -2**63"),
            ));
        };
        // Negative values: the smallest signed form (rmp's write_sint picks it).
        encode::write_sint(out, s).map(|_| ())
    };
    r.map_err(write_error)
}

/// Encodes one value into a new buffer (shortest forms).
pub fn to_vec(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_value(&mut out, value)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        crate::hex::decode(s).unwrap()
    }

    /// A key policy for these tests only: int and str keys, equal when the same value.
    /// Each profile's own policy is tested in `tests/key_policies.rs`.
    struct IntStrKeys;

    impl KeyPolicy for IntStrKeys {
        type Form = (Option<i128>, Option<String>);

        fn form(&self, key: &Value) -> std::result::Result<Option<Self::Form>, KeyRejection> {
            match key {
                Value::Int(i) => Ok(Some((Some(*i), None))),
                Value::Str(s) => Ok(Some((None, Some(s.clone())))),
                Value::Map(_) => Err(KeyRejection {
                    kind: ReadErrorKind::ReservedInKey,
                    what: "is a map".into(),
                }),
                other => Err(KeyRejection {
                    kind: ReadErrorKind::MapKey,
                    what: format!("is a {}", other.type_name()),
                }),
            }
        }

        fn duplicate(&self) -> &'static str {
            "repeats"
        }
    }

    fn read_one(buf: &[u8], max_depth: u64) -> ReadResult<Value> {
        super::read_one(buf, max_depth, &IntStrKeys)
    }

    #[test]
    fn shortest_int_forms() {
        let cases: &[(i128, &str)] = &[
            (0, "00"),
            (127, "7f"),
            (128, "cc80"),
            (255, "ccff"),
            (256, "cd0100"),
            (65536, "ce00010000"),
            (1 << 32, "cf0000000100000000"),
            (-1, "ff"),
            (-32, "e0"),
            (-33, "d0df"),
            (-128, "d080"),
            (-129, "d1ff7f"),
            (-32769, "d2ffff7fff"),
            (-(1 << 31) - 1, "d3ffffffff7fffffff"),
            ((1 << 64) - 1, "cfffffffffffffffff"),
        ];
        for (i, h) in cases {
            assert_eq!(
                crate::hex::encode(&to_vec(&Value::Int(*i)).unwrap()),
                *h,
                "{i}"
            );
            assert_eq!(read_one(&hex(h), 256).unwrap(), Value::Int(*i));
        }
        assert!(to_vec(&Value::Int(1 << 64)).is_err());
        assert!(to_vec(&Value::Int(-(1 << 63) - 1)).is_err());
    }

    #[test]
    fn non_minimal_forms_are_accepted() {
        assert_eq!(read_one(&hex("d90161"), 4).unwrap(), Value::str("a"));
        assert_eq!(read_one(&hex("da000161"), 4).unwrap(), Value::str("a"));
        assert_eq!(read_one(&hex("dc0000"), 4).unwrap(), Value::Array(vec![]));
        assert_eq!(read_one(&hex("df00000000"), 4).unwrap(), Value::Map(vec![]));
        assert_eq!(
            read_one(&hex("c6000000017a"), 4).unwrap(),
            Value::Bin(vec![0x7a])
        );
        assert_eq!(
            read_one(&hex("d300000000000000ff"), 4).unwrap(),
            Value::Int(255)
        );
    }

    #[test]
    fn rejections() {
        let kind = |h: &str, depth: u64| read_one(&hex(h), depth).unwrap_err().kind;
        assert_eq!(kind("c1", 4), ReadErrorKind::Malformed);
        assert_eq!(kind("", 4), ReadErrorKind::Malformed);
        assert_eq!(kind("0101", 4), ReadErrorKind::Malformed);
        assert_eq!(kind("a2c328", 4), ReadErrorKind::Utf8);
        assert_eq!(kind("d4ff00", 4), ReadErrorKind::Ext);
        // The policy's verdicts, with its words, at the key's offset.
        assert_eq!(kind("81c301", 4), ReadErrorKind::MapKey);
        assert_eq!(kind("818001", 4), ReadErrorKind::ReservedInKey);
        assert_eq!(kind("820101cc0102", 4), ReadErrorKind::DuplicateKey);
        assert_eq!(
            read_one(&hex("830101a16101a16102"), 4).unwrap_err().message,
            "at offset 6: map key 2 repeats"
        );
        assert_eq!(
            read_one(&hex("81ca0000000001"), 4).unwrap_err().message,
            "at offset 1: map key 0 is a float32"
        );
        assert_eq!(kind("9191919100", 3), ReadErrorKind::Depth);
        assert!(read_one(&hex("91919100"), 3).is_ok());
        // A huge declared length with no data: truncation, no huge allocation.
        assert_eq!(kind("ddffffffff", 4), ReadErrorKind::Malformed);
    }

    #[test]
    fn float_width_is_kept() {
        let v = read_one(&hex("ca3f800000"), 1).unwrap();
        assert_eq!(v, Value::F32(1.0));
        assert_eq!(crate::hex::encode(&to_vec(&v).unwrap()), "ca3f800000");
        let v = read_one(&hex("cb3ff0000000000000"), 1).unwrap();
        assert_eq!(v, Value::F64(1.0));
        let nan = f64::from_bits(0xfff8_0000_0000_0001);
        assert_eq!(
            crate::hex::encode(&to_vec(&Value::F64(nan)).unwrap()),
            "cb7ff8000000000000"
        );
        let nan = f32::from_bits(0xffc0_0001);
        assert_eq!(
            crate::hex::encode(&to_vec(&Value::F32(nan)).unwrap()),
            "ca7fc00000"
        );
    }
}
