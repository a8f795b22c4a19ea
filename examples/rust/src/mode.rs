//! The two receiver modes shared by both profiles (RX-1, RX-2; DR-1, DR-4).

/// What a receiver does with offloaded values (RX-1, RX-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keep header and wire frames opaque, to re-send them ([`crate::Value::Offloaded`];
    /// dask-2023.11 also [`crate::Value::Pickled`]).
    Forwarding,
    /// Decompress and merge the frames ([`crate::Value::Materialized`]).
    Consuming,
}

impl Mode {
    /// The mode's name in the harness protocol.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Forwarding => "forwarding",
            Mode::Consuming => "consuming",
        }
    }
}
