//! Hostile input: mutated messages never panic, and deep nesting is bounded.

use daskwire_rs::error::CATEGORIES;
use daskwire_rs::{
    EncodeOptions, Error, FrameReader, Limits, Mode, Value, decode, encode, pack, unpack,
};

/// The categories a dask-2023.11 reader (a decoder, `unpack`, the stream reader) may report:
/// the spec's closed list (`src/error.rs: CATEGORIES`) as `spec/dask-2023.11/errors.md`
/// uses it, that is without the placeholder-only categories, `unencodable-value` (an
/// encoder's) and `invalid-handshake` (the handshake reader's).
const DASK_READER_CATEGORIES: [&str; 14] = [
    "truncated-input",
    "trailing-bytes",
    "too-few-frames",
    "unknown-codec",
    "invalid-compressed-data",
    "invalid-msgpack",
    "unsupported-type",
    "invalid-map-key",
    "frame-out-of-range",
    "overlapping-frames",
    "invalid-header",
    "limit-exceeded",
    "invalid-read-hint",
    "invalid-marker",
];

/// The categories a placeholder-v1 reader may report: the spec's list without the three of
/// dask-2023.11 and without `unencodable-value` (an encoder's).
fn placeholder_reader_categories() -> Vec<&'static str> {
    CATEGORIES
        .into_iter()
        .filter(|c| {
            !matches!(
                *c,
                "invalid-read-hint" | "invalid-marker" | "invalid-handshake" | "unencodable-value"
            )
        })
        .collect()
}

/// A reader's outcome is a value or one error of a category the profile's reader may
/// report, naming the requirement it breaks.
fn categorized<T>(what: &str, outcome: &Result<T, Error>, allowed: &[&str]) {
    if let Err(e) = outcome {
        assert!(
            CATEGORIES.contains(&e.category()),
            "{what}: {e}: not a category of the spec"
        );
        assert!(
            allowed.contains(&e.category()),
            "{what}: {e}: a category this reader does not report"
        );
        assert!(!e.requirement().is_empty(), "{what}: {e}: no requirement");
    }
}

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
        let placeholder = placeholder_reader_categories();
        for mode in [Mode::Forwarding, Mode::Consuming] {
            categorized(
                "decode",
                &decode(frames.clone(), mode, &limits),
                &placeholder,
            );
        }
        let mut wire = pack(&frames);
        let i = rng.below(wire.len());
        wire[i] ^= 1 << rng.below(8);
        categorized("unpack", &unpack(&wire, &limits), &placeholder);
        let mut reader = FrameReader::new(limits);
        for chunk in wire.chunks(1 + rng.below(64)) {
            let fed = reader.feed(chunk);
            categorized("stream feed", &fed, &placeholder);
            if fed.is_err() {
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

/// dask-2023.11: mutated frames and wire bytes never panic; every outcome is a value or an
/// error of a category a dask-2023.11 reader reports, in both receiver modes.
#[test]
fn dask_2023_11_mutations_never_panic() {
    use daskwire_rs::dask_2023_11;
    use daskwire_rs::value::EnumMember;
    let s = Value::str;
    let message = Value::Array(vec![Value::Map(vec![
        (s("op"), s("x")),
        (
            s("set"),
            Value::Set(vec![
                Value::Int(1),
                Value::Array(vec![s("k"), Value::Int(0)]),
            ]),
        ),
        (
            s("enum"),
            Value::Enum(Box::new(EnumMember {
                module: "m".into(),
                class: "C".into(),
                name: "n".into(),
            })),
        ),
        (
            s("data"),
            Value::Materialized(Box::new(daskwire_rs::Offloaded::new(
                vec![(s("serializer"), s("x"))],
                vec![vec![7; 20_000], vec![]],
            ))),
        ),
        (
            s("run_spec"),
            Value::Pickled(Box::new(daskwire_rs::Offloaded::new(
                vec![
                    (s("pickled-obj"), Value::Bin(vec![0x80, 5])),
                    (s("num-sub-frames"), Value::Int(1)),
                ],
                vec![vec![1, 2, 3]],
            ))),
        ),
    ])]);
    let options = EncodeOptions {
        compression: Some("lz4".into()),
        shard_size: 4096,
    };
    let frames = dask_2023_11::encode(&message, &options).unwrap();
    let wire = dask_2023_11::pack(&frames);
    let mut rng = Rng(0x5eed_2023_1100);
    let mut errors = 0u32;
    for _ in 0..3000 {
        let mut mutated = frames.clone();
        let f = rng.below(mutated.len());
        if mutated[f].is_empty() {
            mutated[f].push(rng.next() as u8);
        } else {
            let at = rng.below(mutated[f].len());
            mutated[f][at] = rng.next() as u8;
        }
        for mode in [Mode::Forwarding, Mode::Consuming] {
            let outcome = dask_2023_11::decode(mutated.clone(), mode, &Limits::default());
            categorized("decode", &outcome, &DASK_READER_CATEGORIES);
            if outcome.is_err() {
                errors += 1;
            }
        }
        let mut bytes = wire.clone();
        let at = rng.below(bytes.len().min(200));
        bytes[at] = rng.next() as u8;
        categorized(
            "unpack",
            &dask_2023_11::unpack(&bytes, &Limits::default()),
            &DASK_READER_CATEGORIES,
        );
        let cut = rng.below(bytes.len());
        let mut reader = dask_2023_11::stream_reader(Limits::default());
        let fed = reader.feed(&bytes[..cut]);
        categorized("stream feed", &fed, &DASK_READER_CATEGORIES);
        if fed.is_ok() {
            categorized("stream close", &reader.close(), &DASK_READER_CATEGORIES);
        }
    }
    // The mutations do break messages: the checks above saw errors, not only values.
    assert!(errors > 0, "no mutated message was rejected");
    let back = dask_2023_11::decode(frames, Mode::Consuming, &Limits::default()).unwrap();
    assert!(daskwire_rs::value::same(&back, &message));
}

/// A message of 65,000 frames fed 1 to 64 bytes at a time streams in time linear in its
/// size, in both profiles, with the same frames as when fed whole (WF-5, DT-7). The reader
/// once re-read the pending prelude on every feed: minutes for this in a debug build. The
/// work itself is counted in `framing`'s unit tests; this runs the public readers.
#[test]
fn many_frames_in_small_chunks() {
    use daskwire_rs::dask_2023_11;
    let frames: Vec<Vec<u8>> = (0..65_000).map(|i| vec![i as u8; i % 3]).collect();
    let mut rng = Rng(0x6500_0f4a_3e5b_0001);
    for dask in [false, true] {
        let reader = || match dask {
            false => FrameReader::new(Limits::default()),
            true => dask_2023_11::stream_reader(Limits::default()),
        };
        let wire = match dask {
            false => pack(&frames),
            true => dask_2023_11::pack(&frames),
        };
        let mut whole = reader();
        assert!(whole.feed(&wire).unwrap() == [frames.clone()]);
        whole.close().unwrap();
        let mut trickled = reader();
        let mut got = Vec::new();
        let mut at = 0;
        while at < wire.len() {
            let end = wire.len().min(at + 1 + rng.below(64));
            got.extend(trickled.feed(&wire[at..end]).unwrap());
            at = end;
        }
        trickled.close().unwrap();
        assert!(got == [frames.clone()]);
    }
}
