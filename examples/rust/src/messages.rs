//! Two real Dask messages as strict serde types: `compute-task` and `update-graph`.
//!
//! These are the shapes of dask/distributed 2.16, the release the pull request was based
//! on. Every field a sender may offload is an [`Offloadable`]; everything else is an
//! ordinary typed field, and unknown fields are rejected (`deny_unknown_fields`).
//!
//! * `compute-task` (scheduler to worker): the scheduler copies the task's run spec
//!   (`function`, `args`, `kwargs`, or `task`) from the client's `update-graph` into the
//!   message. A pickled function under 64 KiB travels inline as bin; a larger one as a raw
//!   byte string (a bin again after decoding, [HD-9]); a value the client serialized
//!   with Dask's serializers as an offloaded value, which the scheduler forwards untouched.
//! * `update-graph` (client to scheduler): `tasks` maps each key to a run spec or to an
//!   offloaded task; the whole `tasks` map may itself be offloaded.
//!
//! [HD-9]: crate::header

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::typed::{Offloadable, OrderedMap};

/// Messages a worker receives from the scheduler (only the ones modelled here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ToWorker {
    /// Run a task.
    ComputeTask(Box<ComputeTask>),
    /// Forget results.
    DeleteData(DeleteData),
}

/// Messages the scheduler receives from a client (only the ones modelled here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ToScheduler {
    /// Submit a task graph.
    UpdateGraph(UpdateGraph),
}

/// `{"op": "compute-task", ...}`: the scheduler asks a worker to run one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeTask {
    /// The task's key.
    pub key: String,
    /// The scheduler's priority tuple.
    pub priority: Vec<i64>,
    /// Expected run time in seconds.
    pub duration: f64,
    /// Abstract resources the task needs, e.g. `{"GPU": 1.0}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_restrictions: Option<OrderedMap<String, f64>>,
    /// True when the task creates an actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<bool>,
    /// Where each dependency lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who_has: Option<OrderedMap<String, Vec<String>>>,
    /// Size of each dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbytes: Option<OrderedMap<String, u64>>,
    /// The pickled function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Offloadable<ByteBuf>>,
    /// The pickled positional arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Offloadable<ByteBuf>>,
    /// The pickled keyword arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<Offloadable<ByteBuf>>,
    /// A task that is not a function call, serialized as a whole (opaque in place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Offloadable<rmpv::Value>>,
}

/// `{"op": "delete-data", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteData {
    /// Keys to forget.
    pub keys: Vec<String>,
    /// Whether to tell the scheduler.
    pub report: bool,
}

/// A run spec: a function call, as `dumps_task` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The pickled function.
    pub function: Offloadable<ByteBuf>,
    /// The pickled positional arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Offloadable<ByteBuf>>,
    /// The pickled keyword arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<Offloadable<ByteBuf>>,
}

/// `{"op": "update-graph", ...}`: a client submits tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGraph {
    /// Key to run spec, or to an offloaded task; the whole map may be offloaded.
    pub tasks: Offloadable<OrderedMap<String, Offloadable<RunSpec>>>,
    /// Key to the keys it depends on.
    pub dependencies: OrderedMap<String, Vec<String>>,
    /// The keys the client wants.
    pub keys: Vec<String>,
    /// Key to the workers it may run on.
    pub restrictions: OrderedMap<String, Vec<String>>,
    /// Keys whose restrictions are only preferences.
    pub loose_restrictions: Option<Vec<String>>,
    /// Key to graph-order priority.
    pub priority: Option<OrderedMap<String, i64>>,
    /// The user's priority.
    pub user_priority: i64,
    /// Key to abstract resources.
    pub resources: Option<OrderedMap<String, OrderedMap<String, f64>>>,
    /// The key of the task that submits, when a task submits tasks.
    pub submitting_task: Option<String>,
    /// Key to retry count.
    pub retries: Option<OrderedMap<String, u32>>,
    /// How long a priority stays first in line (a duration such as `"60s"`, or seconds);
    /// kept opaque, as rsds kept such fields.
    pub fifo_timeout: rmpv::Value,
    /// Actor keys (an array), or true for all.
    pub actors: Option<rmpv::Value>,
}

#[cfg(test)]
mod tests {
    //! The golden vectors of area `dask-messages` drive the typed tests of these messages
    //! (`tests/dask_messages.rs`); this one checks the payload against rmp-serde.

    use super::*;
    use crate::limits::Limits;
    use crate::options::EncodeOptions;
    use crate::typed::{decode_typed, encode_typed};

    #[test]
    fn payload_forms_match_rmp_serde() {
        // Without offloaded values, frame 1 is plain msgpack: an independent writer
        // (rmp-serde, structs as maps) produces the same shortest forms (CE-1).
        let message = vec![ToWorker::DeleteData(DeleteData {
            keys: vec!["x".repeat(40), "y".into()],
            report: false,
        })];
        let frames = encode_typed(&message, &EncodeOptions::default()).unwrap();
        assert_eq!(frames.len(), 2);
        assert!(frames[0].is_empty());
        assert_eq!(frames[1], rmp_serde::to_vec_named(&message).unwrap());
        let back: Vec<ToWorker> = decode_typed(frames, &Limits::default()).unwrap();
        assert_eq!(back, message);
    }
}
