import os
"""Edge cases of distributed.protocol.loads on hand-made frames (no foreign pickles)."""
import sys, msgpack, pickle
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging; logging.disable(logging.CRITICAL)
from distributed.protocol import loads, dumps, to_serialize, ToPickle
from distributed.protocol.serialize import Serialized
P = lambda v: msgpack.packb(v, use_bin_type=True)
SH = P({"serializer": "msgpack", "num-sub-frames": 1})
data = P([1, 2])

def run(name, frames, deser=(False, True)):
    for d in deser:
        try:
            r = loads(frames, deserialize=d)
            if isinstance(r, dict):
                r = {k: (f"Serialized(h={v.header}, frames={[bytes(x) for x in v.frames]})" if isinstance(v, Serialized) else v) for k, v in r.items()}
            print(f"{name} [deserialize={d}] -> OK {r!r}"[:400])
        except BaseException as e:
            print(f"{name} [deserialize={d}] -> {type(e).__name__}: {str(e)[:120]}")

run("baseline", [P({"op": "x", "d": {"__Serialized__": 1}}), SH, data])
run("index-out-of-range", [P({"op": "x", "d": {"__Serialized__": 5}}), SH, data])
run("index-points-at-data", [P({"op": "x", "d": {"__Serialized__": 2}}), SH, data])
run("num-sub-frames-beyond-end", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "num-sub-frames": 3}), data])
run("claimed-twice", [P({"op": "x", "a": {"__Serialized__": 1}, "b": {"__Serialized__": 1}}), SH, data])
run("orphan-frame", [P({"op": "x", "d": {"__Serialized__": 1}}), SH, data, b"orphan"])
run("orphan-only", [P({"op": "x"}), b"orphan"])
run("marker-zero", [P({"op": "x", "d": {"__Serialized__": 0}})])
run("marker-negative", [P({"op": "x", "d": {"__Serialized__": -1}})])
run("marker-str", [P({"op": "x", "d": {"__Serialized__": "1"}})])
run("marker-true-inline-in-frame0", [P({"op": "x", "d": {"__Serialized__": True, "data": [{"serializer": "msgpack"}, [data]]}})])
run("marker-true-inline-in-frame0-with-frame1", [P({"op": "x", "d": {"__Serialized__": True, "data": [{"serializer": "msgpack"}, [data]]}}), SH, data])
run("marker-extra-keys", [P({"op": "x", "d": {"__Serialized__": 1, "other": 5}}), SH, data])
run("marker-float", [P({"op": "x", "d": {"__Serialized__": 1.0}}), SH, data])
run("marker-as-key?", [P({"op": "x", "d": {"__Serialized__": 1}}), SH, data])
run("marker-top-level", [P({"__Serialized__": 1}), SH, data])
run("bin-key-marker", [P({"op": "x", "d": {b"__Serialized__": 1}}), SH, data])
run("set-user", [P({"op": "x", "d": {"__Set__": False, "as-list": [1]}})])
run("set-missing-aslist", [P({"op": "x", "d": {"__Set__": True}})])
run("set-unhashable", [P({"op": "x", "d": {"__Set__": True, "as-list": [[1]]}})])
run("enum-user-notallowed", [P({"op": "x", "d": {"__Enum__": True, "name": "x", "__module__": "os", "__name__": "y"}})])
run("enum-allowed", [P({"op": "x", "d": {"__Enum__": True, "name": "running", "__module__": "distributed.core", "__name__": "Status"}})])
run("enum-old-form", [P({"op": "x", "d": {"__Enum__": True, "name": "running", "type-serialized": b"x"}})])
run("pickled-hand", [P({"op": "x", "d": {"__Pickled__": 1}}), P({"pickled-obj": pickle.dumps(7), "num-sub-frames": 0})])
run("pickled-no-compression-key", [P({"op": "x", "d": {"__Pickled__": 1}}), P({"pickled-obj": pickle.dumps(7), "num-sub-frames": 0})])
run("pickled-int-key-subheader", [P({"op": "x", "d": {"__Pickled__": 1}}), P({"pickled-obj": pickle.dumps(7), "num-sub-frames": 0, 5: 1})])
run("serialized-int-key-subheader", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "num-sub-frames": 1, 5: 1}), data])
run("sub-header-missing-nsf", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack"}), data])
run("sub-header-not-map", [P({"op": "x", "d": {"__Serialized__": 1}}), P([1]), data])
run("sub-header-garbage", [P({"op": "x", "d": {"__Serialized__": 1}}), b"\xc1", data])
run("compression-short", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "compression": [], "num-sub-frames": 1}), data])
run("compression-unknown", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "compression": ["blosc"], "num-sub-frames": 1}), data])
run("split-merge", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "split-num-sub-frames": [2], "split-offsets": [0], "compression": [None, None], "num-sub-frames": 2}), data[:1], data[1:]])
run("split-inconsistent-offsets", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "split-num-sub-frames": [1], "split-offsets": [1], "compression": [None, None], "num-sub-frames": 2}), data, data])
run("split-nsf-sum-short", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "split-num-sub-frames": [1], "split-offsets": [0], "num-sub-frames": 2}), data, b"zz"])
run("split-missing-offsets", [P({"op": "x", "d": {"__Serialized__": 1}}), P({"serializer": "msgpack", "split-num-sub-frames": [1], "num-sub-frames": 1}), data])
run("frame0-trailing", [P({"op": "x"}) + b"\x00"])
run("frame0-ext", [b"\x81\xa2op\xd4\x01\x00"])
run("frame0-scalar", [P(5)])
run("frame0-dup-key", [b"\x82\xa1a\x01\xa1a\x02"])
run("frame0-float-key", [b"\x81\xcb" + b"\x00"*8 + b"\x01"])
run("frame0-map-key", [b"\x81\x80\x01"])
run("frame0-invalid-utf8", [b"\x81\xa1\xff\x01"])
run("empty-frames", [])
