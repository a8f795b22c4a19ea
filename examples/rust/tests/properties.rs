//! Property-based tests of both profiles (issue 16, "Bad input"): every decoder, in both
//! receiver modes, `unpack` and the stream readers, never panic and either succeed or
//! report one category that the profile uses; valid messages round-trip exactly; huge
//! claimed lengths and counts are refused without allocating for them.
//!
//! The default case count keeps `cargo test --release --test properties` to a few seconds;
//! `PROPTEST_CASES=N` raises it for a long run (every property runs N cases). Failures are
//! shrunk and printed, never written into the repository (`failure_persistence: None`):
//! a counterexample worth keeping becomes a plain regression test at the end of this file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use daskwire_rs::dask_2023_11::keys::check_dask_keys;
use daskwire_rs::dask_2023_11::{self, handshake};
use daskwire_rs::encode::DEFAULT_SHARD_SIZE;
use daskwire_rs::error::CATEGORIES;
use daskwire_rs::placeholder_v1::encode::check_map_keys;
use daskwire_rs::value::{EnumMember, same};
use daskwire_rs::{EncodeOptions, Error, FrameReader, Limits, Mode, Offloaded, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

// ---------------------------------------------------------------------------------------
// Allocation accounting: the bytes live on this thread, and their peak, so a property can
// bound what one call allocates (proptest runs a property's cases on one thread).

struct Tracking;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every call goes unchanged to the system allocator; the bookkeeping touches only
// const-initialised thread-locals without destructors, which never allocate. A request is
// counted before it is made, so even one the system refuses shows in the peak.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Runs `f`; returns its result and the most bytes it had allocated at once on this thread.
fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, usize::try_from(peak).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------
// The two profiles behind one interface.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    PlaceholderV1,
    Dask202311,
}

/// What a placeholder-v1 decoder may report: every category but the encoder's and the
/// three that dask-2023.11 alone uses.
const PLACEHOLDER_DECODE: &[&str] = &[
    "too-few-frames",
    "invalid-small-header",
    "unknown-codec",
    "invalid-compressed-data",
    "invalid-msgpack",
    "unsupported-type",
    "invalid-message",
    "invalid-map-key",
    "invalid-placeholder",
    "misplaced-placeholder",
    "frame-out-of-range",
    "overlapping-frames",
    "unclaimed-frame",
    "count-mismatch",
    "invalid-header",
    "length-mismatch",
    "limit-exceeded",
];

/// What a dask-2023.11 decoder may report (spec/dask-2023.11/errors.md: the reused
/// categories and `invalid-marker`; not the placeholder-only ones).
const DASK_DECODE: &[&str] = &[
    "too-few-frames",
    "invalid-msgpack",
    "unsupported-type",
    "invalid-map-key",
    "frame-out-of-range",
    "overlapping-frames",
    "invalid-header",
    "unknown-codec",
    "invalid-compressed-data",
    "limit-exceeded",
    "invalid-marker",
];

/// What reading the wire framing may report (WF-*, DT-8).
const PLACEHOLDER_FRAMING: &[&str] = &[
    "truncated-input",
    "trailing-bytes",
    "too-few-frames",
    "limit-exceeded",
];
const DASK_FRAMING: &[&str] = &[
    "truncated-input",
    "trailing-bytes",
    "too-few-frames",
    "limit-exceeded",
    "invalid-read-hint",
];

impl Profile {
    fn decode(self, frames: Vec<Vec<u8>>, mode: Mode) -> Result<Value, Error> {
        let limits = Limits::default();
        match self {
            Profile::PlaceholderV1 => daskwire_rs::decode(frames, mode, &limits),
            Profile::Dask202311 => dask_2023_11::decode(frames, mode, &limits),
        }
    }

    fn encode(self, value: &Value, options: &EncodeOptions) -> Result<Vec<Vec<u8>>, Error> {
        match self {
            Profile::PlaceholderV1 => daskwire_rs::encode(value, options),
            Profile::Dask202311 => dask_2023_11::encode(value, options),
        }
    }

    fn pack(self, frames: &[Vec<u8>]) -> Vec<u8> {
        match self {
            Profile::PlaceholderV1 => daskwire_rs::pack(frames),
            Profile::Dask202311 => dask_2023_11::pack(frames),
        }
    }

    fn unpack(self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let limits = Limits::default();
        match self {
            Profile::PlaceholderV1 => daskwire_rs::unpack(bytes, &limits),
            Profile::Dask202311 => dask_2023_11::unpack(bytes, &limits),
        }
    }

    fn reader(self) -> FrameReader {
        match self {
            Profile::PlaceholderV1 => FrameReader::new(Limits::default()),
            Profile::Dask202311 => dask_2023_11::stream_reader(Limits::default()),
        }
    }

