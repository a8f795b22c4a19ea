//! Runs the kit's golden vectors (`../../vectors/<profile>/<group>/<area>.json`, both
//! profiles) through the library, judged as the spec's vectors page describes, and decodes
//! the pull request's examples into typed structs. Skipped (with a note) when the vectors
//! folder is absent, except with `CI` set: there a missing folder fails the tests.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_bytes::ByteBuf;
use serde_json::Value as Json;

use daskwire_rs::dask_2023_11::{self, handshake};
use daskwire_rs::notation::{frame_from_notation, from_notation, to_notation};
use daskwire_rs::typed::{decode_typed, from_value};
use daskwire_rs::value::same;
use daskwire_rs::{
    EncodeOptions, Error, FrameReader, Limits, Mode, Offloadable, SPEC_VERSION, Value, decode,
    encode_with_limits, pack, unpack,
};

/// The profile whose codec a vector runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    PlaceholderV1,
    Dask2023_11,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::PlaceholderV1 => "placeholder-v1",
            Profile::Dask2023_11 => "dask-2023.11",
        }
    }

    fn decode(self, frames: Vec<Vec<u8>>, mode: Mode, limits: &Limits) -> Result<Value, Error> {
        match self {
            Profile::PlaceholderV1 => decode(frames, mode, limits),
            Profile::Dask2023_11 => dask_2023_11::decode(frames, mode, limits),
        }
    }

    fn encode(
        self,
        message: &Value,
        options: &EncodeOptions,
        limits: &Limits,
    ) -> Result<Vec<Vec<u8>>, Error> {
        match self {
            Profile::PlaceholderV1 => encode_with_limits(message, options, limits),
            Profile::Dask2023_11 => dask_2023_11::encode_with_limits(message, options, limits),
        }
    }

    fn pack(self, frames: &[Vec<u8>]) -> Vec<u8> {
        match self {
            Profile::PlaceholderV1 => pack(frames),
            Profile::Dask2023_11 => dask_2023_11::pack(frames),
        }
    }

    fn unpack(self, wire: &[u8], limits: &Limits) -> Result<Vec<Vec<u8>>, Error> {
        match self {
            Profile::PlaceholderV1 => unpack(wire, limits),
            Profile::Dask2023_11 => dask_2023_11::unpack(wire, limits),
        }
    }

    fn reader(self, limits: Limits) -> FrameReader {
        match self {
            Profile::PlaceholderV1 => FrameReader::new(limits),
            Profile::Dask2023_11 => dask_2023_11::stream_reader(limits),
        }
    }
}

fn profile_dir(profile: Profile) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../vectors")
        .join(profile.name());
    dir.join("manifest.json").is_file().then_some(dir)
}

/// True when the tests run on CI (`CI` set and not empty), where the vectors must be there.
fn on_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The profile's vectors folder; `None` (the caller skips, with a note) only off CI.
fn profile_dir_or_skip(profile: Profile) -> Option<PathBuf> {
    let dir = profile_dir(profile);
    if dir.is_none() {
        let missing = format!(
            "no {} vectors folder (../../vectors/{}/manifest.json) next to the crate",
            profile.name(),
            profile.name()
        );
        assert!(
            !on_ci(),
            "{missing}, and CI is set: the vectors must be there"
        );
        eprintln!("{missing}; skipped");
    }
    dir
}

fn vectors_dir() -> Option<PathBuf> {
    profile_dir_or_skip(Profile::PlaceholderV1)
}

fn load_all(dir: &Path, profile: Profile) -> Vec<Json> {
    let mut out = Vec::new();
    for group in ["decode", "encode", "handshake", "invalid", "stream", "wire"] {
        let Ok(entries) = std::fs::read_dir(dir.join(group)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
        {
            let text = std::fs::read_to_string(&file).unwrap();
            let doc = parse_deep(&text);
            assert_eq!(doc["profile"], profile.name(), "{}", file.display());
            assert_eq!(doc["spec_version"], SPEC_VERSION, "{}", file.display());
            out.extend(doc["vectors"].as_array().unwrap().iter().cloned());
        }
    }
    out
}

/// Parses JSON without serde_json's nesting limit: some vectors nest messages deeply.
fn parse_deep(text: &str) -> Json {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    Json::deserialize(&mut de).unwrap()
}

/// Runs `f` on a thread with a large stack (deep vectors recurse deeply).
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn frames(json: &Json) -> Vec<Vec<u8>> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| frame_from_notation(f).unwrap())
        .collect()
}

fn limits(input: &Json) -> Limits {
    let mut limits = Limits::default();
    if let Some(object) = input.get("limits").and_then(Json::as_object) {
        for (name, value) in object {
            assert!(limits.set(name, value.as_u64().unwrap()), "limit {name}");
        }
    }
    limits
}

