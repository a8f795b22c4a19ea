//! Times typed decoding of a corpus (`scripts/export-rust-corpus.py`) in both profiles.
//!
//! ```sh
//! cargo run --release --example corpus_time -- tests/data/corpus-sample.jsonl [PASSES]
//! ```
//!
//! Each pass decodes every message (forwarding mode) and types it ([`Message::from_value`],
//! or [`Handshake::from_value`] for a handshake). Only messages that both profiles carry are
//! timed, so both decode the same messages. Passes alternate between the profiles in one run
//! (dask-2023.11, placeholder-v1, dask-2023.11, ...); frames are copied before each pass
//! starts its clock. Prints JSON: `{profile: {"messages", "seconds", "typed", "passes",
//! "best_seconds"}, "modelled": [op, ...]}`, where `seconds` is the sum over the passes and
//! `typed` counts the typed ops and handshakes of one pass.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use serde_json::json;

use daskwire_rs::ops::{Handshake, MODELLED, Message};
use daskwire_rs::{Limits, Mode, Value, dask_2023_11, hex, placeholder_v1};

type Decoder = fn(Vec<Vec<u8>>, Mode, &Limits) -> daskwire_rs::Result<Value>;
/// The corpus of one profile: (is a handshake, frames) per message.
type Corpus = Vec<(bool, Vec<Vec<u8>>)>;

fn frames(value: &serde_json::Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .expect("an array of hex frames")
        .iter()
        .map(|f| hex::decode(f.as_str().expect("a hex frame")).expect("hex"))
        .collect()
}

/// One pass over `messages`: the number of typed ops and handshakes.
fn pass(decode: Decoder, messages: Corpus, limits: &Limits) -> u64 {
    let mut typed = 0;
    for (handshake, frames) in messages {
        let value = decode(frames, Mode::Forwarding, limits).expect("the corpus decodes");
        if handshake {
            Handshake::from_value(value).expect("a handshake");
            typed += 1;
        } else {
            let message = Message::from_value(value).expect("typed decoding");
            typed += message
                .ops()
                .iter()
                .filter(|op| op.name().is_some())
                .count() as u64;
        }
    }
    typed
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: corpus_time CORPUS.jsonl [PASSES]");
    let passes: u32 = args
        .next()
        .map_or(5, |n| n.parse().expect("PASSES is a number"));
    let file = std::fs::File::open(&path).expect("the corpus file");
    let mut dask: Corpus = Vec::new();
    let mut placeholder: Corpus = Vec::new();
    for line in BufReader::new(file).lines() {
        let record: serde_json::Value =
            serde_json::from_str(&line.expect("a line")).expect("a JSON line");
        if record["placeholder-v1"].is_null() {
            continue; // not carried in placeholder-v1: not timed in either profile
        }
        let handshake = record["handshake"].as_bool().expect("handshake is a bool");
        dask.push((handshake, frames(&record["dask-2023.11"])));
        placeholder.push((handshake, frames(&record["placeholder-v1"])));
    }
    let limits = Limits::default();
    let profiles: [(&str, Decoder, &Corpus); 2] = [
        ("dask-2023.11", dask_2023_11::decode, &dask),
        (
            "placeholder-v1",
            placeholder_v1::decode::decode,
            &placeholder,
        ),
    ];
    let mut out = serde_json::Map::new();
    let mut totals = [(0.0f64, f64::INFINITY, 0u64); 2];
    for _ in 0..passes {
        for (i, (_, decode, messages)) in profiles.iter().enumerate() {
            let copy = (*messages).clone();
            let start = Instant::now();
            let typed = pass(*decode, copy, &limits);
            let seconds = start.elapsed().as_secs_f64();
            totals[i].0 += seconds;
            totals[i].1 = totals[i].1.min(seconds);
            totals[i].2 = typed;
        }
    }
    for (i, (name, _, messages)) in profiles.iter().enumerate() {
        out.insert(
            (*name).to_owned(),
            json!({
                "messages": messages.len(),
                "seconds": totals[i].0,
                "typed": totals[i].2,
                "passes": passes,
                "best_seconds": totals[i].1,
            }),
        );
    }
    out.insert("modelled".to_owned(), json!(MODELLED));
    println!("{}", serde_json::Value::Object(out));
}
