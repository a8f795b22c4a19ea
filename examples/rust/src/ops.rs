//! The messages of Dask 2026.8.0 as strict serde types, for both profiles.
//!
//! The field sets come from a LocalCluster capture of distributed 2026.8.0
//! (`bench/dask_wire.py`; a sample is `tests/data/dask-2026.8.0/` of the repository), decoded
//! with the kit's reference: every field a message of that op carried is here, with the type
//! it had, and unknown fields are rejected (`deny_unknown_fields`). The same types read both
//! profiles: the corpus's messages as distributed wrote them (`dask-2023.11`) and the same
//! messages carried into `placeholder-v1` by the reference (`scripts/export-rust-corpus.py`).
//!
//! A field the sender may ship out of line has one of two field types:
//! * [`Offloadable<T>`]: a value distributed wraps in `Serialize` (a `__Serialized__` marker in
//!   dask-2023.11, a placeholder in placeholder-v1), or `T` in place;
//! * [`Pickle`]: a value distributed wraps in `ToPickle` (a `__Pickled__` marker in
//!   dask-2023.11; in the placeholder-v1 corpus an offloaded value whose header holds the
//!   `"pickled-obj"` bytes). Its bytes are opaque: nothing here unpickles.
//!
//! Entry points: [`Message::from_value`] for any message (a batch of ops, one op, or a
//! value the types do not model, kept as a [`Value`]), and [`Handshake::from_value`] for the
//! first message of a comm (the one type that is not strict: it reads the handshake as spec
//! DK-3 says a receiver must, ignoring every key but two). Both take the output of a *forwarding* decode, in which offloaded
//! values are in wire form.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::fmt;

use crate::typed::{Offloadable, OrderedMap, TypedError, from_value, to_value};
use crate::value::{Map, Offloaded, Value};

// ---------------------------------------------------------------------------------------
// Field types

