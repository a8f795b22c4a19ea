import os
"""Helpers: view frames without unpickling anything."""
import msgpack, pickletools, io

def is_pickle(b):
    try:
        ops = list(pickletools.genops(io.BytesIO(bytes(b))))
        return ops[-1][0].name == "STOP" and ops[0][0].name == "PROTO"
    except Exception:
        return False

def show(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        if is_pickle(b):
            return f"<pickle proto {b[1]} {len(b)}B>"
        return f"bin({b.hex()})" if len(b) <= 40 else f"bin[{len(b)}B]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{show(k)}: {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return repr(v)

def raw(b):
    return msgpack.unpackb(bytes(b), raw=False, strict_map_key=False, use_list=False)

def describe(frames):
    out = []
    for i, f in enumerate(frames):
        b = bytes(f)
        try:
            d = show(raw(b))
        except Exception as e:
            d = f"<not msgpack: {len(b)}B {b[:16].hex()}>"
        out.append(f"  frame {i} ({len(b)}B, {type(f).__name__}{'/'+type(f.obj).__name__ if isinstance(f, memoryview) else ''}): {d}")
    return "\n".join(out)
