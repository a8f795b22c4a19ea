//! The harness protocol v1: JSON lines on stdin and stdout.

use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value as Json, json};

use crate::decode::{Mode, decode};
use crate::encode::{DEFAULT_SHARD_SIZE, EncodeOptions, encode_with_limits};
use crate::error::Error;
use crate::hex;
use crate::limits::Limits;
use crate::notation::{from_notation, to_notation};
use crate::wire::{FrameReader, pack, unpack};

/// The protocol version spoken.
pub const PROTOCOL: u64 = 1;

/// What a request produced.
enum Outcome {
    Ok(Json),
    Rejected(Error),
    /// A stream error, with the hex frame lists of the messages read before it.
    StreamRejected(Error, Vec<Vec<String>>),
    Errored(String),
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        Outcome::Rejected(e)
    }
}

/// The `start` reply: who we are and what we can do.
pub fn capabilities() -> Json {
    json!({
        "protocol": PROTOCOL,
        "implementation": {
            "name": "daskwire-rs",
            "version": env!("CARGO_PKG_VERSION"),
            "language": "rust",
        },
        "capabilities": {
            "directions": ["encode", "decode-forwarding", "decode-consuming", "wire"],
            "codecs": crate::codecs::SUPPORTED_CODECS,
            "canonical": true,
            "limits": true,
            "encode-limits": true,
            "pack": true,
            "default-shard-size": true,
            "str-utf16": true,
        },
    })
}

/// Serves requests until `stop` or end of input.
pub fn serve(input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (reply, stop) = handle_line(&line);
        serde_json::to_writer(&mut output, &reply)?;
        output.write_all(b"\n")?;
        output.flush()?;
        if stop {
            break;
        }
    }
    Ok(())
}

/// Handles one request line; returns the reply and whether to stop.
pub fn handle_line(line: &str) -> (Json, bool) {
    let request: Json = match parse_json(line) {
        Ok(r) => r,
        Err(e) => return (unparsable(line, &e), false),
    };
    let seq = request.get("seq").cloned().unwrap_or(Json::Null);
    let cmd = request.get("cmd").and_then(Json::as_str).unwrap_or("");
    let stop = cmd == "stop";
    let outcome = catch_unwind(AssertUnwindSafe(|| dispatch(cmd, &request)))
        .unwrap_or_else(|_| Outcome::Errored(format!("internal panic while handling {cmd:?}")));
    let reply = match outcome {
        Outcome::Ok(result) => json!({"seq": seq, "outcome": "ok", "result": result}),
        Outcome::Rejected(e) => json!({
            "seq": seq,
            "outcome": "rejected",
            "category": e.category(),
            "message": format!("{} {}", e.requirement(), e.detail().message),
        }),
        Outcome::StreamRejected(e, messages) => json!({
            "seq": seq,
            "outcome": "rejected",
            "category": e.category(),
            "message": format!("{} {}", e.requirement(), e.detail().message),
            "messages": messages,
        }),
        Outcome::Errored(message) => json!({"seq": seq, "outcome": "errored", "message": message}),
    };
    (reply, stop)
}

/// The reply to a line that is not valid JSON for us.
///
/// JSON may escape a lone UTF-16 surrogate (`"\ud800"`): a str that is not valid
/// Unicode. Such a message cannot be encoded (CE-11); every other command carries only
/// hex, so the request is then malformed.
fn unparsable(line: &str, error: &serde_json::Error) -> Json {
    if let Some(clean) = replace_lone_surrogates(line) {
        if let Ok(request) = parse_json(&clean) {
            let seq = request.get("seq").cloned().unwrap_or(Json::Null);
            if request.get("cmd").and_then(Json::as_str) == Some("encode") {
                return json!({
                    "seq": seq,
                    "outcome": "rejected",
                    "category": "unencodable-value",
                    "message": "CE-11 a str holds a lone surrogate: not valid Unicode text",
                });
            }
            return json!({"seq": seq, "outcome": "errored", "message": format!("bad request JSON: {error}")});
        }
    }
    json!({"seq": null, "outcome": "errored", "message": format!("bad request JSON: {error}")})
}