/// A Dask key: a str, or a tuple of str and int parts (`("sum-12ae", 2)`), nested at will.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A str key, e.g. `"_inc-c2b2..."`.
    Str(String),
    /// An int part of a tuple key.
    Int(i64),
    /// A tuple key; on the wire an array.
    Tuple(Vec<Key>),
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Key::Str(s) => serializer.serialize_str(s),
            Key::Int(i) => serializer.serialize_i64(*i),
            Key::Tuple(parts) => {
                let mut seq = serializer.serialize_seq(Some(parts.len()))?;
                for part in parts {
                    seq.serialize_element(part)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Dask key (a str, an int, or an array of keys)")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key::Str(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                i64::try_from(v)
                    .map(Key::Int)
                    .map_err(|_| E::custom("a key part above i64"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                Ok(Key::Tuple(parts))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// A value distributed sends as `ToPickle`: opaque pickle bytes plus out-of-band buffers.
///
/// dask-2023.11 carries it as a `__Pickled__` marker whose sub-header holds the pickle
/// (`"pickled-obj"`) and whose data frames are the buffers (DP-2); the placeholder-v1 corpus
/// carries it as an offloaded value with the same `"pickled-obj"` in its header.
#[derive(Debug, Clone, PartialEq)]
pub enum Pickle {
    /// dask-2023.11: the sub-header (transport keys included) and the buffers, as on the wire.
    Pickled {
        /// The sub-header, `"pickled-obj"` included.
        header: Map,
        /// The out-of-band buffers, as on the wire.
        frames: Vec<Vec<u8>>,
    },
    /// placeholder-v1: the offloaded value in wire form.
    Offloaded {
        /// The header, `"pickled-obj"` and transport keys included.
        header: Map,
        /// The frames, as on the wire.
        frames: Vec<Vec<u8>>,
    },
}

impl Pickle {
    /// The pickle's bytes (`"pickled-obj"`), never loaded.
    pub fn pickled_obj(&self) -> Option<&[u8]> {
        let (Pickle::Pickled { header, .. } | Pickle::Offloaded { header, .. }) = self;
        header.iter().find_map(|(k, v)| match v {
            Value::Bin(bytes) if k.is_str("pickled-obj") => Some(bytes.as_slice()),
            _ => None,
        })
    }
}

impl Serialize for Pickle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Pickle::Pickled { header, frames } => {
                Value::Pickled(Box::new(Offloaded::new(header.clone(), frames.clone())))
                    .serialize(serializer)
            }
            Pickle::Offloaded { header, frames } => {
                Value::Offloaded(Box::new(Offloaded::new(header.clone(), frames.clone())))
                    .serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Pickle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pickle = match Value::deserialize(deserializer)? {
            Value::Offloaded(node) => Pickle::Offloaded {
                header: node.header,
                frames: node.frames,
            },
            Value::Pickled(node) => Pickle::Pickled {
                header: node.header,
                frames: node.frames,
            },
            other => {
                return Err(de::Error::custom(format!(
                    "expected a pickled value, found a {}",
                    other.type_name()
                )));
            }
        };
        // An offloaded value is a pickle only when it carries one: the `"pickled-obj"` bin
        // that the corpus conversion keeps in the header (a `__Pickled__` marker always
        // has it, DS-6).
        if pickle.pickled_obj().is_none() {
            return Err(de::Error::custom(
                "a pickled value without a \"pickled-obj\" bin in its header",
            ));
        }
        Ok(pickle)
    }
}

/// One entry of `startstops`: what a worker did for a task and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartStop {
    /// `"compute"`, `"transfer"`, `"disk-read"`, ...
    pub action: String,
    /// Start time (seconds since the epoch).
    pub start: f64,
    /// Stop time.
    pub stop: f64,
    /// For a transfer: the worker the data came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Messages

/// The comm handshake: the first message each side writes on a new comm
/// (`distributed/comm/core.py: Comm.handshake_info`; spec DK-2, DK-3).
///
/// Read as DK-3 says a receiver reads it: a map with the str keys `"compression"` (a str or
/// nil) and `"pickle-protocol"` (a non-negative integer; a bool is not one). Every other key
/// is ignored, `"python"` included whatever its value: a handshake without `"python"` is
/// accepted. `python` keeps that key's value when it is there (informative only), so that a
/// handshake written again has the three keys of DK-2 in their order; other keys are dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handshake {
    /// The codec this side offers (`distributed.comm.compression`), or nil.
    pub compression: Option<String>,
    /// `sys.version_info[:3]` of the writer as it came, if the key was there; never checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<Value>,
    /// The highest pickle protocol this side reads.
    #[serde(rename = "pickle-protocol")]
    pub pickle_protocol: u64,
}

impl Handshake {
    /// Reads a handshake from a decoded message (DK-3).
    pub fn from_value(value: Value) -> Result<Self, TypedError> {
        from_value(value)
    }

    fn from_map(value: Value) -> Result<Self, String> {
        let Value::Map(entries) = value else {
            return Err(format!("a handshake is a map, not a {}", value.type_name()));
        };
        let field = |name: &str| entries.iter().find(|(k, _)| k.is_str(name)).map(|(_, v)| v);
        let compression = match field("compression") {
            None => return Err("the handshake lacks the str key \"compression\"".into()),
            Some(Value::Nil) => None,
            Some(Value::Str(codec)) => Some(codec.clone()),
            Some(other) => {
                return Err(format!(
                    "\"compression\" is a str or nil, not a {}",
                    other.type_name()
                ));
            }
        };
        let pickle_protocol = match field("pickle-protocol") {
            None => return Err("the handshake lacks the str key \"pickle-protocol\"".into()),
            Some(Value::Int(n)) => u64::try_from(*n)
                .map_err(|_| format!("\"pickle-protocol\" is a non-negative integer, not {n}"))?,
            Some(other) => {
                return Err(format!(
                    "\"pickle-protocol\" is a non-negative integer, not a {}",
                    other.type_name()
                ));
            }
        };
        Ok(Handshake {
            compression,
            python: field("python").cloned(),
            pickle_protocol,
        })
    }
}

impl<'de> Deserialize<'de> for Handshake {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through a Value, not a derived struct: a derived struct would take an int key as a
        // field index and a bin key as a field name, where DK-3 asks for str keys.
        Handshake::from_map(Value::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// `task-finished` (worker to scheduler, batched stream):
/// `distributed/worker_state_machine.py: TaskFinishedMsg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFinished {
    /// The task.
    pub key: Key,
    /// The run this result belongs to.
    pub run_id: i64,
    /// Size of the result in bytes.
    pub nbytes: u64,
    /// The result's type, pickled (opaque bytes).
    #[serde(rename = "type")]
    pub type_: ByteBuf,
    /// The result's type name, e.g. `"numpy.ndarray"`.
    pub typename: String,
    /// Task metadata.
    pub metadata: OrderedMap<String, Value>,
    /// The thread that ran it.
    pub thread: Option<u64>,
    /// What the worker did, and when.
    pub startstops: Vec<StartStop>,
    /// Why (the stimulus).
    pub stimulus_id: String,
    /// `"OK"`.
    pub status: String,
}

/// `compute-task` (scheduler to worker, batched stream):
/// `distributed/scheduler.py: _task_to_msg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeTask {
    /// The task.
    pub key: Key,
    /// The run id.
    pub run_id: i64,
    /// The scheduler's priority tuple.
    pub priority: Vec<i64>,
    /// Why (the stimulus).
    pub stimulus_id: String,
    /// Where each dependency lives.
    pub who_has: OrderedMap<Key, Vec<String>>,
    /// Size of each dependency.
    pub nbytes: OrderedMap<Key, u64>,
    /// The task spec, sent as `ToPickle`.
    pub run_spec: Pickle,
    /// Abstract resources the task needs.
    pub resource_restrictions: Option<OrderedMap<String, f64>>,
    /// True when the task creates an actor.
    pub actor: bool,
    /// Task annotations (`workers`, `retries`, ... and anything a user adds).
    pub annotations: OrderedMap<String, Value>,
    /// The span the task belongs to.
    pub span_id: Option<String>,
}

/// `free-keys` (scheduler to worker): forget tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeKeys {
    /// The tasks.
    pub keys: Vec<Key>,
    /// Why (the stimulus).
    pub stimulus_id: String,
}

/// `release-worker-data` (worker to scheduler): the worker dropped a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseWorkerData {
    /// The task.
    pub key: Key,
    /// Why (the stimulus).
    pub stimulus_id: String,
}

