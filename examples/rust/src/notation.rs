//! The typed value notation of the vectors and the harness protocol (JSON ⇄ [`Value`]).

use serde_json::{Map as JsonMap, Value as Json, json};

use crate::hex;
use crate::value::{EnumMember, Map, Offloaded, Value};

/// A notation error: the JSON does not denote a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotationError(pub String);

impl std::fmt::Display for NotationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "notation: {}", self.0)
    }
}

impl std::error::Error for NotationError {}

type NResult<T> = Result<T, NotationError>;

fn err<T>(message: impl Into<String>) -> NResult<T> {
    Err(NotationError(message.into()))
}

/// The largest integer written as a plain JSON number.
const MAX_SAFE: i128 = (1 << 53) - 1;

/// Reads a value from its notation.
pub fn from_notation(json: &Json) -> NResult<Value> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Value::Int(i128::from(u))
            } else {
                return err(format!(
                    "JSON float {n} is not allowed; use float64/float32"
                ));
            }
        }
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => {
            Value::Array(items.iter().map(from_notation).collect::<NResult<_>>()?)
        }
        Json::Object(object) => {
            let (tag, body) = single(object)?;
            match tag {
                "int" => Value::Int(parse_int(text(body, tag)?)?),
                "float64" => Value::F64(parse_float(text(body, tag)?)?),
                "float32" => Value::F32(parse_float(text(body, tag)?)? as f32),
                "bin" => Value::Bin(hex::decode(text(body, tag)?).map_err(NotationError)?),
                "map" => Value::Map(map_from_notation(body)?),
                "offloaded" => Value::Offloaded(Box::new(offloaded_from_notation(body)?)),
                "materialized" => Value::Materialized(Box::new(offloaded_from_notation(body)?)),
                "pickled" => Value::Pickled(Box::new(offloaded_from_notation(body)?)),
                "set" => match body {
                    Json::Array(items) => {
                        Value::Set(items.iter().map(from_notation).collect::<NResult<_>>()?)
                    }
                    _ => return err("\"set\" takes an array"),
                },
                "enum" => Value::Enum(Box::new(enum_from_notation(body)?)),
                // A str holding a lone surrogate, as UTF-16 code units: a `String` cannot
                // hold it, so the message is one this profile cannot express (CE-11).
                "str-utf16" => {
                    return err("a str holding a lone surrogate is not Unicode text");
                }
                other => return err(format!("unknown tag {other:?}")),
            }
        }
    })
}

fn single(object: &JsonMap<String, Json>) -> NResult<(&str, &Json)> {
    let mut entries = object.iter();
    match (entries.next(), entries.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => err(format!(
            "a tagged object has one key, found {}",
            object.len()
        )),
    }
}

fn text<'a>(json: &'a Json, tag: &str) -> NResult<&'a str> {
    json.as_str()
        .ok_or_else(|| NotationError(format!("{tag:?} takes a string")))
}

fn parse_int(s: &str) -> NResult<i128> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("bad int {s:?}"));
    }
    s.parse::<i128>()
        .map_err(|_| NotationError(format!("integer out of range: {s}")))
}

/// Parses a Python float repr (`nan`, `inf`, `-inf`, `-0.0`, `1e-05`, …).
pub fn parse_float(s: &str) -> NResult<f64> {
    match s {
        "nan" => Ok(f64::NAN),
        "-nan" => Ok(-f64::NAN),
        "inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse::<f64>()
            .map_err(|e| NotationError(format!("bad float {s:?}: {e}"))),
    }
}

/// Formats a float64 as Python's `repr` does (shortest round-trip digits).
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde[-]x".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let decpt = exponent + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let e = decpt - 1;
        format!(
            "{mantissa}e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        )
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            format!("{digits}{}.0", "0".repeat(decpt - digits.len()))
        } else {
            format!("{}.{}", &digits[..decpt], &digits[decpt..])
        }
    };
    format!("{sign}{body}")
}

fn map_from_notation(json: &Json) -> NResult<Map> {
    let Json::Array(pairs) = json else {
        return err("\"map\" takes an array of [key, value] pairs");
    };
    pairs
        .iter()
        .map(|pair| match pair {
            Json::Array(kv) if kv.len() == 2 => {
                Ok((from_notation(&kv[0])?, from_notation(&kv[1])?))
            }
            _ => err("a map entry is a [key, value] pair"),
        })
        .collect()
}

fn enum_from_notation(json: &Json) -> NResult<EnumMember> {
    let Json::Object(object) = json else {
        return err("an enum is an object with module, class and name");
    };
    let part = |name: &str| {
        object
            .get(name)
            .and_then(Json::as_str)
            .map(str::to_owned)
            .ok_or_else(|| NotationError(format!("an enum's {name:?} is a string")))
    };
    if object.len() != 3 {
        return err("an enum has exactly module, class and name");
    }
    Ok(EnumMember {
        module: part("module")?,
        class: part("class")?,
        name: part("name")?,
    })
}

