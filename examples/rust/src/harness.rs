//! The harness protocol (versions 1 and 2): JSON lines on stdin and stdout.
//!
//! Dispatch is shared; each request's codec calls go to its profile ([`Profile`]).
//! Version 1 requests carry no `profile` and are for placeholder-v1.

use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value as Json, json};

use crate::dask_2023_11::{self, handshake};
use crate::error::{Error, Result as CodecResult};
use crate::framing::FrameReader;
use crate::hex;
use crate::limits::{HARD_MAX_DEPTH, Limits};
use crate::mode::Mode;
use crate::notation::{from_notation, to_notation};
use crate::options::EncodeOptions;
use crate::placeholder_v1;
use crate::value::Value;

/// The protocol version spoken to a runner that offers only version 1.
pub const PROTOCOL: u64 = 1;

/// The protocol version with profiles, spoken when the runner offers it.
pub const PROTOCOL_V2: u64 = 2;

/// The deepest JSON nesting (brackets and braces) a request line may have.
///
/// A message in the value notation costs at most three JSON levels per msgpack level (a map
/// is `{"map": [[key, value], ...]}`; an array one level; an offloaded value's header fewer
/// per level than a map), so this leaves room for a message [`HARD_MAX_DEPTH`] levels deep,
/// the deepest this implementation ever parses, plus the request around it. The deepest
/// request of the vectors is 258 levels (an encode of an array 257 deep). A deeper line is
/// answered `errored` without being parsed: serde_json's own recursion limit is off (deep
/// messages are legitimate input), so without this bound a line of a few megabytes of `[`
/// would exhaust even the harness thread's 512 MiB stack and abort the process.
pub const MAX_REQUEST_DEPTH: usize = 3 * HARD_MAX_DEPTH as usize + 64;

/// A profile this testee implements, and its codec calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `placeholder-v1`.
    PlaceholderV1,
    /// `dask-2023.11`.
    Dask2023_11,
}

impl Profile {
    /// Every profile, in the order `start` declares them.
    pub const ALL: [Profile; 2] = [Profile::PlaceholderV1, Profile::Dask2023_11];

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::PlaceholderV1 => placeholder_v1::PROFILE,
            Profile::Dask2023_11 => dask_2023_11::PROFILE,
        }
    }

    /// The profile a request is for: its `profile`, or placeholder-v1 without one (v1).
    fn of_request(request: &Json) -> Result<Self, String> {
        match request.get("profile") {
            None | Some(Json::Null) => Ok(Profile::PlaceholderV1),
            Some(Json::String(name)) => Profile::ALL
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| format!("profile {name:?} is not declared")),
            Some(other) => Err(format!("bad profile {other}")),
        }
    }

    /// The capabilities `start` declares for the profile.
    pub fn capabilities(self) -> Json {
        let mut caps = json!({
            "directions": ["encode", "decode-forwarding", "decode-consuming", "wire"],
            "codecs": crate::codecs::SUPPORTED_CODECS,
            "canonical": true,
            "limits": true,
            "encode-limits": true,
            "pack": true,
            "default-shard-size": true,
            "str-utf16": true,
        });
        if self == Profile::Dask2023_11 {
            caps["handshake"] = json!(true);
        }
        caps
    }

    fn encode(
        self,
        message: &Value,
        options: &EncodeOptions,
        limits: &Limits,
    ) -> CodecResult<Vec<Vec<u8>>> {
        match self {
            Profile::PlaceholderV1 => {
                placeholder_v1::encode::encode_with_limits(message, options, limits)
            }
            Profile::Dask2023_11 => dask_2023_11::encode_with_limits(message, options, limits),
        }
    }

    fn decode(self, frames: Vec<Vec<u8>>, mode: Mode, limits: &Limits) -> CodecResult<Value> {
        match self {
            Profile::PlaceholderV1 => placeholder_v1::decode::decode(frames, mode, limits),
            Profile::Dask2023_11 => dask_2023_11::decode(frames, mode, limits),
        }
    }

    fn pack(self, frames: &[Vec<u8>]) -> Vec<u8> {
        match self {
            Profile::PlaceholderV1 => placeholder_v1::wire::pack(frames),
            Profile::Dask2023_11 => dask_2023_11::pack(frames),
        }
    }

    fn unpack(self, wire: &[u8], limits: &Limits) -> CodecResult<Vec<Vec<u8>>> {
        match self {
            Profile::PlaceholderV1 => placeholder_v1::wire::unpack(wire, limits),
            Profile::Dask2023_11 => dask_2023_11::unpack(wire, limits),
        }
    }

    fn stream_reader(self, limits: Limits) -> FrameReader {
        match self {
            Profile::PlaceholderV1 => FrameReader::new(limits),
            Profile::Dask2023_11 => dask_2023_11::stream_reader(limits),
        }
    }
}

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