fn mode(name: &str) -> Mode {
    match name {
        "forwarding" => Mode::Forwarding,
        "consuming" => Mode::Consuming,
        other => panic!("mode {other}"),
    }
}

/// An expected frame: a plain frame, or `{"sha256": .., "length": n}` (length checked only).
fn frame_matches(expected: &Json, actual: &[u8]) -> bool {
    match expected.get("sha256") {
        Some(_) => expected["length"].as_u64() == Some(actual.len() as u64),
        None => frame_from_notation(expected).unwrap() == actual,
    }
}

/// True when a rejection's category is the vector's, or one of its `also`.
fn category_ok(expected: &Json, error: &Error) -> bool {
    category_listed(expected, error.category())
}

/// True when `category` is the vector's expected category, or one of its `also`.
fn category_listed(expected: &Json, category: &str) -> bool {
    expected["category"] == category
        || expected
            .get("also")
            .and_then(Json::as_array)
            .is_some_and(|also| also.iter().any(|c| c == category))
}

/// True when the notation holds a `{"str-utf16": [code units]}` that is not valid UTF-16 (a
/// lone surrogate), anywhere in it.
fn holds_lone_surrogate(json: &Json) -> bool {
    match json {
        Json::Array(items) => items.iter().any(holds_lone_surrogate),
        Json::Object(object) => object.iter().any(|(tag, body)| {
            let lone = tag == "str-utf16"
                && body.as_array().is_some_and(|units| {
                    let units: Option<Vec<u16>> = units
                        .iter()
                        .map(|u| u.as_u64().and_then(|u| u16::try_from(u).ok()))
                        .collect();
                    units.is_some_and(|units| String::from_utf16(&units).is_err())
                });
            lone || holds_lone_surrogate(body)
        }),
        _ => false,
    }
}

fn encode_options(input: &Json) -> EncodeOptions {
    EncodeOptions {
        compression: input["options"]["compression"].as_str().map(str::to_owned),
        shard_size: input["options"]["shard_size"].as_u64().unwrap_or(64 << 20),
    }
}

