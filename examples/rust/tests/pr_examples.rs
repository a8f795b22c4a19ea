//! The pull request's worked examples (G1, G3, G5), decoded and re-encoded, and one
//! rejection per error category of the decoder.

use daskwire_rs::value::same;
use daskwire_rs::{
    EncodeOptions, Limits, Mode, Offloaded, Value, codecs, decode, encode, hex, pack, unpack,
};

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn pickle_header(length: i128) -> Vec<(Value, Value)> {
    vec![
        (s("serializer"), s("pickle")),
        (s("lengths"), Value::Array(vec![Value::Int(length)])),
        (s("count"), Value::Int(1)),
        (s("deserialize"), Value::Bool(false)),
    ]
}

fn wire(header: Vec<(Value, Value)>, frames: Vec<Vec<u8>>) -> Value {
    Value::Offloaded(Box::new(Offloaded::new(header, frames)))
}

/// G1 as the pull request's code wrote it, prelude included (background notes §1.4).
const G1_WIRE: &str = concat!(
    "0300000000000000",
    "0000000000000000",
    "5a00000000000000",
    "0500000000000000",
    "82a26f70a178a46461746183a85f2468656164657284aa73657269616c697a6572a67069636b6c65",
    "a76c656e677468739105a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800",
    "a85f2466636f756e7401",
    "80044b7b2e",
);

#[test]
fn g1_unpacks_decodes_and_re_encodes_byte_for_byte() {
    let frames = unpack(&h(G1_WIRE), &Limits::default()).unwrap();
    assert_eq!(frames.len(), 3);
    let message = decode(frames.clone(), Mode::Forwarding, &Limits::default()).unwrap();
    let expected = Value::Map(vec![
        (s("op"), s("x")),
        (s("data"), wire(pickle_header(5), vec![h("80044b7b2e")])),
    ]);
    assert!(same(&message, &expected), "{message:?}");
    // CE-9: the pull request's output for G1 is canonical.
    let again = encode(&message, &EncodeOptions::default()).unwrap();
    assert_eq!(again, frames);
    assert_eq!(pack(&again), h(G1_WIRE));

    // G1 given as the pull request's input: a pass-through value with a partial header.
    let partial = Value::Map(vec![
        (s("op"), s("x")),
        (
            s("data"),
            wire(vec![(s("serializer"), s("pickle"))], vec![h("80044b7b2e")]),
        ),
    ]);
    assert_eq!(encode(&partial, &EncodeOptions::default()).unwrap(), frames);

    let consumed = decode(frames, Mode::Consuming, &Limits::default()).unwrap();
    let Value::Map(entries) = consumed else {
        panic!()
    };
    assert_eq!(
        entries[1].1,
        Value::Materialized(Box::new(Offloaded::new(
            vec![(s("serializer"), s("pickle"))],
            vec![h("80044b7b2e")]
        )))
    );
}

/// G3: findex not ascending in payload order (PH-12).
#[test]
fn g3_is_decoded_by_findex_and_re_encoded_in_walk_order() {
    let payload = h(concat!(
        "83a1619283a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e6774687391",
        "01a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657801a85f2466636f756e740181",
        "a16b83a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e67746873910",
        "1a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657802a85f2466636f756e7401a1",
        "6d01a17a83a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e67746873",
        "9101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f2466636f756e74",
        "01",
    ));
    let frames = vec![vec![], payload, b"Z".to_vec(), b"A".to_vec(), b"K".to_vec()];
    let message = decode(frames, Mode::Forwarding, &Limits::default()).unwrap();
    let expected = Value::Map(vec![
        (
            s("a"),
            Value::Array(vec![
                wire(pickle_header(1), vec![b"A".to_vec()]),
                Value::Map(vec![(s("k"), wire(pickle_header(1), vec![b"K".to_vec()]))]),
            ]),
        ),
        (s("m"), Value::Int(1)),
        (s("z"), wire(pickle_header(1), vec![b"Z".to_vec()])),
    ]);
    assert!(same(&message, &expected), "{message:?}");
    // A canonical encoder assigns frames in walk order (CE-3): A, K, Z.
    let again = encode(&message, &EncodeOptions::default()).unwrap();
    assert_eq!(&again[2..], &[b"A".to_vec(), b"K".to_vec(), b"Z".to_vec()]);
}