    fn decode_categories(self) -> &'static [&'static str] {
        match self {
            Profile::PlaceholderV1 => PLACEHOLDER_DECODE,
            Profile::Dask202311 => DASK_DECODE,
        }
    }

    fn framing_categories(self) -> &'static [&'static str] {
        match self {
            Profile::PlaceholderV1 => PLACEHOLDER_FRAMING,
            Profile::Dask202311 => DASK_FRAMING,
        }
    }

    /// u64 fields before the frames: N and the lengths; dask-2023.11 also H first.
    fn prelude_slots(self, frames: usize) -> usize {
        match self {
            Profile::PlaceholderV1 => 1 + frames,
            Profile::Dask202311 => 2 + frames,
        }
    }

    /// The str keys that make a map a placeholder or a marker (PH-1, DM-4).
    fn reserved(self) -> &'static [&'static str] {
        match self {
            Profile::PlaceholderV1 => &daskwire_rs::placeholder_v1::RESERVED_KEYS,
            Profile::Dask202311 => &dask_2023_11::constants::RESERVED_KEYS,
        }
    }

    /// Keys that an offloaded value's header given in original form must not hold.
    fn transport(self) -> &'static [&'static str] {
        match self {
            Profile::PlaceholderV1 => &daskwire_rs::placeholder_v1::TRANSPORT_KEYS,
            Profile::Dask202311 => &dask_2023_11::constants::SERIALIZED_TRANSPORT_KEYS,
        }
    }
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![Just(Profile::PlaceholderV1), Just(Profile::Dask202311)]
}

/// Checks that a decoder's answer is a value or one category the profile's decoder uses.
fn check_decoded(profile: Profile, result: &Result<Value, Error>, what: &str) {
    if let Err(error) = result {
        let category = error.category();
        assert!(CATEGORIES.contains(&category), "{what}: {error}");
        assert!(
            profile.decode_categories().contains(&category),
            "{what}: {profile:?} decoder reported {error}"
        );
    }
}

/// Decodes in both modes; every outcome must be a value or an allowed category. For
/// dask-2023.11 the handshake reader runs too (its own category after every layer).
fn decode_both(profile: Profile, frames: &[Vec<u8>]) {
    for mode in [Mode::Forwarding, Mode::Consuming] {
        let got = profile.decode(frames.to_vec(), mode);
        check_decoded(profile, &got, mode.name());
    }
    if profile == Profile::Dask202311 {
        if let Err(error) = handshake::read(frames.to_vec(), &Limits::default()) {
            let category = error.category();
            assert!(
                DASK_DECODE.contains(&category) || category == "invalid-handshake",
                "handshake: {error}"
            );
        }
    }
}

/// Feeds `bytes` to a fresh stream reader in chunks of the sizes given (cycled; none means
/// one chunk). Returns the messages before the first error and that error's category.
fn stream(
    profile: Profile,
    bytes: &[u8],
    chunks: &[usize],
) -> (Vec<Vec<Vec<u8>>>, Option<&'static str>) {
    let mut reader = profile.reader();
    let mut messages = Vec::new();
    let mut at = 0;
    let mut next = 0;
    while at < bytes.len() {
        let size = if chunks.is_empty() {
            bytes.len()
        } else {
            chunks[next % chunks.len()].max(1)
        };
        next += 1;
        let end = bytes.len().min(at + size);
        match reader.feed(&bytes[at..end]) {
            Ok(got) => messages.extend(got),
            Err(error) => return (messages, Some(error.category())),
        }
        at = end;
    }
    match reader.close() {
        Ok(()) => (messages, None),
        Err(error) => (messages, Some(error.category())),
    }
}

/// `unpack` and the stream reader on arbitrary bytes: allowed categories only, the same
/// outcome however the bytes are cut (WF-5, DT-7), agreement with `unpack` on a single
/// message, and every message found decodes or is refused with a category.
fn check_framing(profile: Profile, bytes: &[u8], chunks: &[usize]) {
    let allowed = profile.framing_categories();
    let unpacked = profile.unpack(bytes);
    match &unpacked {
        Ok(frames) => {
            // Re-packing gives a message that reads back the same (for dask-2023.11 H
            // may differ: any frame boundary is a valid hint, DT-3).
            let again = profile.pack(frames);
            assert_eq!(profile.unpack(&again).as_ref(), Ok(frames));
            if profile == Profile::PlaceholderV1 {
                assert_eq!(again, bytes, "placeholder-v1 framing is unique");
            }
        }
        Err(error) => assert!(allowed.contains(&error.category()), "unpack: {error}"),
    }
    let whole = stream(profile, bytes, &[]);
    let cut = stream(profile, bytes, chunks);
    assert_eq!(whole, cut, "the stream depends on how the bytes were cut");
    if let Some(category) = whole.1 {
        assert!(allowed.contains(&category), "stream: {category}");
    }
    if let Ok(frames) = &unpacked {
        assert_eq!(whole, (vec![frames.clone()], None));
    }
    for frames in &whole.0 {
        decode_both(profile, frames);
    }
}

