//! The typed Dask messages of `src/messages.rs` against the kit's golden vectors of area
//! `dask-messages` (`../../vectors/placeholder-v1/{decode,encode}/dask-messages.json`).
//!
//! Decode vectors: the frames decode into the strict `ComputeTask` / `UpdateGraph` types,
//! field by field, and the typed message turns back into exactly the vector's forwarding
//! value. Encode vectors: a typed message built here encodes to the vector's frames and
//! wire bytes, byte for byte (CE-9).

use std::path::{Path, PathBuf};

use serde_bytes::ByteBuf;
use serde_json::Value as Json;

use daskwire_rs::messages::{ComputeTask, RunSpec, ToScheduler, ToWorker, UpdateGraph};
use daskwire_rs::notation::{frame_from_notation, from_notation};
use daskwire_rs::typed::{OrderedMap, decode_typed, encode_typed, from_value, to_value};
use daskwire_rs::value::same;
use daskwire_rs::{EncodeOptions, Limits, Map, Mode, Offloadable, Value, decode, hex, pack};

/// The pickles inside the vectors (protocol 4); the crate treats them as opaque bytes.
const ADD_PICKLE: &str = "80049515000000000000008c095f6f70657261746f72948c036164649493942e";
const ARGS_PICKLE: &str = "8004950b000000000000008c03782d30944b0186942e";
const KWARGS_PICKLE: &str = "80047d942e";
const SUM_TASK_PICKLE: &str = concat!(
    "80049526000000000000008c086275696c74696e73948c0373756d9493945d948c0a6164642d3766336532",
    "61946186942e",
);
const TASKS_PICKLE: &str = concat!(
    "80049563000000000000007d948c0a6164642d376633653261947d94288c0866756e6374696f6e94432080",
    "049515000000000000008c095f6f70657261746f72948c036164649493942e948c04617267739443168004",
    "950b000000000000008c03782d30944b0186942e9475732e",
);

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/placeholder-v1");
    assert!(
        dir.join("manifest.json").is_file(),
        "the golden vectors are missing: expected them in {}",
        dir.display()
    );
    dir
}

/// The vector `id`, read from `<group>/dask-messages.json`.
fn vector(id: &str) -> Json {
    let (group_area, _) = id.rsplit_once('/').unwrap();
    let path = vectors_dir().join(format!("{group_area}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["profile"], "placeholder-v1", "{}", path.display());
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id} in {}", path.display()))
        .clone()
}

/// Frames given as hex or repeat forms (the digest form is only used above 4096 bytes).
fn frames(json: &Json) -> Vec<Vec<u8>> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| frame_from_notation(f).expect("a hex or repeat frame"))
        .collect()
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn bin(text: &str) -> ByteBuf {
    ByteBuf::from(h(text))
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&i| i.to_owned()).collect()
}