/// G5: a batch with global frame indices.
#[test]
fn g5_batch_is_canonical() {
    let payload = h(concat!(
        "9282a26f70a161a16483a85f2468656164657284aa73657269616c697a6572a67069636b6c65a76c656e",
        "677468739101a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800a85f2466636f",
        "756e740182a26f70a162a16483a85f2468656164657284aa73657269616c697a6572a67069636b6c65a7",
        "6c656e67746873920101a5636f756e7402ab646573657269616c697a65c2a85f2466696e64657801a85f",
        "2466636f756e7402",
    ));
    let frames = vec![vec![], payload, b"A".to_vec(), b"B".to_vec(), b"C".to_vec()];
    let message = decode(frames.clone(), Mode::Forwarding, &Limits::default()).unwrap();
    assert_eq!(encode(&message, &EncodeOptions::default()).unwrap(), frames);
    let consumed = decode(frames, Mode::Consuming, &Limits::default()).unwrap();
    let Value::Array(batch) = consumed else {
        panic!()
    };
    let Value::Map(second) = &batch[1] else {
        panic!()
    };
    let Value::Materialized(node) = &second[1].1 else {
        panic!()
    };
    // Lengths [1, 1]: two original frames.
    assert_eq!(node.frames, vec![b"B".to_vec(), b"C".to_vec()]);
}

/// One invalid message per decoder category, each breaking exactly one requirement.
#[test]
fn rejections_have_the_right_category() {
    // {"d": P} with a header and placeholder written from parts.
    fn placeholder(header: &str, findex: &str, fcount: &str) -> String {
        format!(
            "81a16483a85f24686561646572{header}a85f2466696e646578{findex}a85f2466636f756e74{fcount}"
        )
    }
    let good_header = "83a5636f756e7401ab646573657269616c697a65c2a76c656e677468739101";
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        ("too-few-frames", vec![vec![]], "WF-2"),
        ("invalid-small-header", vec![h("01"), h("80")], "SH-1"),
        ("invalid-small-header", vec![h("810101"), h("80")], "SH-1"),
        (
            "invalid-small-header",
            vec![h("81ab636f6d7072657373696f6e01"), h("80")],
            "SH-2",
        ),
        (
            "unknown-codec",
            vec![h("81ab636f6d7072657373696f6ea5626c6f7363"), h("80")],
            "CP-2",
        ),
        (
            "invalid-compressed-data",
            vec![h("81ab636f6d7072657373696f6ea36c7a34"), h("0100000000")],
            "CP-4",
        ),
        ("invalid-msgpack", vec![vec![], vec![]], "PL-1"),
        ("invalid-msgpack", vec![vec![], h("8001")], "PL-1"),
        ("invalid-msgpack", vec![vec![], h("81a1ff01")], "PL-3"),
        (
            "unsupported-type",
            vec![vec![], h("91d6ff00000000")],
            "PL-9",
        ),
        ("invalid-message", vec![vec![], h("01")], "PL-2"),
        ("invalid-map-key", vec![vec![], h("81c301")], "PL-6"),
        ("invalid-map-key", vec![vec![], h("82a161c0a161c0")], "PL-7"),
        (
            "invalid-placeholder",
            vec![vec![], h("81a16481a85f2466696e64657800")],
            "PH-2",
        ),
        (
            "invalid-placeholder",
            vec![vec![], h(&placeholder(good_header, "ff", "01")), h("61")],
            "PH-3",
        ),
        (
            "misplaced-placeholder",
            vec![
                vec![],
                h("83a85f2468656164657280a85f2466696e64657800a85f2466636f756e7400"),
            ],
            "PH-7",
        ),
        (
            "frame-out-of-range",
            vec![vec![], h(&placeholder(good_header, "00", "01"))],
            "PH-6",
        ),
        (
            "count-mismatch",
            vec![vec![], h(&placeholder(good_header, "00", "00")), h("61")],
            "PH-10",
        ),
        (
            "invalid-header",
            vec![
                vec![],
                h(&placeholder(
                    "83a5636f756e7401ab646573657269616c697a6501a76c656e677468739101",
                    "00",
                    "01",
                )),
                h("61"),
            ],
            "HD-3",
        ),
        (
            "unclaimed-frame",
            vec![vec![], h("81a16401"), h("61")],
            "PH-9",
        ),
        (
            "length-mismatch",
            vec![vec![], h(&placeholder(good_header, "00", "01")), h("6162")],
            "CP-6",
        ),
    ];
    for (category, frames, requirement) in cases {
        let mode_result = decode(frames.clone(), Mode::Consuming, &Limits::default());
        let err = mode_result.expect_err(category);
        assert_eq!(err.category(), category, "{requirement}: {err}");
    }
    // Overlap: two placeholders claim frame 0.
    let both = format!(
        "82a161{}a162{}",
        &placeholder(good_header, "00", "01")[6..],
        &placeholder(good_header, "00", "01")[6..]
    );
    let err = decode(
        vec![vec![], h(&both), h("61")],
        Mode::Forwarding,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.category(), "overlapping-frames");
    // Depth: 3 nested arrays with max_depth 2.
    let tight = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let err = decode(vec![vec![], h("919190")], Mode::Forwarding, &tight).unwrap_err();
    assert_eq!(err.category(), "limit-exceeded");
    // Uncompressed frames: every receiver checks that lengths add up (CP-11).
    let err = decode(
        vec![vec![], h(&placeholder(good_header, "00", "01")), h("6162")],
        Mode::Forwarding,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.category(), "length-mismatch");
    // Compressed frames: length-mismatch is consuming-only (RX-3), lengths [2] for "a".
    let lz4_header = concat!(
        "84a5636f756e7401ab646573657269616c697a65c2a76c656e677468739102",
        "ab636f6d7072657373696f6e91a36c7a34",
    );
    let frames = vec![
        vec![],
        h(&placeholder(lz4_header, "00", "01")),
        codecs::compress("lz4", b"a").unwrap(),
    ];
    assert!(decode(frames.clone(), Mode::Forwarding, &Limits::default()).is_ok());
    let err = decode(frames, Mode::Consuming, &Limits::default()).unwrap_err();
    assert_eq!(err.category(), "length-mismatch");
}

