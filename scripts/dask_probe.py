"""Probe one installed distributed release: print, as JSON, the frames and TCP bytes it writes.

Run by scripts/dask_release_range.py inside a throwaway virtual environment that holds one pinned
`distributed` (plus numpy and lz4); it can also be run by hand in any environment with
distributed installed: `python scripts/dask_probe.py > out.json`.

Two records per message of a fixed table (MESSAGES):

- `dumps`: the frame list that `distributed.protocol.dumps` returns;
- `tcp`: the exact bytes on a real TCP connection. A `distributed.comm` listener on 127.0.0.3
  answers every message with a small acknowledgement; a `distributed.comm` client connects to it
  through a byte-copying proxy on 127.0.0.2, which records each direction. The addresses differ
  so that the peers do not see each other as the same host (distributed then never compresses);
  each session configures `distributed.comm.compression` before it connects, the comm handshake
  included.

Each frame is described by its role (frame 0, a marker's sub-header, a data frame or buffer), its
length, SHA-256, bytes (hex, up to HEX_LIMIT) and, for msgpack frames, its decoded value in a
typed JSON notation in which every pickle is tagged. Nothing received is ever unpickled by this
script; distributed's own reader unpickles `__Pickled__` values of the fixed table only.

Deterministic by construction: the data are derived from SHA-256, sets hold small integers
(PYTHONHASHSEED does not matter for them), and `distributed.comm.shard` is set to SHARD before
distributed is imported, so that a 150 kB value is split into shards cheaply.
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import importlib
import json
import os
import pickletools
import platform
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

SHARD = "64KiB"  # distributed.comm.shard during the probe (default 64MiB)
HEX_LIMIT = 4096  # frames up to this many bytes are recorded whole, longer ones by hash
STEP_TIMEOUT = 20.0  # seconds for one connect, write or read
PROBE_TIMEOUT = 240.0  # seconds for the whole TCP part
SERVER_HOST = "127.0.0.3"
PROXY_HOST = "127.0.0.2"
#: One TCP session per value of distributed.comm.compression.
SESSIONS: tuple[tuple[str, str | bool], ...] = (("none", False), ("lz4", "lz4"), ("zlib", "zlib"))


def module(name: str) -> Any:
    """Import a module of the release under test, untyped: its API is what is being probed."""
    return importlib.import_module(name)


def pseudo_random(n: int, seed: str) -> bytes:
    """`n` incompressible but reproducible bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


# -- the message table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One message; `dumps` is encoded once per codec in `codecs` (None: no compression)."""

    name: str
    what: str
    build: Callable[[], Any]
    codecs: tuple[str | None, ...] = (None,)