/// `add-keys` (worker to scheduler): the worker holds these results now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddKeys {
    /// The tasks.
    pub keys: Vec<Key>,
    /// Why (the stimulus).
    pub stimulus_id: String,
}

/// `get_data` (worker to worker, an RPC): fetch results. `keys` is a set in dask-2023.11
/// (an array in placeholder-v1), read here as a list in wire order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetData {
    /// The tasks.
    pub keys: Vec<Key>,
    /// The asking worker's address.
    pub who: Option<String>,
    /// Whether a reply is expected.
    pub reply: bool,
}

/// `heartbeat_worker` (worker to scheduler, an RPC): `distributed/worker.py: heartbeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatWorker {
    /// The worker's address.
    pub address: String,
    /// The worker's clock.
    pub now: f64,
    /// Nested metrics, some keyed by tuples; kept as a value.
    pub metrics: Value,
    /// Key to seconds executing so far.
    pub executing: OrderedMap<Key, f64>,
    /// Per-extension heartbeat data (e.g. `"spans"`, `"shuffle"`).
    pub extensions: OrderedMap<String, Value>,
    /// Whether a reply is expected.
    pub reply: bool,
}

/// `shuffle_receive` (worker to worker, an RPC): one batch of shuffle shards, serialized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleReceive {
    /// The shards, sent as `Serialize` (bytes).
    pub data: Offloadable<ByteBuf>,
    /// The shuffle.
    pub shuffle_id: String,
    /// Its run.
    pub run_id: i64,
    /// Whether a reply is expected.
    pub reply: bool,
}

/// `set_metadata` (client to scheduler, an RPC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetMetadata {
    /// The path into the scheduler's metadata.
    pub keys: Vec<String>,
    /// Any value.
    pub value: Value,
    /// Whether a reply is expected.
    pub reply: bool,
}

/// `update-graph` (client to scheduler, batched stream): `distributed/client.py:
/// _graph_to_futures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGraph {
    /// The expression, sent as `Serialize` (pickle serializer, many buffers).
    pub expr_ser: Offloadable<ByteBuf>,
    /// The keys the client wants (a set in dask-2023.11).
    pub keys: Vec<Key>,
    /// Key to graph-order priority.
    pub internal_priority: Option<OrderedMap<Key, i64>>,
    /// The task that submits, when a task submits tasks.
    pub submitting_task: Option<Key>,
    /// A duration such as `"60s"` (or seconds).
    pub fifo_timeout: Value,
    /// Actor keys, or a bool for all / none.
    pub actors: Option<Value>,
    /// The client's code snippets, sent as `ToPickle`.
    pub code: Pickle,
    /// Annotations, sent as `ToPickle`.
    pub annotations: Pickle,
    /// Span metadata, sent as `ToPickle`.
    pub span_metadata: Pickle,
}

