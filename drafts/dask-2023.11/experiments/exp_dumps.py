import os
import sys, enum, fractions
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, msgpack, dask
from wireview import describe, raw, show
from distributed.protocol import dumps, loads, to_serialize, Serialize, Serialized, ToPickle
from distributed.core import Status

cases = {
 "bytes": {"op": "x", "data": to_serialize(b"abc")},
 "numpy": {"op": "x", "data": to_serialize(np.arange(12, dtype="i8").reshape(3, 4))},
 "pickle-ser": {"op": "x", "data": to_serialize(fractions.Fraction(1, 3))},
 "exception": {"op": "x", "e": to_serialize(ValueError("boom"))},
 "empty": {"op": "x", "a": to_serialize(b""), "b": to_serialize(np.empty(0))},
 "passthrough": {"op": "x", "d": Serialized({"serializer": "msgpack"}, [msgpack.packb([1, 2, 3])])},
 "topickle": {"op": "x", "d": ToPickle({"a": 1})},
 "topickle-buf": {"op": "x", "d": ToPickle(np.zeros(512))},
 "set": {"op": "x", "s": {1, 2, 3}},
 "enum": {"op": "x", "st": Status.running},
 "fallback": {"op": "x", "c": 1 + 2j},
 "order": {"op": "x", "b": [to_serialize(b"1"), ToPickle(2)], "a": {("k", 1): to_serialize(b"3")}},
 "coll-list": {"op": "x", "d": to_serialize([b"a", np.arange(2)])},
 "coll-dict": {"op": "x", "d": to_serialize({"k": np.arange(2)})},
 "batch": [{"op": "a"}, {"op": "b", "d": to_serialize(b"z")}],
 "set-in-ser": {"op": "x", "d": Serialized({"serializer": "msgpack", "s": {1}, "ser": Serialize(b"q")}, [b"\x90"])},
}
for name, msg in cases.items():
    try:
        fr = dumps(msg, context={"compression": None})
    except Exception as e:
        print(name, "ERROR", type(e).__name__, e); continue
    print(f"== {name}: {len(fr)} frames")
    print(describe(fr))
    f0 = bytes(fr[0]); print("  frame0 hex:", f0.hex(" ") if len(f0) < 120 else f0[:120].hex(" ") + " ...")

# compression
big = b"abcdefgh" * 5000
for codec in ["lz4", "zlib"]:
    fr = dumps({"op": "x", "d": to_serialize(big), "p": ToPickle(np.zeros(10000))}, context={"compression": codec})
    print(f"== compress {codec}"); print(describe(fr))
    print("   lz4 prefix:", bytes(fr[2][:8]).hex(" "))
# split
dask.config.set({"distributed.comm.shard": "64KiB"})
fr = dumps({"op": "x", "d": to_serialize(b"x" * 150000), "n": to_serialize(np.zeros(150000, "u1"))}, context={"compression": None}, frame_split_size=65536)
print("== split"); print(describe(fr))
fr = dumps({"op": "x", "d": to_serialize(b"ab" * 75000)}, context={"compression": "lz4"}, frame_split_size=65536)
print("== split+lz4"); print(describe(fr))
fr = dumps({"op": "x", "d": to_serialize([b"ab" * 75000, b"c"*10])}, context={"compression": None}, frame_split_size=65536)
print("== split collection"); print(describe(fr))
