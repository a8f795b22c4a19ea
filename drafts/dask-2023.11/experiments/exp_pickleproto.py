import os
import sys, fractions; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from wireview import describe
from distributed.protocol import dumps, to_serialize, ToPickle
class C:  # no dask serializer -> 'pickle' family, with an out-of-band buffer
    def __init__(self): self.a = np.arange(4)
for pp in (5, 4):
    fr = dumps({"s": to_serialize(C()), "p": ToPickle(np.arange(4)), "n": to_serialize(np.arange(2))},
               context={"compression": None, "pickle-protocol": pp})
    print("== pickle-protocol", pp); print(describe(fr))
    for i, f in enumerate(fr):
        b = bytes(f)
        if b[:1] == b"\x80": print("   frame", i, "starts PROTO", b[1])