/// `register-worker` (worker to scheduler, the first message of its stream):
/// `distributed/worker.py: _register_with_scheduler`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterWorker {
    /// Whether a reply is expected.
    pub reply: bool,
    /// The worker's address.
    pub address: String,
    /// The worker's status, e.g. `"init"`.
    pub status: String,
    /// Threads.
    pub nthreads: u32,
    /// The worker's name (an int or a str).
    pub name: Value,
    /// The worker's clock.
    pub now: f64,
    /// Abstract resources.
    pub resources: OrderedMap<String, f64>,
    /// Memory limit in bytes.
    pub memory_limit: Option<u64>,
    /// Scratch folder.
    pub local_directory: String,
    /// Service name to port.
    pub services: OrderedMap<String, u16>,
    /// The nanny's address.
    pub nanny: Option<String>,
    /// Process id.
    pub pid: u32,
    /// Package versions.
    pub versions: Value,
    /// Nested metrics.
    pub metrics: Value,
    /// Extra data from plugins.
    pub extra: OrderedMap<String, Value>,
    /// Why (the stimulus).
    pub stimulus_id: String,
    /// The worker's server id.
    pub server_id: String,
}

/// `task-erred`: worker to scheduler (`TaskErredMsg`, all fields) and scheduler to client
/// (`key`, `exception`, `traceback` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskErred {
    /// The task.
    pub key: Key,
    /// The run id (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// The exception, sent as `Serialize`.
    pub exception: Offloadable<ByteBuf>,
    /// The traceback, sent as `Serialize`.
    pub traceback: Offloadable<ByteBuf>,
    /// The exception as text (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_text: Option<String>,
    /// The traceback as text (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback_text: Option<String>,
    /// The thread that ran it (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<u64>,
    /// What the worker did (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startstops: Option<Vec<StartStop>>,
    /// Why (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stimulus_id: Option<String>,
    /// `"error"` (worker to scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `client-releases-keys` (client to scheduler, batched stream): the client no longer
/// wants these results (`distributed/client.py: Client._release_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientReleasesKeys {
    /// The tasks.
    pub keys: Vec<Key>,
    /// The client's id, e.g. `"Client-bbfcea93-..."`.
    pub client: String,
}

/// `key-in-memory` (scheduler to client, batched stream): a result the client wants is
/// ready (`distributed/scheduler.py: _add_to_memory`, `_task_to_report_msg`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInMemory {
    /// The task.
    pub key: Key,
    /// The result's type, pickled (opaque bytes); absent when the scheduler reports a key
    /// that was already in memory.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ByteBuf>,
}

/// `identity` (client to scheduler, an RPC): `distributed/scheduler.py: Scheduler.identity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// How many workers to describe in the reply; -1 for all.
    pub n_workers: i64,
    /// Whether a reply is expected.
    pub reply: bool,
}

/// One op: a map with an `"op"` key. Ops this module does not model, and maps without an
/// `"op"` (replies), are kept as [`Op::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `task-finished`.
    TaskFinished(Box<TaskFinished>),
    /// `compute-task`.
    ComputeTask(Box<ComputeTask>),
    /// `free-keys`.
    FreeKeys(FreeKeys),
    /// `release-worker-data`.
    ReleaseWorkerData(ReleaseWorkerData),
    /// `get_data`.
    GetData(GetData),
    /// `add-keys`.
    AddKeys(AddKeys),
    /// `heartbeat_worker`.
    HeartbeatWorker(Box<HeartbeatWorker>),
    /// `shuffle_receive`.
    ShuffleReceive(ShuffleReceive),
    /// `set_metadata`.
    SetMetadata(SetMetadata),
    /// `update-graph`.
    UpdateGraph(Box<UpdateGraph>),
    /// `register-worker`.
    RegisterWorker(Box<RegisterWorker>),
    /// `task-erred`.
    TaskErred(Box<TaskErred>),
    /// `client-releases-keys`.
    ClientReleasesKeys(ClientReleasesKeys),
    /// `key-in-memory`.
    KeyInMemory(KeyInMemory),
    /// `identity`.
    Identity(Identity),
    /// Anything else, as decoded.
    Other(Value),
}