def _cases() -> list[Case]:
    np = module("numpy")
    status = module("distributed.core").Status
    to_serialize = module("distributed.protocol").to_serialize
    to_pickle = module("distributed.protocol.serialize").ToPickle
    serialized = module("distributed.protocol.serialize").Serialized

    def array(n: int, seed: str) -> Any:
        return np.frombuffer(bytearray(pseudo_random(n, seed)), dtype="u1")

    return [
        Case(
            "control",
            "plain control message: str, int, float, bool, nil, nested map and array",
            lambda: {
                "op": "heartbeat-worker",
                "address": "tcp://127.0.0.1:40000",
                "now": 1700000000.25,
                "metrics": {"executing": 0, "in_memory": 3, "spilled": {"memory": 0}},
                "keys": ["x-1", "y-2"],
                "reply": True,
                "stimulus_id": None,
                "n": -5,
                "big": 2**40,
            },
        ),
        Case(
            "batch",
            "batched list of three messages (a tuple key inside)",
            lambda: [
                {"op": "task-finished", "key": "x-1", "nbytes": 8, "startstops": [[1.5, 2.5]]},
                {"op": "add-keys", "keys": ["a", "b"]},
                {"op": "release-key", "key": ("x", 0)},
            ],
        ),
        Case(
            "tuple-map-keys",
            "map whose keys are arrays (tuple task keys)",
            lambda: {"op": "who-has", "who_has": {("x", 0): ["tcp://a:1"], ("x", 1): []}},
        ),
        Case(
            "serialize-bytes",
            'to_serialize(b"abc"): the smallest Serialized value',
            lambda: {"op": "x", "data": to_serialize(b"abc")},
        ),
        Case(
            "serialize-numpy",
            "to_serialize of a 3x4 int64 numpy array",
            lambda: {"op": "x", "data": to_serialize(np.arange(12, dtype="<i8").reshape(3, 4))},
        ),
        Case(
            "serialize-pickle",
            "to_serialize(Fraction(1, 3)): the `pickle` serializer",
            lambda: {"op": "x", "data": to_serialize(fractions.Fraction(1, 3))},
        ),
        Case(
            "serialize-exception",
            'to_serialize(ValueError("boom")): how task-erred carries an exception',
            lambda: {"op": "task-erred", "exception": to_serialize(ValueError("boom"))},
        ),
        Case(
            "serialize-empty",
            'to_serialize(b"") and of an empty float64 array: zero-length data frames',
            lambda: {
                "op": "x",
                "data": to_serialize(b""),
                "array": to_serialize(np.zeros(0, dtype="<f8")),
            },
        ),
        Case(
            "serialized-passthrough",
            'Serialized({"serializer": "msgpack"}, [msgpack [1, 2, 3]]): a forwarded value',
            lambda: {
                "op": "x",
                "data": serialized({"serializer": "msgpack"}, [b"\x93\x01\x02\x03"]),
            },
        ),
        Case(
            "to-pickle",
            "ToPickle of a dict",
            lambda: {"op": "x", "value": to_pickle({"a": 1, "b": [1, 2, 3], "c": "text"})},
        ),
        Case(
            "to-pickle-buffer",
            "ToPickle of a 4 kB numpy array (one out-of-band pickle buffer)",
            lambda: {"op": "x", "value": to_pickle(array(4096, "to-pickle-buffer"))},
        ),
        Case(
            "to-pickle-compressible",
            "ToPickle of 80 kB of float64 zeros (compressible pickle buffer): no codec, lz4, zlib",
            lambda: {"op": "x", "value": to_pickle(np.zeros(10_000, dtype="<f8"))},
            codecs=(None, "lz4", "zlib"),
        ),
        Case(
            "set",
            "a set of integers (`__Set__` marker)",
            lambda: {"op": "x", "keys": {3, 1, 2}},
        ),
        Case(
            "enum",
            "distributed.core.Status.running (`__Enum__` marker)",
            lambda: {"op": "worker-status-change", "status": status.running},
        ),
        Case(
            "nested",
            "nested mix: markers under tuple map keys and inside an array, inline bin",
            lambda: {
                "op": "mix",
                "tasks": {
                    ("x", 0): {"data": to_serialize(b"abc"), "meta": to_pickle([1, 2])},
                    ("x", 1): {"data": to_serialize(b"def")},
                },
                "list": [to_serialize(b"ghi"), None, 1.5, True, b"raw", "str"],
            },
        ),
        Case(
            "pickle-fallback",
            "a value msgpack cannot pack (complex): pickle fallback or error",
            lambda: {"op": "x", "value": complex(1, 2)},
        ),
        Case(
            "inline-bin-100k",
            "100 kB of bytes inline in frame 0 (bin 32)",
            lambda: {"op": "x", "blob": pseudo_random(100_000, "inline")},
        ),
        Case(
            "split-bytes",
            f"to_serialize of 150 kB of bytes, split into shards of {SHARD}",
            lambda: {"op": "x", "data": to_serialize(pseudo_random(150_000, "split"))},
        ),
        Case(
            "split-numpy",
            f"to_serialize of a 150 kB uint8 array, split into shards of {SHARD}",
            lambda: {"op": "x", "data": to_serialize(array(150_000, "split-numpy"))},
        ),
        Case(
            "two-arrays",
            "two 1 kB numpy arrays (two raw buffers: the no-split hint stops before the second)",
            lambda: {
                "op": "x",
                "a": to_serialize(array(1024, "two-arrays-a")),
                "b": to_serialize(array(1024, "two-arrays-b")),
            },
        ),
        Case(
            "bin-then-array",
            "4 kB inline bin, then an 8 kB numpy array (hint stops before the array)",
            lambda: {
                "op": "x",
                "blob": pseudo_random(4000, "bin-then-array"),
                "arr": to_serialize(array(8192, "bin-then-array")),
            },
        ),
        Case(
            "compressible",
            "to_serialize of 36 kB of repeated text: dumps with no codec, lz4, zlib",
            lambda: {"op": "x", "data": to_serialize(b"daskwire " * 4000)},
            codecs=(None, "lz4", "zlib"),
        ),
        Case(
            "compressible-numpy",
            "to_serialize of 80 kB of float64 zeros: dumps with no codec, lz4, zlib",
            lambda: {"op": "x", "data": to_serialize(np.zeros(10_000, dtype="<f8"))},
            codecs=(None, "lz4", "zlib"),
        ),
    ]


# -- describing frames ---------------------------------------------------------------------------


class Pairs(list[tuple[Any, Any]]):
    """A msgpack map as its key/value pairs in wire order."""