// ---------------------------------------------------------------------------------------
// Generators of valid messages.

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "", "a", "op", "data", "key", "é", "_$header", "_$findex", "_$fcount", "lengths",
            "count", "compression", "deserialize", "__Serialized__", "__Pickled__", "__Set__",
            "__Enum__", "as-list", "num-sub-frames", "pickled-obj", "serializer",
        ])
        .prop_map(str::to_owned),
        2 => vec(any::<char>(), 0..6).prop_map(String::from_iter),
    ]
}

fn int() -> impl Strategy<Value = i128> {
    prop_oneof![
        -40i128..300,
        any::<i64>().prop_map(i128::from),
        any::<u64>().prop_map(i128::from),
        Just(i128::from(i64::MIN)),
        Just(i128::from(u64::MAX)),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..max),
        // Compressible runs, so that a codec pays (CP-10) and shards repeat.
        1 => (any::<u8>(), 0..max * 8).prop_map(|(byte, n)| vec![byte; n]),
    ]
}

/// A scalar of either profile; floats of every class, NaN and -0.0 included: the encoder
/// writes the canonical NaN (CE-1) and `same` compares NaN equal to NaN.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        int().prop_map(Value::Int),
        any::<f32>().prop_map(Value::F32),
        any::<f64>().prop_map(Value::F64),
        text().prop_map(Value::Str),
        bytes(24).prop_map(Value::Bin),
    ]
}

/// A map key the profile allows (PL-6; DM-2 adds bool and floats).
fn key(profile: Profile) -> BoxedStrategy<Value> {
    let leaf = match profile {
        Profile::PlaceholderV1 => prop_oneof![
            Just(Value::Nil),
            int().prop_map(Value::Int),
            text().prop_map(Value::Str),
            bytes(8).prop_map(Value::Bin),
        ]
        .boxed(),
        Profile::Dask202311 => prop_oneof![
            Just(Value::Nil),
            any::<bool>().prop_map(Value::Bool),
            int().prop_map(Value::Int),
            any::<f32>().prop_map(Value::F32),
            any::<f64>().prop_map(Value::F64),
            prop_oneof![Just(1.0f64), Just(0.0), Just(-0.0)].prop_map(Value::F64),
            text().prop_map(Value::Str),
            bytes(8).prop_map(Value::Bin),
        ]
        .boxed(),
    };
    leaf.prop_recursive(2, 8, 3, |inner| vec(inner, 0..3).prop_map(Value::Array))
        .boxed()
}

/// Keeps the entries whose keys the profile allows in one map: no reserved str key, and
/// none equal to an earlier key (PL-7; DM-2 compares numbers by value).
fn unique(profile: Profile, entries: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    for (k, v) in entries {
        if matches!(&k, Value::Str(s) if profile.reserved().contains(&s.as_str())) {
            continue;
        }
        let fits = match profile {
            Profile::PlaceholderV1 => {
                let mut keys: Vec<(Value, Value)> =
                    out.iter().map(|(k, _)| (k.clone(), Value::Nil)).collect();
                keys.push((k.clone(), Value::Nil));
                check_map_keys(&keys).is_ok()
            }
            Profile::Dask202311 => {
                check_dask_keys(out.iter().map(|(k, _)| k).chain(std::iter::once(&k))).is_ok()
            }
        };
        if fits {
            out.push((k, v));
        }
    }
    out
}

fn map_of(profile: Profile, values: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    vec((key(profile), values), 0..5).prop_map(move |entries| Value::Map(unique(profile, entries)))
}

/// A value without offloaded values, sets or enums: what a header may hold.
fn plain(profile: Profile) -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(2, 12, 4, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::Array),
                map_of(profile, inner),
            ]
        })
        .boxed()
}

/// A header in original form: str keys, no transport keys, no reserved keys (CE-13, DS-5).
fn header(profile: Profile) -> impl Strategy<Value = Vec<(Value, Value)>> {
    vec((text(), plain(profile)), 0..3).prop_map(move |entries| {
        let entries = entries
            .into_iter()
            .filter(|(k, _)| !profile.transport().contains(&k.as_str()))
            .map(|(k, v)| (Value::Str(k), v))
            .collect();
        unique(profile, entries)
    })
}

