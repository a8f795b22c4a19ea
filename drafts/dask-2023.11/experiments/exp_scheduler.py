"""Real Scheduler handshake on both sides (listener side and outgoing rpc side), through a byte-copying proxy."""
import asyncio, sys, struct, json, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging; logging.basicConfig(level=logging.ERROR)
import dask, msgpack
dask.config.set({"distributed.comm.compression": "lz4"})
from distributed import Scheduler
from distributed.comm import connect, listen
from exp_tcp import Proxy, split_msgs
OUT = sys.argv[1]

def frame0s(buf):
    res = []
    for m in split_msgs(buf):
        b = m["bytes"]; n = m["n"]; f0 = b[16 + 8 * n: 16 + 8 * n + m["lens"][0]]
        res.append(msgpack.unpackb(f0, strict_map_key=False))
    return res

async def main():
    s = await asyncio.wait_for(Scheduler(host="127.0.0.3", port=0, dashboard_address=None, dashboard=False), 20)
    try:
        # 1. client -> scheduler listener
        port = int(s.address.rsplit(":", 1)[1])
        px = Proxy(("127.0.0.3", port)); srv = await asyncio.start_server(px.handle, "127.0.0.2", 0)
        comm = await asyncio.wait_for(connect(f"tcp://127.0.0.2:{srv.sockets[0].getsockname()[1]}", timeout=5), 10)
        await comm.write({"op": "identity", "reply": True}); r = await asyncio.wait_for(comm.read(), 5)
        print("scheduler listener handshake (s2c):", frame0s(bytes(px.s2c))[0])
        print("client handshake (c2s):", frame0s(bytes(px.c2s))[0])
        print("client handshake_options:", comm.handshake_options)
        open(f"{OUT}/sched-listener.s2c.bin", "wb").write(bytes(px.s2c)); open(f"{OUT}/sched-listener.c2s.bin", "wb").write(bytes(px.c2s))
        await comm.close(); srv.close()
        # 2. scheduler's outgoing rpc -> my listener
        got = {}
        async def handler(c):
            try:
                m = await asyncio.wait_for(c.read(), 5); got["msg"] = m; got["opts"] = c.handshake_options
                await c.write({"status": "OK"})
            finally:
                await c.close()
        lst = listen("tcp://127.0.0.3:0", handler); await lst.start()
        px2 = Proxy(("127.0.0.3", lst.get_host_port()[1])); srv2 = await asyncio.start_server(px2.handle, "127.0.0.2", 0)
        addr = f"tcp://127.0.0.2:{srv2.sockets[0].getsockname()[1]}"
        try:
            await asyncio.wait_for(s.rpc(addr).ping(), 10)
        except Exception as e:
            print("rpc result:", type(e).__name__, e)
        await asyncio.sleep(0.2)
        print("scheduler outgoing handshake (c2s):", frame0s(bytes(px2.c2s))[0])
        print("listener handshake (s2c):", frame0s(bytes(px2.s2c))[0])
        print("listener-side negotiated:", got.get("opts"), "msg:", got.get("msg"))
        open(f"{OUT}/sched-rpc.c2s.bin", "wb").write(bytes(px2.c2s))
        lst.stop(); srv2.close()
        for t in px.tasks + px2.tasks: t.cancel()
    finally:
        await asyncio.wait_for(s.close(), 10)

asyncio.run(asyncio.wait_for(main(), 60))