/// Replaces each `\uXXXX` escape of a lone surrogate by `\ufffd`; `None` if there is none.
fn replace_lone_surrogates(line: &str) -> Option<String> {
    fn escape_at(chars: &[char], at: usize) -> Option<u32> {
        if chars.get(at) != Some(&'\\') || chars.get(at + 1) != Some(&'u') {
            return None;
        }
        let digits: String = chars.get(at + 2..at + 6)?.iter().collect();
        u32::from_str_radix(&digits, 16).ok()
    }
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut found = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match escape_at(&chars, i) {
            Some(0xd800..=0xdbff) => {
                if let Some(0xdc00..=0xdfff) = escape_at(&chars, i + 6) {
                    out.extend(&chars[i..i + 12]);
                    i += 12;
                } else {
                    out.push_str("\\ufffd");
                    found = true;
                    i += 6;
                }
            }
            Some(0xdc00..=0xdfff) => {
                out.push_str("\\ufffd");
                found = true;
                i += 6;
            }
            _ => {
                // Any other escape: copy the backslash and the escaped character.
                out.extend(chars.get(i..(i + 2).min(chars.len()))?);
                i += 2;
            }
        }
    }
    found.then_some(out)
}

fn parse_json(line: &str) -> serde_json::Result<Json> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(line);
    // Deeply nested messages are legitimate test input; the thread's stack is large.
    de.disable_recursion_limit();
    let value = Json::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

fn dispatch(cmd: &str, request: &Json) -> Outcome {
    match run(cmd, request) {
        Ok(outcome) => outcome,
        Err(message) => Outcome::Errored(message),
    }
}

fn run(cmd: &str, request: &Json) -> Result<Outcome, String> {
    Ok(match cmd {
        "start" => match request.get("protocol").and_then(Json::as_u64) {
            Some(PROTOCOL) | None => Outcome::Ok(capabilities()),
            Some(other) => Outcome::Errored(format!("protocol {other} is not supported")),
        },
        "stop" => Outcome::Ok(json!({})),
        "encode" => {
            // A message the value model cannot hold (an int beyond any msgpack int, a header
            // that is not a map, ...) is one this profile cannot express (CE-11).
            let message = match from_notation(field(request, "message")?) {
                Ok(m) => m,
                Err(e) => {
                    return Ok(Outcome::Rejected(Error::unencodable_value(
                        "CE-11",
                        e.to_string(),
                    )));
                }
            };
            let options = encode_options(request.get("options"))?;
            let limits = limits_field(request)?;
            match encode_with_limits(&message, &options, &limits) {
                Ok(frames) => Outcome::Ok(json!({"frames": hex_list(&frames)})),
                Err(e) => e.into(),
            }
        }
        "decode" => {
            let mode = match field(request, "mode")?.as_str() {
                Some("forwarding") => Mode::Forwarding,
                Some("consuming") => Mode::Consuming,
                other => return Err(format!("unknown mode {other:?}")),
            };
            let frames = frames_field(request, "frames")?;
            let limits = limits_field(request)?;
            match decode(frames, mode, &limits) {
                Ok(message) => Outcome::Ok(json!({"message": to_notation(&message)})),
                Err(e) => e.into(),
            }
        }
        "pack" => {
            let frames = frames_field(request, "frames")?;
            Outcome::Ok(json!({"wire": hex::encode(&pack(&frames))}))
        }
        "unpack" => {
            let wire = hex_field(field(request, "wire")?)?;
            let limits = limits_field(request)?;
            match unpack(&wire, &limits) {
                Ok(frames) => Outcome::Ok(json!({"frames": hex_list(&frames)})),
                Err(e) => e.into(),
            }
        }
        "stream" => {
            let chunks = frames_field(request, "chunks")?;
            let limits = limits_field(request)?;
            let mut reader = FrameReader::new(limits);
            let mut messages = Vec::new();
            for chunk in &chunks {
                match reader.feed(chunk) {
                    Ok(done) => messages.extend(done),
                    Err(e) => return Ok(stream_rejected(e, &messages)),
                }
            }
            match reader.close() {
                Ok(()) => Outcome::Ok(json!({
                    "messages": messages.iter().map(|m| hex_list(m)).collect::<Vec<_>>(),
                })),
                Err(e) => stream_rejected(e, &messages),
            }
        }
        other => Outcome::Errored(format!("unknown command {other:?}")),
    })
}

/// A stream error with the messages read before it (WF-6).
fn stream_rejected(error: Error, messages: &[Vec<Vec<u8>>]) -> Outcome {
    Outcome::StreamRejected(error, messages.iter().map(|m| hex_list(m)).collect())
}

