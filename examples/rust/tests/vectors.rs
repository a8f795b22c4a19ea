//! Runs the kit's golden vectors (`../../vectors/placeholder-v1/<group>/<area>.json`) through the library,
//! judged as the spec's vectors page describes, and decodes the pull request's examples
//! into typed structs. Skipped (with a note) when the vectors folder is absent.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_bytes::ByteBuf;
use serde_json::Value as Json;

use daskwire_rs::notation::{frame_from_notation, from_notation};
use daskwire_rs::typed::{decode_typed, from_value};
use daskwire_rs::value::same;
use daskwire_rs::{
    EncodeOptions, FrameReader, Limits, Mode, Offloadable, SPEC_VERSION, decode,
    encode_with_limits, pack, unpack,
};

fn vectors_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/placeholder-v1");
    dir.join("manifest.json").is_file().then_some(dir)
}

fn load_all(dir: &Path) -> Vec<Json> {
    let mut out = Vec::new();
    for group in ["decode", "encode", "invalid", "stream", "wire"] {
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
            assert_eq!(doc["profile"], "placeholder-v1", "{}", file.display());
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

/// Judges one vector; `Err` says why it failed.
fn check(v: &Json) -> Result<(), String> {
    let input = &v["input"];
    let expected = &v["expected"];
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
                    Err(e) if e.category() == expected["category"] => {}
                    Err(e) => return Err(format!("{name}: wrong category: {e}")),
                }
            }
        }
        "unpack" => {
            let wire = frame_from_notation(&input["wire"]).unwrap();
            let got = unpack(&wire, &limits(input)).map_err(|e| e.to_string())?;
            if got != frames(&expected["frames"]) {
                return Err("frames differ".into());
            }
        }
        "reject-unpack" => {
            let wire = frame_from_notation(&input["wire"]).unwrap();
            match unpack(&wire, &limits(input)) {
                Ok(_) => return Err("accepted".into()),
                Err(e) if e.category() == expected["category"] => {}
                Err(e) => return Err(format!("wrong category: {e}")),
            }
        }
        "stream" => {
            let mut reader = FrameReader::new(limits(input));
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
            let options = EncodeOptions {
                compression: input["options"]["compression"].as_str().map(str::to_owned),
                shard_size: input["options"]["shard_size"].as_u64().unwrap_or(64 << 20),
            };
            let got = encode_with_limits(&message, &options, &limits(input))
                .map_err(|e| format!("refused: {e}"))?;
            if expected["canonical"] == true {
                let want = expected["frames"].as_array().unwrap();
                if want.len() != got.len()
                    || !want.iter().zip(&got).all(|(w, g)| frame_matches(w, g))
                {
                    return Err("frames differ from the canonical frames".into());
                }
                if !frame_matches(&expected["wire"], &pack(&got)) {
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
            let options = EncodeOptions {
                compression: input["options"]["compression"].as_str().map(str::to_owned),
                shard_size: input["options"]["shard_size"].as_u64().unwrap_or(64 << 20),
            };
            match from_notation(&input["message"]) {
                // The value model cannot even hold it: unencodable by construction.
                Err(_) => {}
                Ok(message) => match encode_with_limits(&message, &options, &limits(input)) {
                    Ok(_) => return Err("encoded".into()),
                    Err(e) if e.category() == expected["category"] => {}
                    Err(e) => return Err(format!("wrong category: {e}")),
                },
            }
        }
        other => return Err(format!("unknown kind {other}")),
    }
    Ok(())
}

#[test]
fn every_vector_passes() {
    with_big_stack(every_vector_passes_inner);
}

fn every_vector_passes_inner() {
    let Some(dir) = vectors_dir() else {
        eprintln!("no vectors folder next to the crate; skipped");
        return;
    };
    let vectors = load_all(&dir);
    assert!(!vectors.is_empty());
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| check(v).err().map(|why| format!("{}: {why}", v["id"])))
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
        eprintln!("no vectors folder next to the crate; skipped");
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