/// The op names [`Op`] models, in the order of its variants.
pub const MODELLED: [&str; 15] = [
    "task-finished",
    "compute-task",
    "free-keys",
    "release-worker-data",
    "get_data",
    "add-keys",
    "heartbeat_worker",
    "shuffle_receive",
    "set_metadata",
    "update-graph",
    "register-worker",
    "task-erred",
    "client-releases-keys",
    "key-in-memory",
    "identity",
];

impl Op {
    /// Reads one op. A map whose `"op"` names a modelled op must have exactly that op's
    /// shape (an error otherwise); any other value is [`Op::Other`].
    pub fn from_value(value: Value) -> Result<Op, TypedError> {
        let Value::Map(mut entries) = value else {
            return Ok(Op::Other(value));
        };
        let Some(at) = entries
            .iter()
            .position(|(k, v)| k.is_str("op") && matches!(v, Value::Str(_)))
        else {
            return Ok(Op::Other(Value::Map(entries)));
        };
        let name = match &entries[at].1 {
            Value::Str(name) => name.as_str(),
            _ => unreachable!("checked above"),
        };
        if !MODELLED.contains(&name) {
            return Ok(Op::Other(Value::Map(entries)));
        }
        let (_, Value::Str(name)) = entries.remove(at) else {
            unreachable!("checked above")
        };
        let rest = Value::Map(entries);
        let shaped = |e: TypedError| TypedError(format!("{name}: {e}"));
        Ok(match name.as_str() {
            "task-finished" => Op::TaskFinished(from_value(rest).map_err(shaped)?),
            "compute-task" => Op::ComputeTask(from_value(rest).map_err(shaped)?),
            "free-keys" => Op::FreeKeys(from_value(rest).map_err(shaped)?),
            "release-worker-data" => Op::ReleaseWorkerData(from_value(rest).map_err(shaped)?),
            "get_data" => Op::GetData(from_value(rest).map_err(shaped)?),
            "add-keys" => Op::AddKeys(from_value(rest).map_err(shaped)?),
            "heartbeat_worker" => Op::HeartbeatWorker(from_value(rest).map_err(shaped)?),
            "shuffle_receive" => Op::ShuffleReceive(from_value(rest).map_err(shaped)?),
            "set_metadata" => Op::SetMetadata(from_value(rest).map_err(shaped)?),
            "update-graph" => Op::UpdateGraph(from_value(rest).map_err(shaped)?),
            "register-worker" => Op::RegisterWorker(from_value(rest).map_err(shaped)?),
            "task-erred" => Op::TaskErred(from_value(rest).map_err(shaped)?),
            "client-releases-keys" => Op::ClientReleasesKeys(from_value(rest).map_err(shaped)?),
            "key-in-memory" => Op::KeyInMemory(from_value(rest).map_err(shaped)?),
            "identity" => Op::Identity(from_value(rest).map_err(shaped)?),
            _ => unreachable!("MODELLED lists every arm"),
        })
    }