/// Judges one vector; `Err` says why it failed.
fn check(v: &Json, profile: Profile) -> Result<(), String> {
    let input = &v["input"];
    let expected = &v["expected"];
    let decode = |frames, mode, limits: &Limits| profile.decode(frames, mode, limits);
    match v["kind"].as_str().unwrap() {
        "decode" => {
            for name in ["forwarding", "consuming"] {
                let message = decode(frames(&input["frames"]), mode(name), &limits(input))
                    .map_err(|e| format!("{name}: rejected valid input: {e}"))?;
                let want = from_notation(&expected[name]).unwrap();
                if !same(&message, &want) {
                    return Err(format!("{name}: got {message:?}"));
                }
            }
        }
        "reject-decode" => {
            // RX-3: a mode the vector does not list accepts, with the message it records
            if let Some(accepted) = expected.get("accepted").and_then(Json::as_object) {
                for (name, want) in accepted {
                    let message = decode(frames(&input["frames"]), mode(name), &limits(input))
                        .map_err(|e| format!("{name}: rejected valid input: {e}"))?;
                    if !same(&message, &from_notation(want).unwrap()) {
                        return Err(format!("{name}: got {message:?}"));
                    }
                }
            }
            for name in expected["modes"].as_array().unwrap() {
                let name = name.as_str().unwrap();
                match decode(frames(&input["frames"]), mode(name), &limits(input)) {
                    Ok(m) => return Err(format!("{name}: accepted: {m:?}")),
                    Err(e) if category_ok(expected, &e) => {}
                    Err(e) => return Err(format!("{name}: wrong category: {e}")),
                }
            }
        }
        "unpack" => {
            let wire = frame_from_notation(&input["wire"]).unwrap();
            let got = profile
                .unpack(&wire, &limits(input))
                .map_err(|e| e.to_string())?;
            if got != frames(&expected["frames"]) {
                return Err("frames differ".into());
            }
            // A packer writes `packed` when the vector has it (DT-6), else the wire bytes.
            let want = expected.get("packed").unwrap_or(&input["wire"]);
            if profile.pack(&got) != frame_from_notation(want).unwrap() {
                return Err("packed bytes differ".into());
            }
        }
        "reject-unpack" => {
            let wire = frame_from_notation(&input["wire"]).unwrap();
            match profile.unpack(&wire, &limits(input)) {
                Ok(_) => return Err("accepted".into()),
                Err(e) if category_ok(expected, &e) => {}
                Err(e) => return Err(format!("wrong category: {e}")),
            }
        }
        "stream" => {
            let mut reader = profile.reader(limits(input));
            let mut messages = Vec::new();
            let mut outcome = Ok(());
            for chunk in frames(&input["chunks"]) {
                match reader.feed(&chunk) {
                    Ok(done) => messages.extend(done),
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            if outcome.is_ok() {
                outcome = reader.close();
            }
            let want: Vec<Vec<Vec<u8>>> = expected["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(frames)
                .collect();
            match (expected.get("category"), outcome) {
                // WF-6: the messages before the error are read too
                (Some(c), Err(e)) if *c == e.category() => {
                    if messages != want {
                        return Err("messages before the error differ".into());
                    }
                }
                (Some(_), other) => return Err(format!("expected a rejection, got {other:?}")),
                (None, Err(e)) => return Err(format!("rejected: {e}")),
                (None, Ok(())) => {
                    if messages != want {
                        return Err("messages differ".into());
                    }
                }
            }
        }
        "encode" => {
            let message = from_notation(&input["message"]).unwrap();
            let got = profile
                .encode(&message, &encode_options(input), &limits(input))
                .map_err(|e| format!("refused: {e}"))?;
            if expected["canonical"] == true {
                let want = expected["frames"].as_array().unwrap();
                if want.len() != got.len()
                    || !want.iter().zip(&got).all(|(w, g)| frame_matches(w, g))
                {
                    return Err("frames differ from the canonical frames".into());
                }
                if !frame_matches(&expected["wire"], &profile.pack(&got)) {
                    return Err("wire bytes differ".into());
                }
            }
            // Always: a consuming receiver gets the message back (CE-10).
            let back = decode(got, Mode::Consuming, &Limits::default())
                .map_err(|e| format!("output does not decode: {e}"))?;
            if !same(&back, &from_notation(&expected["consumed"]).unwrap()) {
                return Err(format!("consumed value differs: {back:?}"));
            }
        }
        "reject-encode" => {
            let options = encode_options(input);
            match from_notation(&input["message"]) {
                // The value model cannot hold it. The only such value of the notation is a
                // str with a lone surrogate (`str-utf16`): a message holding one is
                // unencodable by construction (CE-11; DM-16 in dask-2023.11), so the vector
                // must expect `unencodable-value`. Any other notation failure is a broken
                // test, not a rejection.
                Err(e) => {
                    if !holds_lone_surrogate(&input["message"]) {
                        return Err(format!("the message does not read: {e}"));
                    }
                    if !category_listed(expected, "unencodable-value") {
                        return Err(format!(
                            "a lone surrogate is unencodable-value, the vector expects {}",
                            expected["category"]
                        ));
                    }
                }
                Ok(message) => match profile.encode(&message, &options, &limits(input)) {
                    Ok(_) => return Err("encoded".into()),
                    Err(e) if category_ok(expected, &e) => {}
                    Err(e) => return Err(format!("wrong category: {e}")),
                },
            }
        }
        "handshake" | "reject-handshake" => {
            let outcome = run_handshake(input);
            if v["kind"] == "reject-handshake" {
                return match outcome {
                    Ok(_) => Err("accepted".into()),
                    Err(e) if category_ok(expected, &e) => Ok(()),
                    Err(e) => Err(format!("wrong category: {e}")),
                };
            }
            let (own, agreed, encoded, received) = outcome.map_err(|e| format!("rejected: {e}"))?;
            // DK-2, DK-4: our own handshake reads back as our proposal.
            let local = local_options(input);
            if handshake::read(own, &Limits::default()).map_err(|e| e.to_string())? != local {
                return Err("own handshake does not read back".into());
            }
            let agreed_json = serde_json::json!({
                "compression": agreed.compression,
                "pickle-protocol": agreed.pickle_protocol,
            });
            if agreed_json != expected["agreed"] {
                return Err(format!("agreed {agreed_json}"));
            }
            if let Some(want) = expected.get("consumed") {
                let frames = encoded.ok_or("no encoded frames")?;
                let back = dask_2023_11::decode(frames, Mode::Consuming, &Limits::default())
                    .map_err(|e| format!("encoded frames do not decode: {e}"))?;
                if !same(&back, &from_notation(want).unwrap()) {
                    return Err(format!("encoded: {}", to_notation(&back)));
                }
            }
            if let Some(want) = expected.get("received") {
                let got = received.ok_or("nothing received")?;
                if !same(&got, &from_notation(want).unwrap()) {
                    return Err(format!("received: {}", to_notation(&got)));
                }
            }
        }
        other => return Err(format!("unknown kind {other}")),
    }
    Ok(())
}

fn local_options(input: &Json) -> handshake::Options {
    handshake::Options {
        compression: input["local"]["compression"].as_str().map(str::to_owned),
        pickle_protocol: input["local"]["pickle-protocol"].as_u64().unwrap(),
    }
}

type HandshakeOutcome = (
    Vec<Vec<u8>>,
    handshake::Options,
    Option<Vec<Vec<u8>>>,
    Option<Value>,
);

/// One side of a new connection, as the harness's `handshake` command describes it.
fn run_handshake(input: &Json) -> Result<HandshakeOutcome, Error> {
    let local = local_options(input);
    let limits = limits(input);
    let own = handshake::write(&local);
    let peer = handshake::read(frames(&input["frames"]), &limits)?;
    let agreed = handshake::agree(&local, &peer);
    let encoded = match input.get("message") {
        Some(message) => Some(dask_2023_11::encode(
            &from_notation(message).unwrap(),
            &handshake::writer_options(&agreed),
        )?),
        None => None,
    };
    let received = match input.get("receive") {
        Some(receive) => Some(dask_2023_11::decode(
            frames(receive),
            Mode::Consuming,
            &limits,
        )?),
        None => None,
    };
    Ok((own, agreed, encoded, received))
}

#[test]
fn every_placeholder_v1_vector_passes() {
    with_big_stack(|| every_vector_passes_inner(Profile::PlaceholderV1));
}

#[test]
fn every_dask_2023_11_vector_passes() {
    with_big_stack(|| every_vector_passes_inner(Profile::Dask2023_11));
}

fn every_vector_passes_inner(profile: Profile) {
    let Some(dir) = profile_dir_or_skip(profile) else {
        return;
    };
    let vectors = load_all(&dir, profile);
    assert!(!vectors.is_empty());
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            check(v, profile)
                .err()
                .map(|why| format!("{}: {why}", v["id"]))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

/// The shape of the pull request's examples G1 and G6: `{"op": .., "data": ..}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpData {
    op: String,
    data: Offloadable<ByteBuf>,
}

/// G5's batch elements: `{"op": .., "d": ..}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpD {
    op: String,
    d: Offloadable<ByteBuf>,
}

fn vector(dir: &Path, id: &str) -> Json {
    let (group_area, _) = id.rsplit_once('/').unwrap();
    let text = std::fs::read_to_string(dir.join(format!("{group_area}.json"))).unwrap();
    let doc = parse_deep(&text);
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
        .clone()
}

#[test]
fn pr_examples_decode_into_typed_structs() {
    with_big_stack(pr_examples_inner);
}

fn pr_examples_inner() {
    let Some(dir) = vectors_dir() else {
        return;
    };
    let g1 = vector(&dir, "decode/pr-examples/g1");
    let msg: OpData = decode_typed(frames(&g1["input"]["frames"]), &Limits::default()).unwrap();
    assert_eq!(msg.op, "x");
    let Offloadable::Offloaded { header, frames: f } = &msg.data else {
        panic!("G1 data in place")
    };
    assert_eq!(header.len(), 4);
    assert_eq!(f, &vec![vec![0x80, 0x04, 0x4b, 0x7b, 0x2e]]);

    let g5 = vector(&dir, "decode/pr-examples/g5-batch");
    let batch: Vec<OpD> = decode_typed(frames(&g5["input"]["frames"]), &Limits::default()).unwrap();
    assert_eq!(
        batch.iter().map(|m| m.op.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let Offloadable::Offloaded { frames: f, .. } = &batch[1].d else {
        panic!("G5 second value in place")
    };
    assert_eq!(f, &vec![b"B".to_vec(), b"C".to_vec()]);

    // G6: the forwarding form keeps the two shards; typed, they stay as they came.
    let g6 = vector(&dir, "decode/pr-examples/g6-split");
    let msg: OpData = decode_typed(frames(&g6["input"]["frames"]), &Limits::default()).unwrap();
    let Offloadable::Offloaded { frames: f, .. } = &msg.data else {
        panic!("G6 data in place")
    };
    assert_eq!(f, &vec![b"ab".to_vec(), b"c".to_vec()]);

    // G4: a zero-frame value, typed as an opaque header with no frames.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct V {
        v: Offloadable<daskwire_rs::Value>,
    }
    let g4 = vector(&dir, "decode/pr-examples/g4-zero-frames");
    let msg: V = decode_typed(frames(&g4["input"]["frames"]), &Limits::default()).unwrap();
    assert!(matches!(&msg.v, Offloadable::Offloaded { frames, .. } if frames.is_empty()));

    // Strict typing: G3's message is not an OpData.
    let g3 = vector(&dir, "decode/pr-examples/g3-pr-order");
    let value = decode(
        frames(&g3["input"]["frames"]),
        Mode::Forwarding,
        &Limits::default(),
    )
    .unwrap();
    assert!(from_value::<OpData>(value).is_err());
}