fn field<'a>(request: &'a Json, name: &str) -> Result<&'a Json, String> {
    request
        .get(name)
        .ok_or_else(|| format!("request without {name:?}"))
}

fn hex_field(json: &Json) -> Result<Vec<u8>, String> {
    json.as_str()
        .ok_or_else(|| "expected a hex string".to_owned())
        .and_then(hex::decode)
}

fn frames_field(request: &Json, name: &str) -> Result<Vec<Vec<u8>>, String> {
    field(request, name)?
        .as_array()
        .ok_or_else(|| format!("{name:?} is not an array"))?
        .iter()
        .map(hex_field)
        .collect()
}

fn hex_list(frames: &[Vec<u8>]) -> Vec<String> {
    frames.iter().map(|f| hex::encode(f)).collect()
}

fn limits_field(request: &Json) -> Result<Limits, String> {
    let mut limits = Limits::default();
    match request.get("limits") {
        None | Some(Json::Null) => {}
        Some(Json::Object(object)) => {
            for (name, value) in object {
                let value = value
                    .as_u64()
                    .ok_or_else(|| format!("limit {name:?} is not a non-negative integer"))?;
                // Unknown names are ignored, like unknown request fields.
                limits.set(name, value);
            }
        }
        Some(_) => return Err("\"limits\" is not an object".into()),
    }
    Ok(limits)
}

fn encode_options(options: Option<&Json>) -> Result<EncodeOptions, String> {
    let mut out = EncodeOptions {
        compression: None,
        shard_size: DEFAULT_SHARD_SIZE,
    };
    let Some(options) = options else {
        return Ok(out);
    };
    match options.get("compression") {
        None | Some(Json::Null) => {}
        Some(Json::String(codec)) => out.compression = Some(codec.clone()),
        Some(other) => return Err(format!("bad compression option {other}")),
    }
    match options.get("shard_size") {
        None | Some(Json::Null) => {}
        Some(value) => {
            out.shard_size = value
                .as_u64()
                .ok_or_else(|| format!("bad shard_size {value}"))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_str_utf16_message_is_unencodable() {
        let line = r#"{"seq":2,"cmd":"encode","message":{"map":[["s",{"str-utf16":[55296]}]]},"options":{"compression":null}}"#;
        let (reply, _) = handle_line(line);
        assert_eq!(reply["outcome"], "rejected");
        assert_eq!(reply["category"], "unencodable-value");
    }

    #[test]
    fn pack_writes_the_prelude_and_the_frames() {
        let (reply, _) = handle_line(r#"{"seq":2,"cmd":"pack","frames":["","80"]}"#);
        assert_eq!(
            reply["result"]["wire"],
            "020000000000000000000000000000000100000000000000".to_owned() + "80"
        );
    }

    #[test]
    fn a_stream_error_carries_the_messages_before_it() {
        let one = "02000000000000000000000000000000010000000000000080";
        let line = format!(r#"{{"seq":2,"cmd":"stream","chunks":["{one}","02"]}}"#);
        let (reply, _) = handle_line(&line);
        assert_eq!(reply["outcome"], "rejected");
        assert_eq!(reply["category"], "truncated-input");
        assert_eq!(reply["messages"], json!([["", "80"]]));
    }

    #[test]
    fn lone_surrogates_are_unencodable() {
        let line = r#"{"seq":3,"cmd":"encode","message":{"map":[["a","x\ud800y"]]},"options":{}}"#;
        let (reply, stop) = handle_line(line);
        assert!(!stop);
        assert_eq!(reply["seq"], 3);
        assert_eq!(reply["category"], "unencodable-value");
        // A proper pair is fine.
        let line =
            r#"{"seq":4,"cmd":"encode","message":{"map":[["a","\ud83d\ude00"]]},"options":{}}"#;
        let (reply, _) = handle_line(line);
        assert_eq!(reply["outcome"], "ok", "{reply}");
    }

    #[test]
    fn start_and_stop() {
        let (reply, stop) = handle_line(r#"{"seq":1,"cmd":"start","protocol":1}"#);
        assert!(!stop);
        assert_eq!(reply["result"]["protocol"], 1);
        assert_eq!(
            reply["result"]["capabilities"]["codecs"],
            json!(["lz4", "zlib"])
        );
        let (reply, stop) = handle_line(r#"{"seq":2,"cmd":"stop"}"#);
        assert!(stop);
        assert_eq!(reply, json!({"seq": 2, "outcome": "ok", "result": {}}));
    }
}