/// An offloaded value in original form (CE-8, DC-2).
fn materialized(profile: Profile) -> impl Strategy<Value = Value> {
    (header(profile), vec(bytes(40), 0..4))
        .prop_map(|(header, frames)| Value::Materialized(Box::new(Offloaded::new(header, frames))))
}

/// A `__Pickled__` value as a dask-2023.11 decoder yields it: `"pickled-obj"` first,
/// `"num-sub-frames"` last and equal to the buffers (DS-2, DS-6, DS-7).
fn pickled() -> impl Strategy<Value = Value> {
    (
        bytes(16),
        vec((text(), scalar()), 0..3),
        vec(bytes(16), 0..3),
    )
        .prop_map(|(obj, extra, frames)| {
            let mut header = vec![(Value::str("pickled-obj"), Value::Bin(obj))];
            for (k, v) in extra {
                let taken = ["pickled-obj", "num-sub-frames", "compression"].contains(&k.as_str())
                    || dask_2023_11::constants::RESERVED_KEYS.contains(&k.as_str())
                    || header.iter().any(|(h, _)| h.is_str(&k));
                if !taken {
                    header.push((Value::Str(k), v));
                }
            }
            header.push((
                Value::str("num-sub-frames"),
                Value::Int(frames.len() as i128),
            ));
            Value::Pickled(Box::new(Offloaded::new(header, frames)))
        })
}

/// A set of allowed, distinct keys (DM-12).
fn set() -> impl Strategy<Value = Value> {
    vec(key(Profile::Dask202311), 0..4).prop_map(|items| {
        let entries = items.into_iter().map(|k| (k, Value::Nil)).collect();
        Value::Set(
            unique(Profile::Dask202311, entries)
                .into_iter()
                .map(|(k, _)| k)
                .collect(),
        )
    })
}

fn enum_member() -> impl Strategy<Value = Value> {
    (text(), text(), text()).prop_map(|(module, class, name)| {
        Value::Enum(Box::new(EnumMember {
            module,
            class,
            name,
        }))
    })
}

/// A valid message of the profile: a map or an array holding scalars, containers,
/// offloaded values in original form, for dask-2023.11 also sets, enums and pickled values;
/// sometimes a byte string over placeholder-v1's raw threshold (HD-10).
fn message(profile: Profile) -> BoxedStrategy<Value> {
    let big = (any::<u8>(), 65_537usize..65_600).prop_map(|(b, n)| Value::Bin(vec![b; n]));
    let leaf = match profile {
        Profile::PlaceholderV1 => prop_oneof![
            12 => scalar(),
            3 => materialized(profile),
            1 => big,
        ]
        .boxed(),
        Profile::Dask202311 => prop_oneof![
            12 => scalar(),
            3 => materialized(profile),
            2 => pickled(),
            2 => set(),
            1 => enum_member(),
            1 => big,
        ]
        .boxed(),
    };
    let tree = leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            map_of(profile, inner),
        ]
    });
    let tree = tree.boxed();
    prop_oneof![
        vec(tree.clone(), 0..5).prop_map(Value::Array),
        map_of(profile, tree),
    ]
    .boxed()
}

fn options() -> impl Strategy<Value = EncodeOptions> {
    (
        prop_oneof![
            2 => Just(None),
            1 => Just(Some("lz4".to_owned())),
            1 => Just(Some("zlib".to_owned())),
        ],
        prop_oneof![1u64..=16, Just(64), Just(DEFAULT_SHARD_SIZE)],
    )
        .prop_map(|(compression, shard_size)| EncodeOptions {
            compression,
            shard_size,
        })
}

/// A profile with a valid message of it and encoder options.
fn valid() -> impl Strategy<Value = (Profile, Value, EncodeOptions)> {
    profile().prop_flat_map(|p| (Just(p), message(p), options()))
}

// ---------------------------------------------------------------------------------------
// Mutations.

/// A u64 to write over a prelude field: near the true value, or a hostile claim.
#[derive(Debug, Clone)]
enum Claim {
    Delta(i8),
    Exact(u64),
}

fn claim() -> impl Strategy<Value = Claim> {
    prop_oneof![
        any::<i8>().prop_map(Claim::Delta),
        prop_oneof![
            Just(0u64),
            Just(1),
            Just(2),
            Just(15),
            Just(16),
            Just(1 << 20),
            Just((1 << 20) + 1),
            Just(1 << 31),
            Just((1 << 31) + 1),
            Just(1 << 32),
            Just(1 << 63),
            Just(u64::MAX - 7),
            Just(u64::MAX),
            any::<u64>(),
        ]
        .prop_map(Claim::Exact),
    ]
}

