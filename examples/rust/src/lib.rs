//! A typed Rust implementation of daskwire, Dask's frame encoding with in-place
//! placeholders (profile `placeholder-v1`, the format of dask/distributed PR #3809).
//!
//! * [`decode()`] turns a frame list into a [`Value`], checking every requirement of a
//!   decoder in the spec's layer order; [`encode()`] writes canonical frames.
//! * [`pack`] / [`unpack`] / [`FrameReader`] handle the wire framing.
//! * [`typed`] maps messages onto strict serde types in which any field may be an
//!   [`Offloadable<T>`]: either the value in place or an offloaded header and frames.
//! * [`messages`] models two real Dask messages, `compute-task` and `update-graph`.
//! * [`harness`] speaks the conformance harness protocol (the `daskwire-rs` binary).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codecs;
pub mod decode;
pub mod encode;
pub mod error;
pub mod harness;
pub mod header;
pub mod hex;
pub mod limits;
pub mod messages;
pub mod msgpack;
pub mod notation;
pub mod typed;
pub mod value;
pub mod wire;

pub use decode::{Mode, decode};
pub use encode::{EncodeOptions, encode, encode_with_limits};
pub use error::{Error, Limit, Result};
pub use limits::{DEFAULT_LIMITS, Limits};
pub use typed::Offloadable;
pub use value::{Map, Offloaded, Value};
pub use wire::{FrameReader, pack, unpack};

/// The profile this crate implements.
pub const PROFILE: &str = "placeholder-v1";

/// The spec version this crate follows.
pub const SPEC_VERSION: &str = "2.0.0";