fn implementation() -> Json {
    json!({
        "name": "daskwire-rs",
        "version": env!("CARGO_PKG_VERSION"),
        "language": "rust",
    })
}

/// The protocol 1 `start` reply: who we are and what we can do (placeholder-v1 only).
pub fn capabilities() -> Json {
    json!({
        "protocol": PROTOCOL,
        "implementation": implementation(),
        "capabilities": Profile::PlaceholderV1.capabilities(),
    })
}

/// The protocol 2 `start` reply: every profile with its capabilities.
pub fn profiles() -> Json {
    let profiles: serde_json::Map<String, Json> = Profile::ALL
        .into_iter()
        .map(|p| (p.name().to_owned(), p.capabilities()))
        .collect();
    json!({
        "protocol": PROTOCOL_V2,
        "implementation": implementation(),
        "profiles": profiles,
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
    if json_depth_exceeds(line, MAX_REQUEST_DEPTH) {
        return (too_deep(line), false);
    }
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

/// Whether `line` nests brackets and braces, outside strings, deeper than `bound`: a scan
/// of its bytes, with no recursion. It need not be valid JSON.
pub fn json_depth_exceeds(line: &str, bound: usize) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for &b in line.as_bytes() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > bound {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `line` with every array or object inside a top-level value replaced by `null`, and the
/// top-level object closed if the line ends inside it, for reading `seq` from a line too
/// deep to parse; `None` if it is not UTF-8 after all.
fn top_level_only(line: &str) -> Option<String> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    let mut closer = b'}';
    for &b in line.as_bytes() {
        let keep = depth <= 1;
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth == 1 {
                        closer = if b == b'[' { b']' } else { b'}' };
                    }
                    if depth == 2 {
                        out.extend_from_slice(b"null");
                    }
                    if depth > 1 {
                        continue;
                    }
                }
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if !keep {
                        continue;
                    }
                }
                _ => {}
            }
        }
        if keep {
            out.push(b);
        }
    }
    if depth > 0 {
        if in_str && depth == 1 {
            out.push(b'"');
        }
        out.push(closer);
    }
    String::from_utf8(out).ok()
}

