//! Real Dask 2026.8.0 traffic through both decoders and the typed ops (`src/ops.rs`).
//!
//! The corpus is made by the Python side (`scripts/export-rust-corpus.py`): one JSON line per
//! recorded message, with its frames as distributed wrote them (`dask-2023.11`) and the same
//! message carried into `placeholder-v1` by the reference (or the reason it cannot be). The
//! committed sample is `tests/data/corpus-sample.jsonl`; `DASKWIRE_CORPUS=<file>` reads
//! another (the full capture, from the repository's pytest `tests/test_rust_corpus.py`).
//!
//! For every message and every profile that carries it:
//! * the consuming decode succeeds;
//! * the forwarding decode, encoded again, gives the recorded frames byte for byte;
//! * typing the forwarding decode succeeds: every op the types model is read strictly, the
//!   others are counted as fallbacks; a handshake reads as [`Handshake`];
//! * the ops typed agree with the index's op names (written by the Python side, not by this
//!   crate), and each typed op turns back into the fields it was read from.
//!
//! A failure names the message id, the profile and the error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde::Deserialize;

use daskwire_rs::ops::{Handshake, MODELLED, Message, Op};
use daskwire_rs::value::same;
use daskwire_rs::{EncodeOptions, Limits, Mode, Value, dask_2023_11, hex, placeholder_v1};

/// One line of the corpus.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: String,
    ops: Vec<String>,
    batch: Option<u64>,
    handshake: bool,
    compression: Option<String>,
    #[serde(rename = "dask-2023.11")]
    dask: Vec<String>,
    #[serde(rename = "placeholder-v1")]
    placeholder: Option<Vec<String>>,
    #[serde(rename = "placeholder-v1-reason")]
    reason: Option<String>,
    conversions: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Profile {
    Dask,
    Placeholder,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Dask => "dask-2023.11",
            Profile::Placeholder => "placeholder-v1",
        }
    }

    fn decode(self, frames: Vec<Vec<u8>>, mode: Mode) -> Result<Value, String> {
        let limits = Limits::default();
        match self {
            Profile::Dask => dask_2023_11::decode(frames, mode, &limits),
            Profile::Placeholder => placeholder_v1::decode::decode(frames, mode, &limits),
        }
        .map_err(|e| e.to_string())
    }

    fn encode(self, value: &Value, compression: Option<&str>) -> Result<Vec<Vec<u8>>, String> {
        let options = EncodeOptions {
            compression: compression.map(str::to_owned),
            ..EncodeOptions::default()
        };
        match self {
            Profile::Dask => dask_2023_11::encode(value, &options),
            Profile::Placeholder => placeholder_v1::encode::encode(value, &options),
        }
        .map_err(|e| e.to_string())
    }
}

#[derive(Default)]
struct Tally {
    messages: u64,
    round_trips: u64,
    /// round trips with another compressed payload for the same message
    codec_output_differs: u64,
    handshakes: u64,
    /// op name -> (typed, messages holding it)
    typed: BTreeMap<String, u64>,
    /// fallback kind -> count
    fallback: BTreeMap<String, u64>,
}

fn corpus_path() -> PathBuf {
    match std::env::var_os("DASKWIRE_CORPUS") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus-sample.jsonl"),
    }
}

fn frames(hexes: &[String]) -> Vec<Vec<u8>> {
    hexes
        .iter()
        .map(|h| hex::decode(h).expect("hex frames"))
        .collect()
}

/// Sets become arrays (the typed ops read a set as a list), everything else as it is.
fn sets_as_arrays(value: &mut Value) {
    match value {
        Value::Set(items) => {
            items.iter_mut().for_each(sets_as_arrays);
            *value = Value::Array(std::mem::take(items));
        }
        Value::Array(items) => items.iter_mut().for_each(sets_as_arrays),
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                sets_as_arrays(k);
                sets_as_arrays(v);
            }
        }
        _ => {}
    }
}