def _is_pickle(data: bytes) -> bool:
    if not data.startswith(b"\x80"):
        return False
    try:
        end = 0
        for _op, _arg, pos in pickletools.genops(data):
            end = pos if pos is not None else end
    except Exception:
        return False
    return data[end : end + 1] == b"." and end + 1 == len(data)


def notation(value: Any) -> Any:
    """A typed JSON form of a decoded msgpack value; pickles are tagged, never loaded."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, bytes):
        if _is_pickle(value):
            return {"pickle": value.hex()}
        return {"bin": value.hex()}
    if isinstance(value, Pairs):
        return {"map": [[notation(k), notation(v)] for k, v in value]}
    if isinstance(value, list | tuple):
        return {"array": [notation(v) for v in value]}
    import msgpack

    if isinstance(value, msgpack.ExtType):
        return {"ext": [value.code, value.data.hex()]}
    raise TypeError(f"unexpected decoded type {type(value).__name__}")


def unpack(frame: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(
        frame, raw=False, use_list=True, strict_map_key=False, object_pairs_hook=Pairs
    )


def _markers(value: Any) -> Iterator[tuple[str, int]]:
    """(kind, frame index) of every {"__Serialized__": i} / {"__Pickled__": i} map."""
    if isinstance(value, Pairs):
        if len(value) == 1 and value[0][0] in ("__Serialized__", "__Pickled__"):
            kind, index = value[0]
            if isinstance(index, int) and not isinstance(index, bool):
                yield kind, index
                return
        for k, v in value:
            yield from _markers(k)
            yield from _markers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _markers(v)


def describe(frames: list[bytes]) -> list[dict[str, Any]]:
    """Role, size, hash, bytes and (msgpack frames) decoded value of each frame."""
    roles = ["unclaimed"] * len(frames)
    decoded: dict[int, Any] = {}
    if frames:
        try:
            decoded[0] = unpack(frames[0])
            roles[0] = "frame0"
        except Exception:
            roles[0] = "frame0 (not msgpack)"
    for kind, index in sorted(_markers(decoded.get(0)), key=lambda m: m[1]):
        if not 0 < index < len(frames):
            continue
        roles[index] = "sub-header"
        try:
            sub = unpack(frames[index])
        except Exception:
            roles[index] = "sub-header (not msgpack)"
            continue
        decoded[index] = sub
        count = dict(sub).get("num-sub-frames", 0) if isinstance(sub, Pairs) else 0
        data_role = "buffer" if kind == "__Pickled__" else "data"
        for j in range(index + 1, min(index + 1 + int(count), len(frames))):
            roles[j] = data_role
    out = []
    for i, frame in enumerate(frames):
        entry: dict[str, Any] = {
            "role": roles[i],
            "len": len(frame),
            "sha256": hashlib.sha256(frame).hexdigest(),
            "hex": frame.hex() if len(frame) <= HEX_LIMIT else None,
        }
        if i in decoded:
            entry["value"] = notation(decoded[i])
        out.append(entry)
    return out


def split_stream(data: bytes) -> list[dict[str, Any]]:
    """Cut one direction's bytes into TCP messages: u64 hint, u64 count, u64 lengths, frames."""
    messages: list[dict[str, Any]] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 16:
            messages.append({"error": "truncated prelude", "rest": data[pos:].hex()})
            break
        hint, count = struct.unpack_from("<QQ", data, pos)
        if count > 100_000 or len(data) - pos < 16 + 8 * count:
            messages.append({"error": f"implausible frame count {count}"})
            break
        lengths = list(struct.unpack_from(f"<{count}Q", data, pos + 16))
        start = pos + 16 + 8 * count
        end = start + sum(lengths)
        if end > len(data):
            messages.append({"error": "truncated frames", "hint": hint, "lengths": lengths})
            break
        frames = []
        offset = start
        for n in lengths:
            frames.append(data[offset : offset + n])
            offset += n
        messages.append(
            {
                "hint": hint,
                "count": count,
                "lengths": lengths,
                "prelude": data[pos:start].hex() if count <= 64 else None,
                "frames": describe(frames),
            }
        )
        pos = end
    return messages


# -- dumps ---------------------------------------------------------------------------------------


def probe_dumps(cases: list[Case]) -> list[dict[str, Any]]:
    dumps = module("distributed.protocol").dumps

    out: list[dict[str, Any]] = []
    for case in cases:
        for codec in case.codecs:
            name = case.name if codec is None else f"{case.name}/{codec}"
            record: dict[str, Any] = {"name": name, "what": case.what, "codec": codec}
            try:
                frames = dumps(case.build(), context={"compression": codec})
            except Exception as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
            else:
                record["frames"] = describe([bytes(memoryview(f)) for f in frames])
            out.append(record)
    return out