#[test]
fn large_bins_travel_as_raw_byte_strings() {
    let big = vec![7u8; 65_537];
    let message = Value::Map(vec![
        (s("small"), Value::Bin(vec![7u8; 65_536])),
        (s("big"), Value::Bin(big.clone())),
        (Value::Bin(big.clone()), Value::Nil),
    ]);
    let options = EncodeOptions {
        compression: None,
        shard_size: 40_000,
    };
    let frames = encode(&message, &options).unwrap();
    // One raw byte string in two shards (CE-7); the key stays inline.
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[2].len(), 40_000);
    assert_eq!(frames[3].len(), 25_537);
    for mode in [Mode::Forwarding, Mode::Consuming] {
        let back = decode(frames.clone(), mode, &Limits::default()).unwrap();
        assert!(same(&back, &message));
    }
}

#[test]
fn compressed_output_decodes_to_the_message() {
    let text = "y".repeat(20_000);
    let message = Value::Map(vec![
        (s("op"), s("c")),
        (s("s"), Value::Str(text)),
        (
            s("v"),
            Value::Materialized(Box::new(Offloaded::new(
                vec![(s("serializer"), s("pickle"))],
                vec![vec![0u8; 30_000], vec![]],
            ))),
        ),
    ]);
    for codec in ["lz4", "zlib"] {
        let options = EncodeOptions {
            compression: Some(codec.into()),
            shard_size: 64 << 20,
        };
        let frames = encode(&message, &options).unwrap();
        assert!(!frames[0].is_empty());
        assert!(frames[1].len() < 1000);
        let back = decode(frames, Mode::Consuming, &Limits::default()).unwrap();
        assert!(same(&back, &message), "{codec}");
    }
}

#[test]
fn encoder_refusals() {
    let refuse = |message: Value| {
        let err = encode(&message, &EncodeOptions::default()).unwrap_err();
        assert_eq!(err.category(), "unencodable-value", "{message:?}");
    };
    refuse(Value::Int(1));
    refuse(Value::Map(vec![(s("_$findex"), Value::Int(0))]));
    refuse(Value::Map(vec![(Value::Bool(true), Value::Nil)]));
    refuse(Value::Map(vec![(s("a"), Value::Nil), (s("a"), Value::Nil)]));
    refuse(Value::Array(vec![Value::Int(1 << 64)]));
    refuse(Value::Array(vec![Value::Materialized(Box::new(
        Offloaded::new(vec![(s("count"), Value::Int(0))], vec![]),
    ))]));
    refuse(Value::Array(vec![wire(
        vec![(s("count"), Value::Int(2))],
        vec![vec![1]],
    )]));
    refuse(Value::Array(vec![wire(
        vec![(s("compression"), Value::Array(vec![s("lz4")]))],
        vec![vec![1]],
    )]));
    refuse(Value::Array(vec![wire(
        vec![(s("x"), Value::Map(vec![(s("_$header"), Value::Nil)]))],
        vec![],
    )]));
}