/// One edit of a frame list.
#[derive(Debug, Clone)]
enum FrameEdit {
    Flip(Index, Index, u8),
    Set(Index, Index, u8),
    Truncate(Index, Index),
    Append(Index, Vec<u8>),
    /// Copies a run of one frame into another (or the same) frame.
    Splice(Index, Index, Index, Index, Index),
    Duplicate(Index, Index),
    Remove(Index),
    Swap(Index, Index),
    Insert(Index, Vec<u8>),
}

fn frame_edit() -> impl Strategy<Value = FrameEdit> {
    let i = any::<Index>;
    prop_oneof![
        4 => (i(), i(), 0u8..8).prop_map(|(f, b, bit)| FrameEdit::Flip(f, b, bit)),
        2 => (i(), i(), any::<u8>()).prop_map(|(f, b, v)| FrameEdit::Set(f, b, v)),
        2 => (i(), i()).prop_map(|(f, at)| FrameEdit::Truncate(f, at)),
        1 => (i(), vec(any::<u8>(), 1..8)).prop_map(|(f, b)| FrameEdit::Append(f, b)),
        2 => (i(), i(), i(), i(), i()).prop_map(|(a, b, c, d, e)| FrameEdit::Splice(a, b, c, d, e)),
        1 => (i(), i()).prop_map(|(f, at)| FrameEdit::Duplicate(f, at)),
        1 => i().prop_map(FrameEdit::Remove),
        1 => (i(), i()).prop_map(|(a, b)| FrameEdit::Swap(a, b)),
        1 => (i(), vec(any::<u8>(), 0..8)).prop_map(|(at, b)| FrameEdit::Insert(at, b)),
    ]
}

fn apply_frame_edit(frames: &mut Vec<Vec<u8>>, edit: &FrameEdit) {
    if frames.is_empty() {
        if let FrameEdit::Insert(_, bytes) = edit {
            frames.push(bytes.clone());
        }
        return;
    }
    let n = frames.len();
    match edit {
        FrameEdit::Flip(f, b, bit) => {
            let frame = &mut frames[f.index(n)];
            if !frame.is_empty() {
                let at = b.index(frame.len());
                frame[at] ^= 1 << bit;
            }
        }
        FrameEdit::Set(f, b, v) => {
            let frame = &mut frames[f.index(n)];
            if !frame.is_empty() {
                let at = b.index(frame.len());
                frame[at] = *v;
            }
        }
        FrameEdit::Truncate(f, at) => {
            let frame = &mut frames[f.index(n)];
            let cut = at.index(frame.len() + 1);
            frame.truncate(cut);
        }
        FrameEdit::Append(f, bytes) => frames[f.index(n)].extend_from_slice(bytes),
        FrameEdit::Splice(src, start, len, dst, at) => {
            let source = &frames[src.index(n)];
            let from = start.index(source.len() + 1);
            let to = from + len.index(source.len() - from + 1);
            let run = source[from..to].to_vec();
            let target = &mut frames[dst.index(n)];
            let at = at.index(target.len() + 1);
            target.splice(at..at, run);
        }
        FrameEdit::Duplicate(f, at) => {
            let copy = frames[f.index(n)].clone();
            frames.insert(at.index(n + 1), copy);
        }
        FrameEdit::Remove(f) => {
            frames.remove(f.index(n));
        }
        FrameEdit::Swap(a, b) => frames.swap(a.index(n), b.index(n)),
        FrameEdit::Insert(at, bytes) => frames.insert(at.index(n + 1), bytes.clone()),
    }
}

/// One edit of the bytes on the wire.
#[derive(Debug, Clone)]
enum WireEdit {
    Flip(Index, u8),
    Truncate(Index),
    /// Overwrites one u64 field of the prelude (H, N or a length).
    Prelude(Index, Claim),
    /// Copies a run of the bytes to another place (inserted).
    Splice(Index, Index, Index),
    Append(Vec<u8>),
}

fn wire_edit() -> impl Strategy<Value = WireEdit> {
    let i = any::<Index>;
    prop_oneof![
        3 => (i(), 0u8..8).prop_map(|(at, bit)| WireEdit::Flip(at, bit)),
        2 => i().prop_map(WireEdit::Truncate),
        4 => (i(), claim()).prop_map(|(slot, c)| WireEdit::Prelude(slot, c)),
        1 => (i(), i(), i()).prop_map(|(a, b, c)| WireEdit::Splice(a, b, c)),
        1 => vec(any::<u8>(), 1..24).prop_map(WireEdit::Append),
    ]
}