    /// The op's name, or `None` for [`Op::Other`].
    pub fn name(&self) -> Option<&'static str> {
        let index = match self {
            Op::TaskFinished(_) => 0,
            Op::ComputeTask(_) => 1,
            Op::FreeKeys(_) => 2,
            Op::ReleaseWorkerData(_) => 3,
            Op::GetData(_) => 4,
            Op::AddKeys(_) => 5,
            Op::HeartbeatWorker(_) => 6,
            Op::ShuffleReceive(_) => 7,
            Op::SetMetadata(_) => 8,
            Op::UpdateGraph(_) => 9,
            Op::RegisterWorker(_) => 10,
            Op::TaskErred(_) => 11,
            Op::ClientReleasesKeys(_) => 12,
            Op::KeyInMemory(_) => 13,
            Op::Identity(_) => 14,
            Op::Other(_) => return None,
        };
        Some(MODELLED[index])
    }

    /// The op as a message value: `"op"` first, then the fields in declaration order (the
    /// wire order of distributed may differ).
    pub fn to_value(&self) -> Result<Value, TypedError> {
        let body = match self {
            Op::TaskFinished(m) => to_value(m),
            Op::ComputeTask(m) => to_value(m),
            Op::FreeKeys(m) => to_value(m),
            Op::ReleaseWorkerData(m) => to_value(m),
            Op::GetData(m) => to_value(m),
            Op::AddKeys(m) => to_value(m),
            Op::HeartbeatWorker(m) => to_value(m),
            Op::ShuffleReceive(m) => to_value(m),
            Op::SetMetadata(m) => to_value(m),
            Op::UpdateGraph(m) => to_value(m),
            Op::RegisterWorker(m) => to_value(m),
            Op::TaskErred(m) => to_value(m),
            Op::ClientReleasesKeys(m) => to_value(m),
            Op::KeyInMemory(m) => to_value(m),
            Op::Identity(m) => to_value(m),
            Op::Other(value) => return Ok(value.clone()),
        }?;
        let Value::Map(mut entries) = body else {
            return Err(TypedError(
                "an op serialized to something else than a map".into(),
            ));
        };
        let name = self.name().expect("a modelled op");
        entries.insert(0, (Value::str("op"), Value::str(name)));
        Ok(Value::Map(entries))
    }
}

/// A decoded message, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An array: a batched-stream message (frame 0 a list of op maps; an item that is not
    /// an op map, such as `("add", {...})` on the scheduler's event stream, is an
    /// [`Op::Other`]).
    Batch(Vec<Op>),
    /// One map: an RPC call, a reply, or a single stream message.
    Single(Op),
    /// Anything else: a bare reply (`"OK"`, nil, a str).
    Other(Value),
}

