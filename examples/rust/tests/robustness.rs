//! Hostile input: mutated messages never panic, and deep nesting is bounded.

use daskwire_rs::{EncodeOptions, FrameReader, Limits, Mode, Value, decode, encode, pack, unpack};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed_messages() -> Vec<Vec<Vec<u8>>> {
    let s = Value::str;
    let header = vec![(s("serializer"), s("pickle"))];
    let offloaded = |frames: Vec<Vec<u8>>| {
        Value::Materialized(Box::new(daskwire_rs::Offloaded::new(
            header.clone(),
            frames,
        )))
    };
    let messages = [
        Value::Map(vec![
            (s("op"), s("x")),
            (s("data"), offloaded(vec![b"abc".to_vec()])),
        ]),
        Value::Array(vec![
            Value::Map(vec![(s("a"), offloaded(vec![vec![1; 20_000], vec![]]))]),
            Value::Map(vec![
                (Value::Int(-5), Value::F32(1.5)),
                (Value::Nil, Value::Bin(vec![9; 70_000])),
            ]),
        ]),
    ];
    let mut out = Vec::new();
    for message in &messages {
        for compression in [None, Some("lz4".to_owned()), Some("zlib".to_owned())] {
            let options = EncodeOptions {
                compression,
                shard_size: 16_384,
            };
            out.push(encode(message, &options).unwrap());
        }
    }
    out
}

#[test]
fn mutated_messages_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = seed_messages();
    let limits = Limits::default();
    let rounds = if cfg!(debug_assertions) { 800 } else { 3000 };
    for round in 0..rounds {
        let mut frames = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let f = rng.below(frames.len());
            let frame = &mut frames[f];
            match rng.below(4) {
                0 if !frame.is_empty() => {
                    let i = rng.below(frame.len());
                    frame[i] = rng.next() as u8;
                }
                1 if !frame.is_empty() => {
                    let cut = rng.below(frame.len());
                    frame.truncate(cut);
                }
                2 => frame.push(rng.next() as u8),
                _ => {
                    if frames.len() > 2 && rng.below(2) == 0 {
                        frames.pop();
                    } else {
                        frames.push(vec![rng.next() as u8]);
                    }
                }
            }
        }
        for mode in [Mode::Forwarding, Mode::Consuming] {
            let _ = decode(frames.clone(), mode, &limits);
        }
        let mut wire = pack(&frames);
        let i = rng.below(wire.len());
        wire[i] ^= 1 << rng.below(8);
        let _ = unpack(&wire, &limits);
        let mut reader = FrameReader::new(limits);
        for chunk in wire.chunks(1 + rng.below(64)) {
            if reader.feed(chunk).is_err() {
                break;
            }
        }
    }
}

#[test]
fn deep_nesting_is_bounded() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            // 20 000 nested arrays, far past the default limit: rejected, not a crash.
            let mut payload = vec![0x91u8; 20_000];
            payload.push(0xc0);
            let err = decode(
                vec![vec![], payload.clone()],
                Mode::Forwarding,
                &Limits::default(),
            )
            .unwrap_err();
            assert_eq!(err.category(), "limit-exceeded");
            // With a configured limit above it, the message decodes.
            let lax = Limits {
                max_depth: 1_000_000,
                ..Limits::default()
            };
            assert!(decode(vec![vec![], payload], Mode::Consuming, &lax).is_ok());
            // Past the hard bound, a configured limit is applied as the hard bound. (Debug
            // builds use far larger stack frames; the release binary is what this protects.)
            if cfg!(debug_assertions) {
                return;
            }
            let mut deeper = vec![0x91u8; daskwire_rs::limits::HARD_MAX_DEPTH as usize + 1];
            deeper.push(0xc0);
            let err = decode(vec![vec![], deeper], Mode::Consuming, &lax).unwrap_err();
            assert_eq!(err.category(), "limit-exceeded");
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn huge_claims_are_refused_before_allocation() {
    // An lz4 payload declaring 4 GiB - 1 from 5 bytes.
    let frames = vec![
        daskwire_rs::hex::decode("81ab636f6d7072657373696f6ea36c7a34").unwrap(),
        vec![0xff, 0xff, 0xff, 0xff, 0x00],
    ];
    let err = decode(frames, Mode::Forwarding, &Limits::default()).unwrap_err();
    assert_eq!(err.category(), "limit-exceeded");
    // An array32 claiming 2**32-1 elements in 5 bytes.
    let err = decode(
        vec![vec![], vec![0xdd, 0xff, 0xff, 0xff, 0xff]],
        Mode::Forwarding,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.category(), "invalid-msgpack");
}
