//! Profile `placeholder-v1`: in-place placeholders (dask/distributed PR #3809).
//!
//! The crate root re-exports these modules (`crate::decode`, `crate::encode`,
//! `crate::header`, `crate::wire`), so existing paths keep working.

pub mod decode;
pub mod encode;
pub mod header;
pub mod keys;
pub mod wire;

pub use keys::{RESERVED_KEYS, TRANSPORT_KEYS};

/// The profile's name, as the harness and the vectors spell it.
pub const PROFILE: &str = "placeholder-v1";