fn apply_wire_edit(profile: Profile, frames: usize, wire: &mut Vec<u8>, edit: &WireEdit) {
    match edit {
        WireEdit::Flip(at, bit) if !wire.is_empty() => {
            let at = at.index(wire.len());
            wire[at] ^= 1 << bit;
        }
        WireEdit::Flip(..) => {}
        WireEdit::Truncate(at) => {
            let cut = at.index(wire.len() + 1);
            wire.truncate(cut);
        }
        WireEdit::Prelude(slot, claim) => {
            let at = 8 * slot.index(profile.prelude_slots(frames));
            if let Some(field) = wire.get_mut(at..at + 8) {
                let old = u64::from_le_bytes(field.try_into().expect("8 bytes"));
                let new = match claim {
                    Claim::Delta(d) => old.wrapping_add_signed(i64::from(*d)),
                    Claim::Exact(v) => *v,
                };
                field.copy_from_slice(&new.to_le_bytes());
            }
        }
        WireEdit::Splice(start, len, at) => {
            let from = start.index(wire.len() + 1);
            let to = from + len.index(wire.len() - from + 1);
            let run = wire[from..to].to_vec();
            let at = at.index(wire.len() + 1);
            wire.splice(at..at, run);
        }
        WireEdit::Append(bytes) => wire.extend_from_slice(bytes),
    }
}

// ---------------------------------------------------------------------------------------
// Hostile claims.