fn ordered<V>(entries: Vec<(&str, V)>) -> OrderedMap<String, V> {
    OrderedMap(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// `{"serializer": "pickle"}`, the header Dask's pickle serializer writes.
fn pickle_header() -> Map {
    vec![(s("serializer"), s("pickle"))]
}

/// The pickle header as a forwarding receiver yields it: transport keys appended (CE-5).
fn pickle_header_wire(length: i128) -> Map {
    vec![
        (s("serializer"), s("pickle")),
        (s("lengths"), Value::Array(vec![Value::Int(length)])),
        (s("count"), Value::Int(1)),
        (s("deserialize"), Value::Bool(false)),
    ]
}

/// Decodes a decode vector's frames as a forwarding receiver into `T`, and checks that
/// the typed message turns back into exactly the vector's forwarding value.
fn decode_vector<T>(v: &Json) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    assert_eq!(v["kind"], "decode", "{}", v["id"]);
    let message: T = decode_typed(frames(&v["input"]["frames"]), &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", v["id"]));
    let back = to_value(&message).unwrap();
    let want = from_notation(&v["expected"]["forwarding"]).unwrap();
    assert!(same(&back, &want), "{}: typed value {back:?}", v["id"]);
    message
}

/// Encodes a typed message and compares it with an encode vector's frames and wire bytes.
fn assert_encodes_to_vector<T: serde::Serialize>(message: &T, v: &Json) {
    assert_eq!(v["kind"], "encode", "{}", v["id"]);
    assert_eq!(v["expected"]["canonical"], true, "{}", v["id"]);
    // The message built here is the vector's input message.
    let input = from_notation(&v["input"]["message"]).unwrap();
    assert!(same(&to_value(message).unwrap(), &input), "{}", v["id"]);
    let got = encode_typed(message, &EncodeOptions::default()).unwrap();
    let want = frames(&v["expected"]["frames"]);
    assert_eq!(got.len(), want.len(), "{}: frame count", v["id"]);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(hex::encode(g), hex::encode(w), "{}: frame {i}", v["id"]);
    }
    assert_eq!(
        hex::encode(&pack(&got)),
        hex::encode(&frame_from_notation(&v["expected"]["wire"]).unwrap()),
        "{}: wire bytes",
        v["id"]
    );
}

// --- compute-task -------------------------------------------------------------------------

/// The compute-task of the vectors, with `function` as given.
fn compute_task(function: Offloadable<ByteBuf>) -> ComputeTask {
    ComputeTask {
        key: "add-7f3e2a".into(),
        priority: vec![0, 1, 2],
        duration: 0.5,
        resource_restrictions: Some(ordered(vec![("GPU", 1.0)])),
        actor: None,
        who_has: Some(ordered(vec![("x-0", strings(&["tcp://10.0.0.2:40331"]))])),
        nbytes: Some(ordered(vec![("x-0", 28)])),
        function: Some(function),
        args: Some(Offloadable::InPlace(bin(ARGS_PICKLE))),
        kwargs: Some(Offloadable::InPlace(bin(KWARGS_PICKLE))),
        task: None,
    }
}

fn only_compute_task(batch: &[ToWorker]) -> &ComputeTask {
    match batch {
        [ToWorker::ComputeTask(task)] => task,
        other => panic!("not a batch of one compute-task: {other:?}"),
    }
}

#[test]
fn compute_task_vector_decodes_into_the_typed_message() {
    let v = vector("decode/dask-messages/compute-task");
    let batch: Vec<ToWorker> = decode_vector(&v);
    let task = only_compute_task(&batch);
    assert_eq!(task.key, "add-7f3e2a");
    assert_eq!(task.priority, vec![0, 1, 2]);
    assert_eq!(task.duration, 0.5);
    assert_eq!(
        task.resource_restrictions.as_ref().unwrap().get("GPU"),
        Some(&1.0)
    );
    assert_eq!(task.actor, None);
    assert_eq!(
        task.who_has.as_ref().unwrap().get("x-0"),
        Some(&strings(&["tcp://10.0.0.2:40331"]))
    );
    assert_eq!(task.nbytes.as_ref().unwrap().get("x-0"), Some(&28));
    // The function stays offloaded, in wire form (RX-1).
    assert_eq!(
        task.function,
        Some(Offloadable::Offloaded {
            header: pickle_header_wire(32),
            frames: vec![h(ADD_PICKLE)],
        })
    );
    assert_eq!(task.args, Some(Offloadable::InPlace(bin(ARGS_PICKLE))));
    assert_eq!(task.kwargs, Some(Offloadable::InPlace(bin(KWARGS_PICKLE))));
    assert_eq!(task.task, None);
    assert_eq!(
        *task,
        compute_task(Offloadable::Offloaded {
            header: pickle_header_wire(32),
            frames: vec![h(ADD_PICKLE)],
        })
    );

    // A consuming receiver yields the function in original form, which typed messages do
    // not take: they hold what a forwarder passes on.
    let consumed = decode(
        frames(&v["input"]["frames"]),
        Mode::Consuming,
        &Limits::default(),
    )
    .unwrap();
    assert!(same(
        &consumed,
        &from_notation(&v["expected"]["consuming"]).unwrap()
    ));
    let err = from_value::<Vec<ToWorker>>(consumed).unwrap_err();
    assert!(err.0.contains("original form"), "{err}");
}

#[test]
fn compute_task_encodes_to_the_golden_frames() {
    // The scheduler forwards the client's function with the header it came with; the
    // encoder appends the missing transport keys (CE-5).
    let batch = vec![ToWorker::ComputeTask(Box::new(compute_task(
        Offloadable::Offloaded {
            header: pickle_header(),
            frames: vec![h(ADD_PICKLE)],
        },
    )))];
    let v = vector("encode/dask-messages/compute-task");
    assert_encodes_to_vector(&batch, &v);

    // Forwarded once more, the decoded message re-encodes to the same frames (RX-4).
    let golden = frames(&v["expected"]["frames"]);
    let decoded: Vec<ToWorker> = decode_typed(golden.clone(), &Limits::default()).unwrap();
    assert_eq!(
        encode_typed(&decoded, &EncodeOptions::default()).unwrap(),
        golden
    );
}

#[test]
fn compute_task_with_raw_kwargs_decodes_to_the_same_message() {
    let raw: Vec<ToWorker> = decode_vector(&vector("decode/dask-messages/compute-task-raw-kwargs"));
    // HD-9: a raw byte string is a bin for every receiver, so the field is in place.
    assert_eq!(
        only_compute_task(&raw).kwargs,
        Some(Offloadable::InPlace(bin(KWARGS_PICKLE)))
    );
    let inline: Vec<ToWorker> = decode_vector(&vector("decode/dask-messages/compute-task"));
    assert_eq!(raw, inline);
    // Re-encoded, the small bin travels inline (HD-10): the frames of the encode vector.
    let golden = frames(&vector("encode/dask-messages/compute-task")["expected"]["frames"]);
    assert_eq!(
        encode_typed(&raw, &EncodeOptions::default()).unwrap(),
        golden
    );
}

#[test]
fn strict_types_reject_unknown_fields() {
    let v = vector("decode/dask-messages/compute-task");
    let value = decode(
        frames(&v["input"]["frames"]),
        Mode::Forwarding,
        &Limits::default(),
    )
    .unwrap();
    let Value::Array(mut batch) = value else {
        panic!("not a batch")
    };
    let Value::Map(entries) = &mut batch[0] else {
        panic!("not a map")
    };
    entries.push((s("surprise"), Value::Int(1)));
    let err = from_value::<Vec<ToWorker>>(Value::Array(batch)).unwrap_err();
    assert!(err.0.contains("surprise"), "{err}");
}

// --- update-graph -------------------------------------------------------------------------

/// The update-graph of the vectors, with the offloaded task's header as given.
fn update_graph(sum_task_header: Map) -> ToScheduler {
    let tasks = ordered(vec![
        (
            "add-7f3e2a",
            Offloadable::InPlace(RunSpec {
                function: Offloadable::InPlace(bin(ADD_PICKLE)),
                args: Some(Offloadable::InPlace(bin(ARGS_PICKLE))),
                kwargs: None,
            }),
        ),
        (
            "sum-4b1c",
            Offloadable::Offloaded {
                header: sum_task_header,
                frames: vec![h(SUM_TASK_PICKLE)],
            },
        ),
    ]);
    ToScheduler::UpdateGraph(UpdateGraph {
        tasks: Offloadable::InPlace(tasks),
        dependencies: ordered(vec![
            ("add-7f3e2a", vec![]),
            ("sum-4b1c", strings(&["add-7f3e2a"])),
        ]),
        keys: strings(&["sum-4b1c"]),
        restrictions: OrderedMap::default(),
        loose_restrictions: None,
        priority: Some(ordered(vec![("add-7f3e2a", 0), ("sum-4b1c", 1)])),
        user_priority: 0,
        resources: None,
        submitting_task: None,
        retries: None,
        fifo_timeout: rmpv::Value::from("60s"),
        actors: None,
    })
}

#[test]
fn update_graph_vector_decodes_into_the_typed_message() {
    let ToScheduler::UpdateGraph(graph) =
        decode_vector(&vector("decode/dask-messages/update-graph"));
    let Offloadable::InPlace(tasks) = &graph.tasks else {
        panic!("tasks offloaded")
    };
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks.get("add-7f3e2a"),
        Some(&Offloadable::InPlace(RunSpec {
            function: Offloadable::InPlace(bin(ADD_PICKLE)),
            args: Some(Offloadable::InPlace(bin(ARGS_PICKLE))),
            kwargs: None,
        }))
    );
    assert_eq!(
        tasks.get("sum-4b1c"),
        Some(&Offloadable::Offloaded {
            header: pickle_header_wire(49),
            frames: vec![h(SUM_TASK_PICKLE)],
        })
    );
    assert_eq!(graph.dependencies.get("add-7f3e2a"), Some(&vec![]));
    assert_eq!(
        graph.dependencies.get("sum-4b1c"),
        Some(&strings(&["add-7f3e2a"]))
    );
    assert_eq!(graph.keys, strings(&["sum-4b1c"]));
    assert!(graph.restrictions.is_empty());
    assert_eq!(graph.loose_restrictions, None);
    let priority = graph.priority.as_ref().unwrap();
    assert_eq!(
        (priority.get("add-7f3e2a"), priority.get("sum-4b1c")),
        (Some(&0), Some(&1))
    );
    assert_eq!(graph.user_priority, 0);
    assert_eq!(graph.resources, None);
    assert_eq!(graph.submitting_task, None);
    assert_eq!(graph.retries, None);
    assert_eq!(graph.fifo_timeout, rmpv::Value::from("60s"));
    assert_eq!(graph.actors, None);
    assert_eq!(
        ToScheduler::UpdateGraph(graph),
        update_graph(pickle_header_wire(49))
    );
}