impl Message {
    /// Types a decoded message (the output of a forwarding decode, either profile).
    pub fn from_value(value: Value) -> Result<Message, TypedError> {
        match value {
            Value::Array(items) => {
                let ops = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        Op::from_value(item).map_err(|e| TypedError(format!("[{i}] {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Message::Batch(ops))
            }
            Value::Map(_) => Op::from_value(value).map(Message::Single),
            other => Ok(Message::Other(other)),
        }
    }

    /// The ops of the message (none for [`Message::Other`]).
    pub fn ops(&self) -> &[Op] {
        match self {
            Message::Batch(ops) => ops,
            Message::Single(op) => std::slice::from_ref(op),
            Message::Other(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    #[test]
    fn keys_of_every_shape() {
        let key: Key = from_value(Value::Array(vec![s("sum-1"), Value::Int(2)])).unwrap();
        assert_eq!(key, Key::Tuple(vec![Key::Str("sum-1".into()), Key::Int(2)]));
        assert_eq!(
            to_value(&key).unwrap(),
            Value::Array(vec![s("sum-1"), Value::Int(2)])
        );
        assert!(from_value::<Key>(Value::Bool(true)).is_err());
    }

    #[test]
    fn a_modelled_op_is_strict_and_an_unknown_op_is_kept() {
        let free = Value::Map(vec![
            (s("op"), s("free-keys")),
            (s("keys"), Value::Array(vec![s("x")])),
            (s("stimulus_id"), s("why")),
        ]);
        let Message::Single(op) = Message::from_value(free.clone()).unwrap() else {
            panic!("one op")
        };
        assert_eq!(
            op,
            Op::FreeKeys(FreeKeys {
                keys: vec![Key::Str("x".into())],
                stimulus_id: "why".into()
            })
        );
        assert_eq!(op.to_value().unwrap(), free);

        let Value::Map(mut extra) = free else {
            unreachable!()
        };
        extra.push((s("surprise"), Value::Nil));
        let err = Message::from_value(Value::Map(extra)).unwrap_err();
        assert!(err.0.starts_with("free-keys: "), "{err}");

        let other = Value::Array(vec![Value::Map(vec![(s("op"), s("close-stream"))])]);
        assert_eq!(
            Message::from_value(other.clone()).unwrap(),
            Message::Batch(vec![Op::Other(Value::Map(vec![(
                s("op"),
                s("close-stream")
            )]))])
        );
        assert_eq!(
            Message::from_value(s("OK")).unwrap(),
            Message::Other(s("OK"))
        );
    }

    #[test]
    fn pickled_values_cross_serde_and_come_back() {
        let header = vec![
            (s("pickled-obj"), Value::Bin(b"\x80\x05N.".to_vec())),
            (s("num-sub-frames"), Value::Int(0)),
        ];
        let pickled = Value::Pickled(Box::new(Offloaded::new(header.clone(), vec![])));
        let message = Value::Map(vec![
            (s("op"), s("update-graph")),
            (
                s("expr_ser"),
                Value::Offloaded(Box::new(Offloaded::new(
                    vec![(s("num-sub-frames"), Value::Int(1))],
                    vec![b"e".to_vec()],
                ))),
            ),
            (s("keys"), Value::Set(vec![s("k")])),
            (s("internal_priority"), Value::Nil),
            (s("submitting_task"), Value::Nil),
            (s("fifo_timeout"), s("60s")),
            (s("actors"), Value::Nil),
            (s("code"), pickled.clone()),
            (s("annotations"), pickled.clone()),
            (s("span_metadata"), pickled),
        ]);
        let Message::Single(Op::UpdateGraph(graph)) = Message::from_value(message).unwrap() else {
            panic!("update-graph")
        };
        assert_eq!(graph.code.pickled_obj(), Some(&b"\x80\x05N."[..]));
        assert!(graph.expr_ser.is_offloaded());
        let back = Op::UpdateGraph(graph).to_value().unwrap();
        let Value::Map(entries) = back else { panic!() };
        assert!(matches!(&entries[8].1, Value::Pickled(node) if node.header == header));
    }

    fn handshake(entries: Vec<(Value, Value)>) -> Result<Handshake, TypedError> {
        Handshake::from_value(Value::Map(entries))
    }

    #[test]
    fn a_handshake_is_read_as_dk3_says() {
        let python = Value::Array(vec![Value::Int(3), Value::Int(11), Value::Int(7)]);
        // DK-2's three keys, as distributed writes them; written back the same.
        let written = vec![
            (s("compression"), s("lz4")),
            (s("python"), python.clone()),
            (s("pickle-protocol"), Value::Int(5)),
        ];
        let read = handshake(written.clone()).unwrap();
        assert_eq!(read.compression.as_deref(), Some("lz4"));
        assert_eq!(read.python, Some(python));
        assert_eq!(read.pickle_protocol, 5);
        assert_eq!(to_value(&read).unwrap(), Value::Map(written));

        // No "python", an extra key: accepted, the extra key ignored.
        let read = handshake(vec![
            (s("compression"), Value::Nil),
            (s("pickle-protocol"), Value::Int(4)),
            (s("future-key"), Value::Map(vec![])),
        ])
        .unwrap();
        assert_eq!(
            read,
            Handshake {
                compression: None,
                python: None,
                pickle_protocol: 4
            }
        );
        // "python" of any value is ignored too.
        assert!(
            handshake(vec![
                (s("python"), s("not a version")),
                (s("compression"), Value::Nil),
                (s("pickle-protocol"), Value::Int(5)),
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_handshake_without_the_two_keys_or_with_wrong_types_is_refused() {
        let python = (s("python"), Value::Array(vec![Value::Int(3)]));
        let refused = |entries: Vec<(Value, Value)>| handshake(entries).unwrap_err().0;
        assert!(
            refused(vec![(s("compression"), Value::Nil), python.clone()])
                .contains("\"pickle-protocol\"")
        );
        assert!(
            refused(vec![python.clone(), (s("pickle-protocol"), Value::Int(5))])
                .contains("\"compression\"")
        );
        for (compression, protocol) in [
            (Value::Int(1), Value::Int(5)),
            (Value::Bool(false), Value::Int(5)),
            (Value::Nil, Value::Bool(true)),
            (Value::Nil, Value::Int(-1)),
            (Value::Nil, Value::F64(4.0)),
            (Value::Nil, s("5")),
        ] {
            let entries = vec![
                (s("compression"), compression.clone()),
                (s("pickle-protocol"), protocol.clone()),
            ];
            assert!(
                handshake(entries).is_err(),
                "{compression:?} {protocol:?} accepted"
            );
        }
        // Str keys only: an int key is not a field index, a bin key not a field name.
        assert!(
            handshake(vec![
                (Value::Int(0), Value::Nil),
                (s("pickle-protocol"), Value::Int(5)),
            ])
            .is_err()
        );
        assert!(
            handshake(vec![
                (Value::Bin(b"compression".to_vec()), Value::Nil),
                (s("pickle-protocol"), Value::Int(5)),
            ])
            .is_err()
        );
        assert!(Handshake::from_value(Value::Array(vec![])).is_err());
    }

    #[test]
    fn an_offloaded_value_is_a_pickle_only_with_a_pickled_obj_bin() {
        let offloaded = |header: Map| {
            Value::Offloaded(Box::new(Offloaded::new(header, vec![b"buffer".to_vec()])))
        };
        let with_obj = offloaded(vec![
            (s("pickled-obj"), Value::Bin(b"\x80\x05N.".to_vec())),
            (s("count"), Value::Int(1)),
        ]);
        let pickle: Pickle = from_value(with_obj.clone()).unwrap();
        assert!(matches!(pickle, Pickle::Offloaded { .. }));
        assert_eq!(pickle.pickled_obj(), Some(&b"\x80\x05N."[..]));
        assert_eq!(to_value(&pickle).unwrap(), with_obj);

        for header in [
            vec![(s("serializer"), s("pickle")), (s("count"), Value::Int(1))],
            vec![
                (s("pickled-obj"), s("not bytes")),
                (s("count"), Value::Int(1)),
            ],
        ] {
            let err = from_value::<Pickle>(offloaded(header)).unwrap_err();
            assert!(err.0.contains("pickled-obj"), "{err}");
        }
        assert!(from_value::<Pickle>(Value::Bin(vec![1])).is_err());
    }

    #[test]
    fn the_ops_a_client_and_the_scheduler_exchange() {
        let tuple_key = Value::Array(vec![s("repartition-92"), Value::Int(0)]);
        let cases = [
            Value::Map(vec![
                (s("op"), s("client-releases-keys")),
                (s("keys"), Value::Array(vec![tuple_key.clone(), s("x")])),
                (s("client"), s("Client-bbfcea93")),
            ]),
            Value::Map(vec![
                (s("op"), s("key-in-memory")),
                (s("key"), tuple_key.clone()),
                (s("type"), Value::Bin(b"\x80\x05.".to_vec())),
            ]),
            Value::Map(vec![(s("op"), s("key-in-memory")), (s("key"), s("x"))]),
            Value::Map(vec![
                (s("op"), s("identity")),
                (s("n_workers"), Value::Int(-1)),
                (s("reply"), Value::Bool(true)),
            ]),
        ];
        let names = [
            "client-releases-keys",
            "key-in-memory",
            "key-in-memory",
            "identity",
        ];
        for (message, name) in cases.into_iter().zip(names) {
            let Message::Single(op) = Message::from_value(message.clone()).unwrap() else {
                panic!("one op")
            };
            assert_eq!(op.name(), Some(name));
            assert_eq!(op.to_value().unwrap(), message);
            // Strict: one more field is an error.
            let Value::Map(mut extra) = message else {
                unreachable!()
            };
            extra.push((s("surprise"), Value::Nil));
            let err = Message::from_value(Value::Map(extra)).unwrap_err();
            assert!(err.0.starts_with(&format!("{name}: ")), "{err}");
        }
        let Message::Single(Op::KeyInMemory(memory)) = Message::from_value(Value::Map(vec![
            (s("op"), s("key-in-memory")),
            (s("key"), s("x")),
        ]))
        .unwrap() else {
            panic!("key-in-memory")
        };
        assert_eq!(memory.type_, None);
        // identity's fields are required.
        assert!(
            Message::from_value(Value::Map(vec![
                (s("op"), s("identity")),
                (s("reply"), Value::Bool(true)),
            ]))
            .is_err()
        );
    }

    #[test]
    fn every_modelled_name_is_read_strictly() {
        for (index, name) in MODELLED.iter().enumerate() {
            assert!(!MODELLED[..index].contains(name), "{name} twice");
            // Each op has a required field, so an op map with no fields is an error of that
            // op, not an Op::Other.
            let err = Op::from_value(Value::Map(vec![(s("op"), s(name))])).unwrap_err();
            assert!(err.0.starts_with(&format!("{name}: ")), "{err}");
        }
        assert!(matches!(
            Op::from_value(Value::Map(vec![(s("op"), s("gather"))])),
            Ok(Op::Other(_))
        ));
    }
}