# -- TCP -----------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """A byte-copying proxy that files what passes under the current step's name."""

    upstream: tuple[str, int]
    step: str = "handshake"
    sent: dict[str, bytearray] = field(default_factory=dict)  # client -> server
    received: dict[str, bytearray] = field(default_factory=dict)  # server -> client
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: dict[str, bytearray]
    ) -> None:
        try:
            while chunk := await reader.read(1 << 16):
                log.setdefault(self.step, bytearray()).extend(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(*self.upstream), STEP_TIMEOUT
        )
        for task in (
            asyncio.create_task(self.pump(reader, up_writer, self.sent)),
            asyncio.create_task(self.pump(up_reader, writer, self.received)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


async def tcp_session(cases: list[Case], compression: str | bool) -> dict[str, Any]:
    dask_config = module("dask.config")
    connect = module("distributed.comm").connect
    listen = module("distributed.comm").listen

    connected = asyncio.Event()
    server_errors: list[str] = []

    async def handle(comm: Any) -> None:
        connected.set()
        try:
            while True:
                await comm.read()
                await comm.write({"op": "ack"})
        except Exception as exc:  # the client closing the comm ends the loop
            if not comm.closed():
                server_errors.append(f"{type(exc).__name__}: {exc}")

    steps: list[dict[str, Any]] = []
    with dask_config.set({"distributed.comm.compression": compression}):
        listener = listen(f"tcp://{SERVER_HOST}:0", handle, deserialize=False)
        await asyncio.wait_for(listener.start(), STEP_TIMEOUT)
        port = int(listener.listen_address.rsplit(":", 1)[1])
        recorder = Recorder((SERVER_HOST, port))
        proxy = await asyncio.start_server(recorder.on_client, PROXY_HOST, 0)
        proxy_port = proxy.sockets[0].getsockname()[1]
        comm = None
        try:
            comm = await connect(
                f"tcp://{PROXY_HOST}:{proxy_port}", timeout=STEP_TIMEOUT, deserialize=False
            )
            await asyncio.wait_for(connected.wait(), STEP_TIMEOUT)
            steps.append({"name": "handshake", "what": "the comm handshake, both ways"})
            for case in cases:
                recorder.step = case.name
                step: dict[str, Any] = {"name": case.name, "what": case.what}
                try:
                    await asyncio.wait_for(comm.write(case.build()), STEP_TIMEOUT)
                except Exception as exc:
                    step["error"] = f"{type(exc).__name__}: {exc}"
                else:
                    await asyncio.wait_for(comm.read(), STEP_TIMEOUT)
                steps.append(step)
            recorder.step = "close"
        finally:
            if comm is not None:
                await comm.close()
            proxy.close()
            listener.stop()
            for task in list(recorder.tasks):
                task.cancel()
            await asyncio.sleep(0)
    for step in steps:
        sent = bytes(recorder.sent.get(step["name"], b""))
        received = bytes(recorder.received.get(step["name"], b""))
        step["sent"] = split_stream(sent)
        step["received"] = split_stream(received)
        if step["name"] == "handshake":
            step["sent_hex"] = sent.hex()
            step["received_hex"] = received.hex()
    stray = {
        "sent": len(recorder.sent.get("close", b"")),
        "received": len(recorder.received.get("close", b"")),
    }
    return {
        "compression": compression,
        "handshake_options": getattr(comm, "handshake_options", None),
        "steps": steps,
        "server_errors": server_errors,
        "bytes_after_last_step": stray,
    }


async def probe_tcp(cases: list[Case]) -> dict[str, Any]:
    out = {}
    for name, compression in SESSIONS:
        out[name] = await asyncio.wait_for(tcp_session(cases, compression), PROBE_TIMEOUT)
    return out


# -- main ----------------------------------------------------------------------------------------


def installed() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(found.items()))


def main() -> int:
    os.environ["DASK_DISTRIBUTED__COMM__SHARD"] = SHARD  # read when dask.config is imported
    out = sys.stdout  # the JSON goes here; anything the libraries print goes to stderr
    sys.stdout = sys.stderr
    module("dask.config").set({"distributed.comm.shard": SHARD})
    shard = module("dask.utils").parse_bytes(SHARD)
    if {
        module("distributed.comm.tcp").TCP.max_shard_size,
        module("distributed.protocol.utils").BIG_BYTES_SHARD_SIZE,
    } != {shard}:
        raise SystemExit(f"dask_probe: could not set distributed.comm.shard to {SHARD}")

    cases = _cases()
    result = {
        "distributed": module("distributed").__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "byteorder": sys.byteorder,
        "shard": SHARD,
        "packages": installed(),
        "dumps": probe_dumps(cases),
        "tcp": asyncio.run(probe_tcp(cases)),
    }
    json.dump(result, out, indent=None)
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
