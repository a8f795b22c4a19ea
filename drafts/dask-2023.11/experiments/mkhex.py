import os
import sys, struct; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exp_tcp import split_msgs
C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "caps"); O = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hex")
def w(name, comment, b):
    with open(f"{O}/{name}", "w") as f:
        f.write(f"# {comment}\n")
        for i in range(0, len(b), 32): f.write(b[i:i+32].hex(" ") + "\n")
    print(name, len(b))
def msgs(fn): return split_msgs(open(f"{C}/{fn}", "rb").read())
V = "distributed 2026.8.0, Python 3.11.7, captured by a byte-copying proxy on 127.0.0.2 between distributed.comm.connect (127.0.0.1) and distributed.comm.listen (127.0.0.3), scripts/exp_tcp.py"
m = msgs("handshake-none.c2s.bin")[0]; w("handshake-none.hex", f"comm handshake, client->listener, distributed.comm.compression=False; {len(m['bytes'])} bytes: u64 hint={m['hint']}, u64 nframes={m['n']}, u64 len={m['lens']}, frame 0 msgpack {{compression: nil, python: [3,11,7], pickle-protocol: 5}}; listener->client bytes identical. {V}", m["bytes"])
m = msgs("handshake-lz4.c2s.bin")[0]; w("handshake-lz4.hex", f"comm handshake, client->listener, distributed.comm.compression=lz4, peers on distinct IPs; {len(m['bytes'])} bytes: hint={m['hint']}, nframes={m['n']}, lens={m['lens']}, frame 0 {{compression: 'lz4', python: [3,11,7], pickle-protocol: 5}}; listener reply identical. {V}", m["bytes"])
m = msgs("sched-rpc.c2s.bin")[0]; w("handshake-scheduler-outgoing.hex", f"comm handshake written by a real distributed.Scheduler on an outgoing rpc connection (connection_args handshake_overrides), compression=lz4: frame 0 {{compression: 'lz4', python: [3,11,7], pickle-protocol: 4}}; {len(m['bytes'])} bytes, hint={m['hint']}, lens={m['lens']}. scripts/exp_scheduler.py", m["bytes"])
m = msgs("sched-listener.s2c.bin")[0]; w("handshake-scheduler-listener.hex", f"comm handshake written by a real distributed.Scheduler's listener (its handshake_overrides {{pickle-protocol: 4, compression: nil}} are dropped): frame 0 {{compression: 'lz4', python: [3,11,7], pickle-protocol: 5}}; {len(m['bytes'])} bytes. scripts/exp_scheduler.py", m["bytes"])
m = msgs("compute-task.c2s.bin")[1]; w("compute-task.hex", f"compute-task-like message (scheduler._task_to_msg shape; run_spec = ToPickle(dask._task_spec.Task) made by the probe itself), compression=False, after the handshake; {len(m['bytes'])} bytes: hint={m['hint']} (= whole message), nframes={m['n']}, lens={m['lens']}; frame 0 = msgpack map with run_spec {{'__Pickled__': 1}}, frame 1 = __Pickled__ sub-header {{pickled-obj: bin(pickle protocol 5), compression: [], num-sub-frames: 0}}. {V}", m["bytes"])
m = msgs("batch.c2s.bin")[1]; w("batch.hex", f"batched message as distributed.batched.BatchedSend writes it: frame 0 = msgpack array of 3 messages (task-finished with tuple key, heartbeat-worker, add-keys with a __Set__ marker of tuple keys; set order is Python hash order), compression=False; {len(m['bytes'])} bytes: hint={m['hint']}, nframes={m['n']}, lens={m['lens']}. {V}", m["bytes"])
m = msgs("two-arrays.c2s.bin")[1]; w("two-arrays-hint.hex", f"message with two numpy arrays (to_serialize(np.arange(128)) twice), compression=False: no-split hint {m['hint']} < message {len(m['bytes'])-8}+8 bytes; the hint stops before the second array's data frame; nframes={m['n']}, lens={m['lens']}. {V}", m["bytes"])
