import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging; logging.disable(logging.CRITICAL)
from wireview import describe
from distributed.protocol import dumps, loads, to_serialize, ToPickle
for msg in [{"op": "x", "a": to_serialize(b"x"), "c": 1 + 2j},
            {"op": "x", "c": 1 + 2j, "a": to_serialize(b"x")},
            {"op": "x", "k": {to_serialize(b"key"): 1}},
            {"op": "x", "k": {ToPickle(5): 1}},
            {"op": "x", "t": (1, [2, (3,)])},
            {"op": "x", "big": 2**64},
            {"op": "x", "f": 1.5, "i": -1, "n": None}]:
    try:
        fr = dumps(msg, context={"compression": None})
        print("==", list(msg)[1:], len(fr), "frames"); print(describe(fr))
        try:
            r = loads(fr, deserialize=False); print("   loads ok:", type(r).__name__)
        except Exception as e:
            print("   loads:", type(e).__name__, e)
    except Exception as e:
        print("== ERR", type(e).__name__, e)
