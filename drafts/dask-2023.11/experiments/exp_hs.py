import os
from distributed.comm.core import Comm
L = {"compression": None, "python": (3, 11, 7), "pickle-protocol": 5}
for name, R in {"no-python": {"compression": None, "pickle-protocol": 5},
                "no-compression": {"python": (3, 11, 7), "pickle-protocol": 5},
                "no-pickle-protocol": {"compression": None, "python": (3, 11, 7)},
                "lz4-vs-None": {"compression": "lz4", "python": (3,), "pickle-protocol": 4},
                "extra-keys": {"compression": None, "pickle-protocol": 5, "x": 1},
                "pp-str": {"compression": None, "pickle-protocol": "5"}}.items():
    try: print(name, "->", Comm.handshake_configuration(L, R))
    except Exception as e: print(name, "->", type(e).__name__, str(e)[:60])
