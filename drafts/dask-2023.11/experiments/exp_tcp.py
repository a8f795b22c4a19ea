"""Loopback TCP capture: distributed.comm.connect -> byte-copying proxy (127.0.0.2) -> listen (127.0.0.3).
Records both directions, writes hex dumps. Everything bounded by timeouts; everything closed."""
import asyncio, sys, json, struct, operator, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging; logging.basicConfig(level=logging.WARNING)
import dask
from distributed.comm import connect, listen
from distributed.protocol import to_serialize, ToPickle
from distributed.batched import BatchedSend
from dask._task_spec import Task
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/caps"
os.makedirs(OUT, exist_ok=True)

class Proxy:
    def __init__(self, target):
        self.target = target; self.c2s = bytearray(); self.s2c = bytearray(); self.tasks = []
    async def handle(self, r, w):
        tr, tw = await asyncio.wait_for(asyncio.open_connection(*self.target), 5)
        async def pump(src, dst, buf):
            try:
                while True:
                    d = await src.read(65536)
                    if not d: break
                    buf.extend(d); dst.write(d); await dst.drain()
            except Exception: pass
            finally:
                try: dst.close()
                except Exception: pass
        self.tasks += [asyncio.ensure_future(pump(r, tw, self.c2s)), asyncio.ensure_future(pump(tr, w, self.s2c))]

def split_msgs(buf):
    out, i = [], 0
    while i < len(buf):
        hint, = struct.unpack_from("<Q", buf, i); n, = struct.unpack_from("<Q", buf, i + 8)
        lens = struct.unpack_from(f"<{n}Q", buf, i + 16)
        end = i + 16 + 8 * n + sum(lens)
        out.append(dict(offset=i, hint=hint, n=n, lens=list(lens), bytes=bytes(buf[i:end]))); i = end
    return out

async def session(codec, label, scenario):
    dask.config.set({"distributed.comm.compression": codec})
    received = []
    async def handler(comm):
        try:
            while True:
                m = await asyncio.wait_for(comm.read(), 5)
                received.append(m)
                await comm.write({"op": "ack"})
        except Exception as e:
            received.append(("closed", type(e).__name__))
        finally:
            await comm.close()
    lst = listen("tcp://127.0.0.3:0", handler, deserialize=False, **scenario.get("listen_kwargs", {}))
    await asyncio.wait_for(lst.start(), 5)
    port = lst.get_host_port()[1]
    px = Proxy(("127.0.0.3", port))
    srv = await asyncio.start_server(px.handle, "127.0.0.2", 0)
    pport = srv.sockets[0].getsockname()[1]
    comm = await asyncio.wait_for(connect(f"tcp://127.0.0.2:{pport}", timeout=5, **scenario.get("connect_kwargs", {})), 10)
    info = dict(local=comm.local_info, remote=comm.remote_info, opts=comm.handshake_options)
    try:
        await asyncio.wait_for(scenario["run"](comm), 10)
    finally:
        await comm.close(); lst.stop(); srv.close()
        await asyncio.sleep(0.2)
        for t in px.tasks: t.cancel()
    return px, info, received

def task_msg():
    return {"op": "compute-task", "key": ("inc-abc", 0), "run_id": 1, "priority": (0, 1, 0),
            "stimulus_id": "compute-task-1700000000.0",
            "who_has": {("x-def", 0): ("tcp://127.0.0.3:40000",)}, "nbytes": {("x-def", 0): 8},
            "run_spec": ToPickle(Task(("inc-abc", 0), operator.add, 1, 2)),
            "resource_restrictions": {}, "actor": False, "annotations": {}, "span_id": None}

async def run_task(comm):
    await comm.write(task_msg()); await comm.read()
async def run_batch(comm):
    b = BatchedSend(interval="20ms"); b.start(comm)
    b.send({"op": "task-finished", "key": ("inc-abc", 0), "nbytes": 28, "stimulus_id": "s1"},
           {"op": "heartbeat-worker", "now": 1.5}, {"op": "add-keys", "keys": {("a", 1), ("b", 2)}})
    await asyncio.sleep(0.2); await comm.read(); b.abort()
async def run_two_arrays(comm):
    await comm.write({"op": "x", "a": to_serialize(np.arange(128)), "b": to_serialize(np.arange(128))}); await comm.read()
async def run_big(comm):
    await comm.write({"op": "x", "d": to_serialize(b"ab" * 20000), "n": to_serialize(np.zeros(20000))}); await comm.read()
async def nothing(comm): pass

def dump_hex(path, comment, b):
    with open(path, "w") as f:
        f.write(f"# {comment}\n")
        for i in range(0, len(b), 32): f.write(b[i:i+32].hex(" ") + "\n")

async def main():
    results = {}
    scen = {
      "handshake-none": (False, dict(run=nothing)),
      "handshake-lz4": ("lz4", dict(run=nothing)),
      "listener-overrides": ("lz4", dict(run=nothing, listen_kwargs={"handshake_overrides": {"pickle-protocol": 4, "compression": None}})),
      "connect-overrides": ("lz4", dict(run=nothing, connect_kwargs={"handshake_overrides": {"pickle-protocol": 4}})),
      "compute-task": (False, dict(run=run_task)),
      "compute-task-lz4": ("lz4", dict(run=run_task)),
      "batch": (False, dict(run=run_batch)),
      "two-arrays": (False, dict(run=run_two_arrays)),
      "big-lz4": ("lz4", dict(run=run_big)),
      "big-none": (False, dict(run=run_big)),
    }
    for name, (codec, sc) in scen.items():
        px, info, rec = await session(codec, name, sc)
        c2s, s2c = split_msgs(bytes(px.c2s)), split_msgs(bytes(px.s2c))
        results[name] = dict(info={k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()} for k, v in info.items()},
                             c2s=[dict(hint=m["hint"], n=m["n"], lens=m["lens"], total=len(m["bytes"])) for m in c2s],
                             s2c=[dict(hint=m["hint"], n=m["n"], lens=m["lens"], total=len(m["bytes"])) for m in s2c],
                             received=[repr(r)[:300] for r in rec])
        with open(f"{OUT}/{name}.c2s.bin", "wb") as f: f.write(bytes(px.c2s))
        with open(f"{OUT}/{name}.s2c.bin", "wb") as f: f.write(bytes(px.s2c))
    print(json.dumps(results, indent=1, default=str))

if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), 120))