fn offloaded_from_notation(json: &Json) -> NResult<Offloaded> {
    let Json::Object(object) = json else {
        return err("an offloaded value is an object with header and frames");
    };
    let header = match object.get("header") {
        Some(h) => match from_notation(h)? {
            Value::Map(m) => m,
            other => return err(format!("a header is a map, not a {}", other.type_name())),
        },
        None => return err("offloaded value without \"header\""),
    };
    let frames = match object.get("frames") {
        Some(Json::Array(frames)) => frames
            .iter()
            .map(frame_from_notation)
            .collect::<NResult<_>>()?,
        _ => return err("offloaded value without a \"frames\" array"),
    };
    if object.len() != 2 {
        return err("an offloaded value has exactly header and frames");
    }
    Ok(Offloaded::new(header, frames))
}

/// Reads a frame: hex, or `{"repeat": hex, "length": n}`.
pub fn frame_from_notation(json: &Json) -> NResult<Vec<u8>> {
    match json {
        Json::String(s) => hex::decode(s).map_err(NotationError),
        Json::Object(object) => {
            let pattern = object
                .get("repeat")
                .and_then(Json::as_str)
                .ok_or_else(|| NotationError("repeat frame without \"repeat\"".into()))?;
            let length = object
                .get("length")
                .and_then(Json::as_u64)
                .ok_or_else(|| NotationError("repeat frame without \"length\"".into()))?;
            let pattern = hex::decode(pattern).map_err(NotationError)?;
            if pattern.is_empty() && length > 0 {
                return err("empty repeat pattern");
            }
            Ok(pattern
                .iter()
                .copied()
                .cycle()
                .take(length as usize)
                .collect())
        }
        _ => err("a frame is a hex string or a repeat object"),
    }
}

/// Writes a value in the notation.
pub fn to_notation(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) if i.abs() <= MAX_SAFE => json!(*i as i64),
        Value::Int(i) => json!({"int": i.to_string()}),
        Value::F32(f) => json!({"float32": float_repr(f64::from(*f))}),
        Value::F64(f) => json!({"float64": float_repr(*f)}),
        Value::Str(s) => Json::String(s.clone()),
        Value::Bin(b) => json!({"bin": hex::encode(b)}),
        Value::Array(items) => Json::Array(items.iter().map(to_notation).collect()),
        Value::Map(entries) => json!({"map": map_to_notation(entries)}),
        Value::Offloaded(node) => json!({"offloaded": offloaded_to_notation(node)}),
        Value::Materialized(node) => json!({"materialized": offloaded_to_notation(node)}),
        Value::Pickled(node) => json!({"pickled": offloaded_to_notation(node)}),
        Value::Set(items) => json!({"set": items.iter().map(to_notation).collect::<Vec<_>>()}),
        Value::Enum(member) => json!({"enum": {
            "module": member.module,
            "class": member.class,
            "name": member.name,
        }}),
    }
}

fn map_to_notation(entries: &Map) -> Json {
    Json::Array(
        entries
            .iter()
            .map(|(k, v)| Json::Array(vec![to_notation(k), to_notation(v)]))
            .collect(),
    )
}

fn offloaded_to_notation(node: &Offloaded) -> Json {
    json!({
        "header": {"map": map_to_notation(&node.header)},
        "frames": node.frames.iter().map(|f| hex::encode(f)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::from(0.1f32), "0.10000000149011612"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (3.0e-5, "3e-05"),
            (12345.678, "12345.678"),
        ];
        for (x, repr) in cases {
            assert_eq!(float_repr(*x), *repr);
            let back = parse_float(repr).unwrap();
            assert!(back.to_bits() == x.to_bits() || (back.is_nan() && x.is_nan()));
        }
    }

    #[test]
    fn round_trip() {
        let text = r#"{"map":[["a",[1,{"int":"18446744073709551615"},{"float32":"0.5"},{"bin":"00ff"}]],
            [null,{"offloaded":{"header":{"map":[["count",1]]},"frames":["61",{"repeat":"ab","length":3}]}}]]}"#;
        let json: Json = serde_json::from_str(text).unwrap();
        let value = from_notation(&json).unwrap();
        let again = from_notation(&to_notation(&value)).unwrap();
        assert!(crate::value::same(&value, &again));
        let Value::Map(m) = &value else { panic!() };
        let Value::Offloaded(o) = &m[1].1 else {
            panic!()
        };
        assert_eq!(o.frames[1], vec![0xab, 0xab, 0xab]);
        assert!(from_notation(&json!(1.5)).is_err());
    }
}
