import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging; logging.disable(logging.CRITICAL)
from wireview import describe
from distributed.protocol import dumps, to_serialize
class Bad:
    def __reduce__(self): raise RuntimeError("nope")
print(describe(dumps({"op": "x", "d": to_serialize(Bad())}, context={"compression": None})))
print(describe(dumps({"op": "x", "d": to_serialize({"a": [1, 2]})}, serializers=["msgpack"], context={"compression": None})))
print(describe(dumps({"op": "x", "d": to_serialize(b"")}, context={"compression": None})))