/// Nested msgpack containers, each claiming far more entries than follow, then `filler`
/// nils: a reader that reserves for every claim at every level multiplies the input.
fn nested_claims(kinds: &[u8], filler: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for kind in kinds {
        match kind % 4 {
            0 => out.extend_from_slice(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
            1 => out.extend_from_slice(&[0xdf, 0xff, 0xff, 0xff, 0xff]),
            2 => out.extend_from_slice(&[0xdc, 0xff, 0xff]),
            _ => out.extend_from_slice(&[0xde, 0xff, 0xff]),
        }
    }
    out.resize(out.len() + filler, 0xc0);
    out
}

/// What decoding may allocate per input byte: a 1-byte msgpack value becomes a 32-byte
/// [`Value`], vectors grow by doubling, containers reserve room (at most the input's size
/// in all), and maps keep a set of their keys. Reserving for each nested claim instead
/// costs 32 bytes per input byte per level, up to 256 levels.
const PER_INPUT_BYTE: usize = 192;

fn config() -> ProptestConfig {
    // PROPTEST_CASES sets the cases of every property; without it, each runs 256 (the
    // file takes about a second in release, a few in debug).
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary frame lists: a value or one of the decoder's categories, both modes.
    #[test]
    fn arbitrary_frames_decode_or_are_categorized(
        profile in profile(),
        frames in vec(vec(any::<u8>(), 0..48), 0..6),
    ) {
        decode_both(profile, &frames);
    }

    /// Arbitrary bytes, and packed arbitrary frame lists with a random tail: `unpack` and
    /// the stream reader agree, do not depend on chunking, and report framing categories.
    #[test]
    fn arbitrary_bytes_unpack_or_are_categorized(
        profile in profile(),
        raw in vec(any::<u8>(), 0..160),
        messages in vec(vec(vec(any::<u8>(), 0..24), 0..4), 0..3),
        packed in any::<bool>(),
        chunks in vec(1usize..40, 1..4),
    ) {
        let bytes = if packed {
            let mut out: Vec<u8> = messages.iter().flat_map(|m| profile.pack(m)).collect();
            out.extend_from_slice(&raw[..raw.len().min(12)]);
            out
        } else {
            raw
        };
        check_framing(profile, &bytes, &chunks);
    }

    /// Valid messages with their frames mutated: never a panic, only decoder categories.
    #[test]
    fn mutated_frames_decode_or_are_categorized(
        (profile, value, options) in valid(),
        edits in vec(frame_edit(), 1..5),
    ) {
        let mut frames = profile.encode(&value, &options).expect("a valid message encodes");
        for edit in &edits {
            apply_frame_edit(&mut frames, edit);
        }
        decode_both(profile, &frames);
    }

    /// Valid messages packed, then the bytes mutated (flips, truncation, splices and
    /// prelude fields: H, N, lengths): framing categories, chunking-independent streams.
    #[test]
    fn mutated_wire_unpacks_or_is_categorized(
        (profile, value, options) in valid(),
        edits in vec(wire_edit(), 1..4),
        chunks in vec(1usize..64, 1..4),
    ) {
        let frames = profile.encode(&value, &options).expect("a valid message encodes");
        let mut wire = profile.pack(&frames);
        for edit in &edits {
            apply_wire_edit(profile, frames.len(), &mut wire, edit);
        }
        check_framing(profile, &wire, &chunks);
    }

    /// Round trip: a valid message encodes; consuming decode gives the same value; both
    /// receivers' output re-encodes to the same frames (forwarding: wire form passed
    /// through, DR-3/CE-5; consuming: the same shards and codec choices); the framing
    /// round-trips whole and in chunks.
    #[test]
    fn valid_messages_round_trip(
        (profile, value, options) in valid(),
        chunks in vec(1usize..64, 1..4),
    ) {
        let frames = profile.encode(&value, &options).expect("a valid message encodes");
        let consumed = profile.decode(frames.clone(), Mode::Consuming).expect("consuming decode");
        prop_assert!(same(&consumed, &value), "consuming decode gave {consumed:?}");
        let forwarded = profile.decode(frames.clone(), Mode::Forwarding).expect("forwarding decode");
        prop_assert_eq!(&profile.encode(&forwarded, &options).expect("re-encode"), &frames);
        prop_assert_eq!(&profile.encode(&consumed, &options).expect("re-encode"), &frames);
        let wire = profile.pack(&frames);
        prop_assert_eq!(&profile.unpack(&wire).expect("unpack"), &frames);
        let mut twice = wire.clone();
        twice.extend_from_slice(&wire);
        prop_assert_eq!(stream(profile, &twice, &chunks), (vec![frames.clone(), frames], None));
    }

    /// Huge counts and lengths in a prelude are refused (or wait for bytes that never
    /// come) without allocating for them: the peak stays within a few times the input.
    #[test]
    fn huge_prelude_claims_allocate_nothing_for_them(
        profile in profile(),
        hint in prop_oneof![Just(None), claim().prop_map(Some)],
        count in prop_oneof![
            Just(u64::MAX), Just(u64::MAX - 1), Just(1u64 << 63), Just(1 << 32),
            Just((1 << 20) + 1), Just(1 << 20), 0u64..4, any::<u64>(),
        ],
        lengths in vec(prop_oneof![
            Just(u64::MAX), Just(1u64 << 63), Just(1 << 32), Just(1 << 31),
            Just((1 << 31) + 1), 0u64..64, any::<u64>(),
        ], 0..6),
        tail in vec(any::<u8>(), 0..64),
        chunks in vec(1usize..16, 1..3),
    ) {
        let mut bytes = Vec::new();
        if profile == Profile::Dask202311 {
            let h = match hint {
                None => 8 + 8 * count.min(1 << 20),
                Some(Claim::Delta(d)) => (8 + 8 * lengths.len() as u64).wrapping_add_signed(d.into()),
                Some(Claim::Exact(h)) => h,
            };
            bytes.extend_from_slice(&h.to_le_bytes());
        }
        bytes.extend_from_slice(&count.to_le_bytes());
        for length in &lengths {
            bytes.extend_from_slice(&length.to_le_bytes());
        }
        bytes.extend_from_slice(&tail);
        let limit = 4 * bytes.len() + 4096;
        let (unpacked, peak) = peak_allocation(|| profile.unpack(&bytes));
        prop_assert!(peak <= limit, "unpack allocated {peak} bytes for {} input bytes", bytes.len());
        let (streamed, peak) = peak_allocation(|| stream(profile, &bytes, &chunks));
        prop_assert!(peak <= limit, "the stream allocated {peak} bytes for {} input bytes", bytes.len());
        let (limits, max) = (Limits::default(), Limits::default().max_frames);
        let hint_ok = profile == Profile::PlaceholderV1
            || (16..=limits.max_message_bytes).contains(&u64::from_le_bytes(bytes[..8].try_into().unwrap()));
        if count > max && hint_ok {
            prop_assert_eq!(unpacked.as_ref().map_err(Error::category), Err("limit-exceeded"));
            prop_assert_eq!(streamed.1, Some("limit-exceeded"));
        }
        check_framing(profile, &bytes, &chunks);
    }

    /// Nested containers each claiming 2**16-1 or 2**32-1 entries in frame 0, frame 1 or a
    /// sub-header, and lz4 frames declaring more than the ratio allows: refused, and the
    /// decoder's peak allocation stays proportional to the input, not to the claims.
    #[test]
    fn huge_payload_claims_allocate_nothing_for_them(
        profile in profile(),
        kinds in vec(any::<u8>(), 1..255),
        filler in 0usize..12_000,
        in_sub_header in any::<bool>(),
        declared in prop_oneof![Just(u32::MAX), Just(1u32 << 31), any::<u32>()],
        block in vec(any::<u8>(), 1..16),
    ) {
        let payload = nested_claims(&kinds, filler);
        let frames = match profile {
            Profile::PlaceholderV1 => vec![Vec::new(), payload],
            Profile::Dask202311 if in_sub_header => {
                // [{"__Serialized__": 1}], then the hostile sub-header.
                let mut frame0 = vec![0x91, 0x81, 0xae];
                frame0.extend_from_slice(b"__Serialized__");
                frame0.push(0x01);
                vec![frame0, payload]
            }
            Profile::Dask202311 => vec![payload],
        };
        let size: usize = frames.iter().map(Vec::len).sum();
        for mode in [Mode::Forwarding, Mode::Consuming] {
            let (got, peak) = peak_allocation(|| profile.decode(frames.clone(), mode));
            prop_assert!(got.is_err(), "{got:?}");
            check_decoded(profile, &got, mode.name());
            prop_assert!(
                peak <= PER_INPUT_BYTE * size + (64 << 10),
                "{profile:?} {mode:?}: {peak} bytes allocated for a {size}-byte message"
            );
        }
        // An lz4 frame whose size prefix claims more than max_decompression_ratio allows.
        let mut lz4 = declared.to_le_bytes().to_vec();
        lz4.extend_from_slice(&block);
        let frames = match profile {
            Profile::PlaceholderV1 => {
                // {"compression": "lz4"}, then the payload claim.
                let mut frame0 = vec![0x81, 0xab];
                frame0.extend_from_slice(b"compression");
                frame0.extend_from_slice(&[0xa3, b'l', b'z', b'4']);
                vec![frame0, lz4]
            }
            Profile::Dask202311 => {
                // [{"__Serialized__": 1}], {"num-sub-frames": 1, "compression": ["lz4"]}, data.
                let mut frame0 = vec![0x91, 0x81, 0xae];
                frame0.extend_from_slice(b"__Serialized__");
                frame0.push(0x01);
                let sub = daskwire_rs::msgpack::to_vec(&Value::Map(vec![
                    (Value::str("num-sub-frames"), Value::Int(1)),
                    (Value::str("compression"), Value::Array(vec![Value::str("lz4")])),
                ])).unwrap();
                vec![frame0, sub, lz4]
            }
        };
        let ratio = Limits::default().max_decompression_ratio;
        if u64::from(declared) > ratio * block.len() as u64 {
            let (got, peak) = peak_allocation(|| profile.decode(frames.clone(), Mode::Consuming));
            prop_assert_eq!(got.map_err(|e| e.category()), Err("limit-exceeded"));
            prop_assert!(peak <= 64 << 10, "{peak} bytes allocated for an lz4 claim of {declared}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Regressions: counterexamples the properties found, kept as plain tests.

/// zlib output over 64 KiB did not decode: the first inflate call used `Finish`, which
/// miniz_oxide treats as one-shot decompression into the room given (64 KiB), failing for
/// good when the output is larger. Found by `valid_messages_round_trip`: a byte string
/// over placeholder-v1's raw threshold (HD-10), compressed with zlib.
#[test]
fn zlib_output_over_64_kib_decodes() {
    for size in [65_536usize, 65_537, 200_000] {
        let data: Vec<u8> = (0..size).map(|i| (i % 7) as u8).collect();
        let packed = daskwire_rs::codecs::compress("zlib", &data).unwrap();
        let got = daskwire_rs::codecs::decompress("zlib", &packed, &Limits::default());
        assert_eq!(got.as_deref(), Ok(&data[..]), "size {size}");
        // A truncated stream is still refused.
        let cut = daskwire_rs::codecs::decompress(
            "zlib",
            &packed[..packed.len() - 3],
            &Limits::default(),
        );
        assert_eq!(cut.unwrap_err().category(), "invalid-compressed-data");
    }
    let message = Value::Array(vec![Value::Bin(vec![0; 70_000])]);
    let options = EncodeOptions {
        compression: Some("zlib".into()),
        ..EncodeOptions::default()
    };
    for profile in [Profile::PlaceholderV1, Profile::Dask202311] {
        let frames = profile.encode(&message, &options).unwrap();
        let back = profile.decode(frames, Mode::Consuming).unwrap();
        assert!(same(&back, &message), "{profile:?}");
    }
}

/// Nested msgpack containers each claiming 2**32-1 entries made every level reserve room
/// for the whole rest of the input (about 32 bytes per input byte per level, so a few MiB
/// of input could reserve GiBs). Found by `huge_payload_claims_allocate_nothing_for_them`;
/// the reader now draws every reservation from one budget of the input's size.
#[test]
fn nested_claims_share_one_reservation_budget() {
    let payload = nested_claims(&[0; 200], 50_000);
    let size = payload.len();
    let frames = vec![Vec::new(), payload];
    let (got, peak) =
        peak_allocation(|| daskwire_rs::decode(frames, Mode::Consuming, &Limits::default()));
    assert_eq!(got.unwrap_err().category(), "invalid-msgpack");
    assert!(
        peak <= PER_INPUT_BYTE * size,
        "{peak} bytes allocated for {size} input bytes"
    );
}
