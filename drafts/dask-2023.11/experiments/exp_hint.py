import os
"""How distributed's TCP.read treats odd no-split hints. Raw socket client, hand-made bytes."""
import asyncio, sys, struct
import logging; logging.disable(logging.CRITICAL)
import msgpack
from distributed.comm import listen
P = lambda v: msgpack.packb(v, use_bin_type=True)
HS = P({"compression": None, "python": (3, 11, 7), "pickle-protocol": 5})

def msg(frames, hint=None):
    pre = struct.pack(f"<Q{len(frames)}Q", len(frames), *map(len, frames))
    h = len(pre) + sum(map(len, frames)) if hint is None else hint
    return struct.pack("<Q", h) + pre + b"".join(frames)

SH = P({"serializer": "msgpack", "num-sub-frames": 1}); D = P([1, 2])
m3 = [P({"op": "x", "d": {"__Serialized__": 1}}), SH, D]
pre3 = 8 + 8 * 3
cases = {
  "hint=total": [msg(m3)],
  "hint=prelude-only": [msg(m3, pre3)],
  "hint=after-frame0": [msg(m3, pre3 + len(m3[0]))],
  "hint=mid-frame0": [msg(m3, pre3 + 3)],
  "hint=mid-frame2": [msg(m3, pre3 + len(m3[0]) + len(SH) + 1)],
  "hint=mid-prelude(8)": [msg(m3, 8)],
  "hint=0": [msg(m3, 0)],
  "hint=total+8 (then a 2nd msg)": [msg(m3, pre3 + sum(map(len, m3)) + 8), msg([P({"op": "second"})])],
  "hint=total+1000 (then 2nd msg)": [msg(m3, pre3 + sum(map(len, m3)) + 1000), msg([P({"op": "second"})])],
  "nframes=0": [struct.pack("<QQ", 8, 0)],
  "two msgs ok": [msg([P({"op": "a"})]), msg([P({"op": "b"})])],
  "big-endian hint": [struct.pack(">Q", 8 + 8 + len(P({"op": "a"}))) + struct.pack("<QQ", 1, len(P({"op": "a"}))) + P({"op": "a"})],
}

async def one(name, payloads):
    rec = []
    async def handler(comm):
        try:
            while True:
                rec.append(repr(await asyncio.wait_for(comm.read(), 1.5))[:100])
        except BaseException as e:
            rec.append(f"{type(e).__name__}: {str(e)[:80]}")
        finally:
            comm.abort()
    lst = listen("tcp://127.0.0.3:0", handler, deserialize=False); await lst.start()
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.3", lst.get_host_port()[1]), 5)
    try:
        w.write(msg([HS])); await w.drain()
        await asyncio.wait_for(r.readexactly(66), 5)
        for p in payloads: w.write(p)
        await w.drain(); await asyncio.sleep(2.0)
    finally:
        w.close(); lst.stop(); await asyncio.sleep(0.1)
    print(f"{name:32s} -> {rec}")

async def main():
    for k, v in cases.items():
        await asyncio.wait_for(one(k, v), 10)
asyncio.run(asyncio.wait_for(main(), 150))