#[test]
fn update_graph_encodes_to_the_golden_frames() {
    let v = vector("encode/dask-messages/update-graph");
    assert_encodes_to_vector(&update_graph(pickle_header()), &v);
    // The decoded message, complete header and all, re-encodes to the same frames (RX-4).
    let golden = frames(&v["expected"]["frames"]);
    let decoded: ToScheduler = decode_typed(golden.clone(), &Limits::default()).unwrap();
    assert_eq!(decoded, update_graph(pickle_header_wire(49)));
    assert_eq!(
        encode_typed(&decoded, &EncodeOptions::default()).unwrap(),
        golden
    );
}

#[test]
fn update_graph_with_offloaded_tasks_decodes_in_both_modes() {
    // The whole tasks map is one offloaded value, its placeholder keyed _$findex, _$fcount,
    // _$header as rsds keys it (PH-4).
    let v = vector("decode/dask-messages/update-graph-offloaded-tasks");
    let ToScheduler::UpdateGraph(graph) = decode_vector(&v);
    let header = vec![
        (s("serializer"), s("pickle")),
        (s("lengths"), Value::Array(vec![Value::Int(110)])),
        (s("compression"), Value::Array(vec![Value::Nil])),
        (s("count"), Value::Int(1)),
        (s("deserialize"), Value::Bool(false)),
    ];
    assert_eq!(
        graph.tasks,
        Offloadable::Offloaded {
            header,
            frames: vec![h(TASKS_PICKLE)],
        }
    );
    assert_eq!(graph.dependencies.get("add-7f3e2a"), Some(&vec![]));
    assert_eq!(graph.keys, strings(&["add-7f3e2a"]));
    assert!(graph.restrictions.is_empty());
    assert_eq!(graph.loose_restrictions, None);
    assert_eq!(graph.priority.as_ref().unwrap().get("add-7f3e2a"), Some(&0));
    assert_eq!(graph.user_priority, -1);
    let resources = graph.resources.as_ref().unwrap().get("add-7f3e2a").unwrap();
    assert_eq!(resources.get("GPU"), Some(&1.0));
    assert_eq!(graph.submitting_task, None);
    assert_eq!(graph.retries.as_ref().unwrap().get("add-7f3e2a"), Some(&2));
    assert_eq!(graph.fifo_timeout, rmpv::Value::F64(60.0));
    assert_eq!(graph.actors, Some(rmpv::Value::Boolean(true)));

    // A consuming receiver yields the tasks in original form: the serializer keys only,
    // the frames merged.
    let consumed = decode(
        frames(&v["input"]["frames"]),
        Mode::Consuming,
        &Limits::default(),
    )
    .unwrap();
    assert!(same(
        &consumed,
        &from_notation(&v["expected"]["consuming"]).unwrap()
    ));
    let Value::Map(entries) = &consumed else {
        panic!("not a map")
    };
    let Value::Materialized(node) = &entries[1].1 else {
        panic!("tasks not offloaded")
    };
    assert_eq!(
        (&node.header, &node.frames),
        (&pickle_header(), &vec![h(TASKS_PICKLE)])
    );

    // Re-encoded canonically, the placeholder keys come in CE-4 order; the header and the
    // frame stay as they came (RX-4), so the message is the same.
    let graph = ToScheduler::UpdateGraph(graph);
    let input = frames(&v["input"]["frames"]);
    let again = encode_typed(&graph, &EncodeOptions::default()).unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!(again[2], input[2]);
    assert_eq!(again[1].len(), input[1].len());
    assert_ne!(again[1], input[1]);
    let back: ToScheduler = decode_typed(again, &Limits::default()).unwrap();
    assert_eq!(back, graph);
}