/// The reply to a line nested deeper than [`MAX_REQUEST_DEPTH`]: `errored`, echoing its
/// `seq` when the line's top level shows it.
fn too_deep(line: &str) -> Json {
    let seq = top_level_only(line)
        .and_then(|top| serde_json::from_str::<Json>(&top).ok())
        .and_then(|request| request.get("seq").cloned())
        .unwrap_or(Json::Null);
    json!({
        "seq": seq,
        "outcome": "errored",
        "message": format!(
            "request JSON is nested more than {MAX_REQUEST_DEPTH} levels deep; not parsed \
             (this testee's bound, room for a message {HARD_MAX_DEPTH} levels deep)"
        ),
    })
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
    // Deeply nested messages are legitimate test input; the thread's stack is large, and
    // `handle_line` refuses a line nested deeper than MAX_REQUEST_DEPTH before this.
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
    if cmd == "start" {
        let offers_v2 = request
            .get("protocols")
            .and_then(Json::as_array)
            .is_some_and(|versions| versions.iter().any(|v| v.as_u64() == Some(PROTOCOL_V2)));
        return Ok(match request.get("protocol").and_then(Json::as_u64) {
            _ if offers_v2 => Outcome::Ok(profiles()),
            Some(PROTOCOL) | None => Outcome::Ok(capabilities()),
            Some(other) => Outcome::Errored(format!("protocol {other} is not supported")),
        });
    }
    if cmd == "stop" {
        return Ok(Outcome::Ok(json!({})));
    }
    let profile = Profile::of_request(request)?;
    Ok(match cmd {
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
            match profile.encode(&message, &options, &limits) {
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
            match profile.decode(frames, mode, &limits) {
                Ok(message) => Outcome::Ok(json!({"message": to_notation(&message)})),
                Err(e) => e.into(),
            }
        }
        "pack" => {
            let frames = frames_field(request, "frames")?;
            Outcome::Ok(json!({"wire": hex::encode(&profile.pack(&frames))}))
        }
        "unpack" => {
            let wire = hex_field(field(request, "wire")?)?;
            let limits = limits_field(request)?;
            match profile.unpack(&wire, &limits) {
                Ok(frames) => Outcome::Ok(json!({"frames": hex_list(&frames)})),
                Err(e) => e.into(),
            }
        }
        "stream" => {
            let chunks = frames_field(request, "chunks")?;
            let limits = limits_field(request)?;
            let mut reader = profile.stream_reader(limits);
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
        "handshake" if profile == Profile::Dask2023_11 => run_handshake(request)?,
        other => Outcome::Errored(format!(
            "unknown command {other:?} for profile {}",
            profile.name()
        )),
    })
}

/// `handshake` (dask-2023.11): write our own, read the peer's, agree, and maybe go on to
/// write or read the next message (DK-1..DK-7).
fn run_handshake(request: &Json) -> Result<Outcome, String> {
    let local_json = field(request, "local")?;
    let local = handshake::Options {
        compression: match local_json.get("compression") {
            None | Some(Json::Null) => None,
            Some(Json::String(codec)) => Some(codec.clone()),
            Some(other) => return Err(format!("bad local compression {other}")),
        },
        pickle_protocol: local_json
            .get("pickle-protocol")
            .and_then(Json::as_u64)
            .ok_or("local pickle-protocol is not a non-negative integer")?,
    };
    let limits = limits_field(request)?;
    let own = match handshake::try_write(&local) {
        Ok(own) => own,
        Err(e) => return Ok(e.into()),
    };
    let peer = match handshake::read(frames_field(request, "frames")?, &limits) {
        Ok(peer) => peer,
        Err(e) => return Ok(e.into()),
    };
    let agreed = handshake::agree(&local, &peer);
    let mut result = json!({
        "frames": hex_list(&own),
        "agreed": {
            "compression": agreed.compression,
            "pickle-protocol": agreed.pickle_protocol,
        },
    });
    if let Some(message) = request.get("message") {
        let message = match from_notation(message) {
            Ok(m) => m,
            Err(e) => {
                return Ok(Outcome::Rejected(Error::unencodable_value(
                    "CE-11",
                    e.to_string(),
                )));
            }
        };
        let options = handshake::writer_options(&agreed);
        match dask_2023_11::encode(&message, &options) {
            Ok(frames) => result["encoded"] = json!(hex_list(&frames)),
            Err(e) => return Ok(e.into()),
        }
    }
    if request.get("receive").is_some() {
        let frames = frames_field(request, "receive")?;
        match dask_2023_11::decode(frames, Mode::Consuming, &limits) {
            Ok(message) => result["received"] = to_notation(&message),
            Err(e) => return Ok(e.into()),
        }
    }
    Ok(Outcome::Ok(result))
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
    // Without `shard_size`, the encoder's default (the same in both profiles).
    let mut out = EncodeOptions::default();
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
    fn the_depth_scan_skips_strings() {
        assert!(!json_depth_exceeds(r#"{"a":[[1]]}"#, 3));
        assert!(json_depth_exceeds(r#"{"a":[[[1]]]}"#, 3));
        // Brackets in strings, escaped quotes included, do not count.
        assert!(!json_depth_exceeds(r#"{"a":"[[[[\"[[[[","b":[]}"#, 2));
        assert!(json_depth_exceeds(r#"{"a":"\\",  "b":[[[]]]}"#, 3));
        // Closers never make the depth negative.
        assert!(!json_depth_exceeds("]]]]{[", 2));
        assert!(json_depth_exceeds("]]]]{[{", 2));
        assert_eq!(
            top_level_only(r#"{"seq":3,"m":{"map":[["[",1]]},"s":"{x","t":[1,[2]]}"#).unwrap(),
            r#"{"seq":3,"m":null,"s":"{x","t":null}"#
        );
        assert_eq!(
            top_level_only(r#"{"seq":4,"x":[[[["#).unwrap(),
            r#"{"seq":4,"x":null}"#
        );
    }

    #[test]
    fn a_request_too_deep_is_errored_and_the_next_one_served() {
        let deep = "[".repeat(MAX_REQUEST_DEPTH + 1);
        let line = format!(r#"{{"seq":7,"cmd":"encode","message":1,"options":{{}},"x":{deep}}}"#);
        let (reply, stop) = handle_line(&line);
        assert!(!stop);
        assert_eq!(reply["seq"], 7);
        assert_eq!(reply["outcome"], "errored");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains(&MAX_REQUEST_DEPTH.to_string())
        );
        // The bound itself is allowed.
        assert!(!json_depth_exceeds(
            &"[".repeat(MAX_REQUEST_DEPTH),
            MAX_REQUEST_DEPTH
        ));
        let (reply, _) = handle_line(r#"{"seq":9,"cmd":"encode","message":[1],"options":{}}"#);
        assert_eq!(reply["outcome"], "ok");
    }

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

    #[test]
    fn protocol_2_declares_both_profiles() {
        let (reply, _) = handle_line(r#"{"seq":1,"cmd":"start","protocol":1,"protocols":[1,2]}"#);
        let result = &reply["result"];
        assert_eq!(result["protocol"], 2);
        assert!(result.get("capabilities").is_none());
        assert_eq!(result["profiles"]["dask-2023.11"]["handshake"], true);
        assert!(
            result["profiles"]["placeholder-v1"]
                .get("handshake")
                .is_none()
        );
        // Offered only version 1: version 1.
        let (reply, _) = handle_line(r#"{"seq":1,"cmd":"start","protocol":1,"protocols":[1]}"#);
        assert_eq!(reply["result"]["protocol"], 1);
    }

    #[test]
    fn requests_name_their_profile() {
        let (reply, _) = handle_line(
            r#"{"seq":2,"cmd":"decode","profile":"dask-2023.11","mode":"forwarding","frames":["a24f4b"]}"#,
        );
        assert_eq!(reply["result"]["message"], "OK");
        let (reply, _) = handle_line(
            r#"{"seq":3,"cmd":"decode","profile":"placeholder-v1","mode":"forwarding","frames":["a24f4b"]}"#,
        );
        assert_eq!(reply["outcome"], "rejected");
        let (reply, _) = handle_line(
            r#"{"seq":4,"cmd":"decode","profile":"nope","mode":"forwarding","frames":["80"]}"#,
        );
        assert_eq!(reply["outcome"], "errored");
        let (reply, _) = handle_line(
            r#"{"seq":5,"cmd":"handshake","profile":"placeholder-v1","local":{"compression":null,"pickle-protocol":5},"frames":[]}"#,
        );
        assert_eq!(reply["outcome"], "errored");
    }

    #[test]
    fn handshake_agrees() {
        let peer = "83ab636f6d7072657373696f6ea36c7a34a6707974686f6e93030b07af7069636b6c652d70726f746f636f6c04";
        let line = format!(
            r#"{{"seq":6,"cmd":"handshake","profile":"dask-2023.11","local":{{"compression":"lz4","pickle-protocol":5}},"frames":["{peer}"]}}"#
        );
        let (reply, _) = handle_line(&line);
        assert_eq!(
            reply["result"]["agreed"],
            json!({"compression": "lz4", "pickle-protocol": 4})
        );
        assert_eq!(reply["result"]["frames"].as_array().unwrap().len(), 1);
    }
}
