//! Profile `dask-2023.11`: the format Dask's `distributed` writes from 2023.11.0 on.
//!
//! Frame 0 holds the message with index markers (`{"__Serialized__": i}`,
//! `{"__Pickled__": i}`) and inline markers (`__Set__`, `__Enum__`); frame `i` of an index
//! marker is its sub-header, followed by its data frames; on TCP a u64 no-split read hint
//! precedes the frame count and lengths.
//!
//! * [`decode()`]: frames to a [`crate::Value`], forwarding or consuming ([`crate::Mode`]);
//! * [`encode()`] / [`encode_with_limits`]: canonical frames (DC-1, DC-2);
//! * [`pack`] / [`unpack`] / [`stream_reader`]: the TCP framing (DT-*);
//! * [`handshake`]: the comm handshake (DK-*);
//! * [`keys`]: the map-key rules (DM-2), the key policy frame 0 and sub-headers are read with.
//!
//! Nothing here unpickles or imports anything (DP-1): `__Pickled__` values are yielded as
//! [`crate::Value::Pickled`], in wire form, in both modes.

pub mod constants;
pub mod decode;
pub mod encode;
pub mod handshake;
pub mod keys;
pub mod markers;
pub mod sub_header;
pub mod wire;

pub use decode::decode;
pub use encode::{encode, encode_with_limits};
pub use wire::{pack, stream_reader, unpack};

/// The profile's name, as the harness and the vectors spell it.
pub const PROFILE: &str = "dask-2023.11";