/// The top-level entries of two maps are the same, in any order (distributed's field order
/// differs per sender; the structs have one order); nested values compare exactly.
fn same_fields(typed: &Value, original: &Value) -> Result<(), String> {
    let (Value::Map(a), Value::Map(b)) = (typed, original) else {
        return Err("not two maps".into());
    };
    if a.len() != b.len() {
        return Err(format!("{} fields typed, {} on the wire", a.len(), b.len()));
    }
    for (key, value) in a {
        match b.iter().find(|(k, _)| same(k, key)) {
            Some((_, other)) if same(value, other) => {}
            Some(_) => return Err(format!("field {key:?} differs")),
            None => return Err(format!("field {key:?} is not on the wire")),
        }
    }
    Ok(())
}

/// A placeholder-v1 message whose payload (frame 1) was compressed by the reference's
/// lz4 or zlib: the crate's compressor may write other valid bytes for the same data. Then
/// the round trip holds when everything but frame 1 is identical, frame 0 names the same
/// codec, and the re-encoded frames decode to the same message.
fn same_but_codec_output(
    profile: Profile,
    again: &[Vec<u8>],
    recorded: &[Vec<u8>],
    forwarded: &Value,
) -> bool {
    profile == Profile::Placeholder
        && !recorded[0].is_empty()
        && again.len() == recorded.len()
        && again[0] == recorded[0]
        && again[2..] == recorded[2..]
        && profile
            .decode(again.to_vec(), Mode::Forwarding)
            .is_ok_and(|value| same(&value, forwarded))
}

/// Everything the test checks for one message in one profile.
fn check(
    record: &Record,
    profile: Profile,
    hexes: &[String],
    tally: &mut Tally,
) -> Result<(), String> {
    let recorded = frames(hexes);
    profile
        .decode(recorded.clone(), Mode::Consuming)
        .map_err(|e| format!("consuming decode: {e}"))?;
    let forwarded = profile
        .decode(recorded.clone(), Mode::Forwarding)
        .map_err(|e| format!("forwarding decode: {e}"))?;

    // Round trip. placeholder-v1 messages were written compressing with the connection's
    // codec: the payload (frame 1) may be compressed, so encode with the same codec.
    let codec = match profile {
        Profile::Dask => None,
        Profile::Placeholder => record
            .compression
            .as_deref()
            .filter(|c| matches!(*c, "lz4" | "zlib")),
    };
    let again = profile
        .encode(&forwarded, codec)
        .map_err(|e| format!("encode: {e}"))?;
    if again != recorded {
        if same_but_codec_output(profile, &again, &recorded, &forwarded) {
            tally.codec_output_differs += 1;
        } else {
            let lens = |fs: &[Vec<u8>]| fs.iter().map(Vec::len).collect::<Vec<_>>();
            let first = again.iter().zip(&recorded).position(|(a, b)| a != b);
            return Err(format!(
                "round trip: frames differ (first differing frame {first:?}; lengths {:?} vs {:?})",
                lens(&again),
                lens(&recorded)
            ));
        }
    }
    tally.round_trips += 1;

    if record.handshake {
        Handshake::from_value(forwarded).map_err(|e| format!("handshake: {e}"))?;
        tally.handshakes += 1;
        return Ok(());
    }

    let mut original = forwarded.clone();
    let message = Message::from_value(forwarded).map_err(|e| format!("typed: {e}"))?;
    let ops = message.ops();
    if let Message::Other(value) = &message {
        *tally
            .fallback
            .entry(format!("<message: {}>", value.type_name()))
            .or_default() += 1;
    }

    // The index (written from the Python decode) against the typed ops.
    let typed_names: std::collections::BTreeSet<&str> = ops.iter().filter_map(Op::name).collect();
    let index_names: std::collections::BTreeSet<&str> = record
        .ops
        .iter()
        .map(String::as_str)
        .filter(|op| MODELLED.contains(op))
        .collect();
    if typed_names != index_names {
        return Err(format!(
            "typed ops {typed_names:?}, the index lists {index_names:?}"
        ));
    }
    if let Some(n) = record.batch {
        if !matches!(message, Message::Batch(_)) || ops.len() as u64 != n {
            return Err(format!(
                "the index says a batch of {n}, typed {} ops",
                ops.len()
            ));
        }
    }

    // Each typed op gives back the fields it was read from.
    sets_as_arrays(&mut original);
    let originals: Vec<Value> = match original {
        Value::Array(items) if matches!(message, Message::Batch(_)) => items,
        other => vec![other],
    };
    for (i, (op, source)) in ops.iter().zip(originals).enumerate() {
        match op.name() {
            Some(name) => {
                *tally.typed.entry(name.to_owned()).or_default() += 1;
                let back = op
                    .to_value()
                    .map_err(|e| format!("[{i}] {name} to value: {e}"))?;
                same_fields(&back, &source)
                    .map_err(|e| format!("[{i}] {name} typed and back: {e}"))?;
            }
            None => {
                let Op::Other(value) = op else {
                    unreachable!("only Other has no name")
                };
                let label = match value.as_map().and_then(|m| {
                    m.iter()
                        .find(|(k, _)| k.is_str("op"))
                        .and_then(|(_, v)| v.as_str())
                }) {
                    Some(name) => name.to_owned(),
                    None if value.as_map().is_some() => "<reply: a map without op>".to_owned(),
                    None => format!("<batch item: {}>", value.type_name()),
                };
                *tally.fallback.entry(label).or_default() += 1;
            }
        }
    }
    Ok(())
}

