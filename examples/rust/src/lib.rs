//! A typed Rust implementation of daskwire, Dask's wire protocol, in two profiles:
//! `placeholder-v1` (in-place placeholders, dask/distributed PR #3809; folder
//! [`placeholder_v1`]) and `dask-2023.11` (the format distributed writes today: index
//! markers, sub-headers, a no-split read hint; folder [`dask_2023_11`]). Each profile's
//! folder holds everything that differs per profile (its framing, markers or placeholders,
//! header keys and map-key rules); the modules at the top are shared by both.
//!
//! * [`decode()`] (placeholder-v1) turns a frame list into a [`Value`], checking every
//!   requirement of a decoder in the spec's layer order; [`encode()`] writes canonical
//!   frames with [`EncodeOptions`] (shared by both profiles, [`options`]).
//! * [`pack`] / [`unpack`] / [`FrameReader`] handle placeholder-v1's wire framing, over
//!   the shared stream machinery of [`framing`].
//! * [`dask_2023_11::decode()`] / [`dask_2023_11::encode()`] do the same for
//!   `dask-2023.11`, with [`dask_2023_11::pack`] / [`dask_2023_11::unpack`] /
//!   [`dask_2023_11::stream_reader`] for its TCP framing and [`dask_2023_11::handshake`]
//!   for the comm handshake.
//! * [`msgpack`] is the shared bounded reader and shortest-form writer; each profile gives
//!   the reader its map-key rules as a [`msgpack::KeyPolicy`].
//! * [`typed`] maps messages onto strict serde types in which any field may be an
//!   [`Offloadable<T>`]: either the value in place or an offloaded header and frames.
//! * [`ops`] models the real Dask messages (the ops of distributed 2026.8.0) for both
//!   profiles; [`messages`] models two Dask 2.16 messages, `compute-task` and
//!   `update-graph`, in placeholder-v1.
//! * [`harness`] speaks the conformance harness protocol (the `daskwire-rs` binary):
//!   version 2, declaring both profiles, when the runner offers it, else version 1
//!   (placeholder-v1 only).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codecs;
pub mod dask_2023_11;
pub mod error;
pub mod framing;
pub mod harness;
pub mod hex;
pub mod limits;
pub mod messages;
pub mod mode;
pub mod msgpack;
pub mod notation;
pub mod ops;
pub mod options;
pub mod placeholder_v1;
pub mod typed;
pub mod value;

pub use placeholder_v1::{decode, encode, header, wire};

pub use decode::{Mode, decode};
pub use encode::{encode, encode_with_limits};
pub use error::{Error, Limit, Result};
pub use limits::{DEFAULT_LIMITS, Limits};
pub use options::EncodeOptions;
pub use typed::Offloadable;
pub use value::{Map, Offloaded, Value};
pub use wire::{FrameReader, pack, unpack};

/// The profile of the crate-root API ([`decode()`], [`encode()`], [`pack`], [`unpack`],
/// [`FrameReader`]) and of harness protocol version 1; `dask-2023.11` is
/// [`dask_2023_11::PROFILE`].
pub const PROFILE: &str = placeholder_v1::PROFILE;

/// The spec version this crate follows.
pub const SPEC_VERSION: &str = "2.0.0";