fn report(tallies: &BTreeMap<Profile, Tally>, carried_not: &BTreeMap<String, u64>) -> String {
    let mut out = String::new();
    for (profile, tally) in tallies {
        let typed: u64 = tally.typed.values().sum();
        let fallback: u64 = tally.fallback.values().sum();
        let _ = writeln!(
            out,
            "{}: {} messages, {} round-trip ({} of them with other compressed payload bytes), \
             {} handshakes typed, {typed} ops typed, {fallback} fallbacks",
            profile.name(),
            tally.messages,
            tally.round_trips,
            tally.codec_output_differs,
            tally.handshakes
        );
        for (name, n) in &tally.typed {
            let _ = writeln!(out, "  typed    {name:<28} {n}");
        }
        for (name, n) in &tally.fallback {
            let _ = writeln!(out, "  fallback {name:<28} {n}");
        }
    }
    for (reason, n) in carried_not {
        let _ = writeln!(out, "not in placeholder-v1: {n} x {reason}");
    }
    out
}

#[test]
fn every_message_decodes_types_and_round_trips() {
    let path = corpus_path();
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open the corpus {}: {e}", path.display()));
    let mut tallies: BTreeMap<Profile, Tally> = BTreeMap::new();
    let mut carried_not: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut lines = 0u64;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        let record: Record = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        lines += 1;
        let mut profiles = vec![(Profile::Dask, &record.dask)];
        match (&record.placeholder, &record.reason) {
            (Some(hexes), None) => profiles.push((Profile::Placeholder, hexes)),
            (None, Some(reason)) if !reason.is_empty() => {
                *carried_not.entry(reason.clone()).or_default() += 1;
            }
            _ => failures.push(format!(
                "{}: placeholder-v1 frames and a reason, or neither",
                record.id
            )),
        }
        let _ = &record.conversions;
        for (profile, hexes) in profiles {
            let tally = tallies.entry(profile).or_default();
            tally.messages += 1;
            if let Err(e) = check(&record, profile, hexes, tally) {
                failures.push(format!("{} [{}]: {e}", record.id, profile.name()));
            }
        }
    }
    let summary = report(&tallies, &carried_not);
    println!("corpus {} ({lines} messages)\n{summary}", path.display());
    assert!(lines > 0, "the corpus {} is empty", path.display());
    assert!(
        failures.is_empty(),
        "{} failures of {lines} messages:\n{}\n\n{summary}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every modelled op of the index was typed, in both profiles, at least once per op that
    // the corpus holds; the committed sample holds all of them.
    if std::env::var_os("DASKWIRE_CORPUS").is_none() {
        for profile in [Profile::Dask, Profile::Placeholder] {
            let tally = &tallies[&profile];
            for op in MODELLED {
                assert!(
                    tally.typed.get(op).copied().unwrap_or(0) > 0,
                    "{}: the sample has no typed {op}",
                    profile.name()
                );
            }
            assert!(tally.handshakes > 0, "{}: no handshake", profile.name());
        }
    }
}
