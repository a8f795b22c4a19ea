"""Record the frames and exact TCP bytes Dask writes on a LocalCluster, per connection direction.

Layout of one capture (`.bench-cache/dask-wire-<distributed>-v1-<full|small>/`):

- `manifest.json`: versions, platform, the command, and per phase the cluster's addresses, the
  proxied connections and every written stream (connection direction).
- `index.jsonl`: one line per message. `source` is `write` (what distributed's `TCP.write`
  enqueued on its socket, recorded in the writing process) or `socket` (the bytes a
  byte-copying proxy in front of the scheduler read from the socket). `file` and `offset` say
  where the message's bytes start; `size` counts them all, the u64 no-split hint, the u64 frame
  count and the u64 lengths included; `frames` are the lengths of the frames `dumps` returned
  (before `_add_frames_header`), which follow the prelude in order; `ops` are the `op`s of the
  message (of each message of a batch, in order, repeats left out), `batch` its length when
  frame 0 is a list; `seq` counts messages in the stream from 0, the comm handshake.
- `<phase>/writes/<stream>.bin` and `<phase>/socket/<connection>-<c2s|s2c>.bin`: the raw bytes,
  messages back to back.

Two phases, each its own LocalCluster running the workloads of bench/dask_workloads.py plus a task
that raises and a few compressible values: `plain` (`distributed.comm.compression` false) and
`lz4` (lz4, with the small workloads). The scheduler and the client are on 127.0.0.1, the workers
and the proxy (which also binds its upstream side) on 127.0.0.2: distributed never compresses
between peers whose addresses have the same IP, so this is what lets lz4 frames appear. Every
process records its own writes (the client, the scheduler and the nannies in this one, the
workers through a preload of this file). Nothing from the traffic is ever deserialized here.
"""

from __future__ import annotations

import asyncio
import contextvars
import filecmp
import itertools
import json
import os
import platform
import shutil
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE_DIR = Path(__file__).resolve().parent.parent / ".bench-cache"
FORMAT = 1  # bump when the capture layout changes
ENV_DIR = "DASKWIRE_WIRE_CAPTURE_DIR"  # where a worker's preload writes
SCHEDULER_HOST = "127.0.0.1"
WORKER_HOST = "127.0.0.2"  # distinct loopback address: scheduler and workers not the same host
PROXY_HOST = "127.0.0.2"
PHASES: tuple[tuple[str, str | bool], ...] = (("plain", False), ("lz4", "lz4"))
_PRELUDE = struct.Struct("<QQ")

# -- recording every write, installed in every process ------------------------------------------

_CURRENT: contextvars.ContextVar[tuple[Any, Any] | None] = contextvars.ContextVar(
    "daskwire_wire_comm", default=None
)


def message_ops(msg: Any) -> tuple[list[str], int | None]:
    """The distinct `op`s of a message (or of each message of a batch) and the batch length."""
    items = [msg] if isinstance(msg, dict) else list(msg) if isinstance(msg, list | tuple) else []
    seen: list[str] = []
    for item in items:
        if isinstance(item, dict) and "op" in item and str(item["op"]) not in seen:
            seen.append(str(item["op"]))
    return seen, (len(items) if isinstance(msg, list | tuple) else None)


class _Writes:
    """Appends each message a process writes to its stream's .bin and one line to its index."""

    def __init__(self, out: Path, process: str) -> None:
        self.out = out
        self.process = process
        self.lock = threading.Lock()
        self.count = 0
        self.index = out / f"writes-{process}-{os.getpid()}.jsonl"
        (out / "writes").mkdir(parents=True, exist_ok=True)

    def record(self, comm: Any, msg: Any, frames: list[Any], written: list[Any]) -> None:
        with self.lock:
            state = getattr(comm, "_daskwire_wire", None)
            if state is None:
                self.count += 1
                state = {"stream": f"{self.process}-{os.getpid()}-{self.count:04d}", "seq": 0}
                comm._daskwire_wire = state
            path = self.out / "writes" / f"{state['stream']}.bin"
            with path.open("ab") as out:
                offset = out.tell()
                for chunk in written:
                    out.write(chunk)
                size = out.tell() - offset
            lengths = [memoryview(f).nbytes for f in frames]
            head = bytes(memoryview(written[0])[:8])
            ops, batch = message_ops(msg)
            line = {
                "source": "write",
                "file": f"writes/{state['stream']}.bin",
                "stream": state["stream"],
                "seq": state["seq"],
                "offset": offset,
                "size": size,
                "hint": struct.unpack("<Q", head)[0],
                "frames": lengths,
                "ops": ops,
                "batch": batch,
                "handshake": state["seq"] == 0,
                "from": comm.local_address,
                "to": comm.peer_address,
                "compression": (getattr(comm, "handshake_options", None) or {}).get("compression"),
                "process": self.process,
                "comm": getattr(comm, "name", None),
            }
            state["seq"] += 1
            with self.index.open("a") as index:
                index.write(json.dumps(line) + "\n")


def install_capture(out: str, process: str) -> None:
    """Wrap `TCP.write` and `_add_frames_header` so that every message written is recorded."""
    from distributed.comm import tcp

    if getattr(tcp, "_daskwire_wire", None) is not None:
        return
    writes = _Writes(Path(out), process)
    original_write = tcp.TCP.write
    original_header = tcp._add_frames_header

    async def write(self: Any, msg: Any, serializers: Any = None, on_error: str = "message") -> Any:
        token = _CURRENT.set((self, msg))
        try:
            return await original_write(self, msg, serializers, on_error)
        finally:
            _CURRENT.reset(token)

    def add_frames_header(frames: list[Any]) -> Any:
        result = original_header(frames)
        current = _CURRENT.get()
        if current is not None:
            try:
                writes.record(current[0], current[1], frames, result[0])
            except Exception as exc:  # recording must never break the cluster
                print(f"dask_wire: not recorded: {exc!r}", file=sys.stderr)
        return result

    tcp._daskwire_wire = (original_write, original_header)  # type: ignore[attr-defined]
    tcp.TCP.write = write  # type: ignore[method-assign]
    tcp._add_frames_header = add_frames_header


def remove_capture() -> None:
    from distributed.comm import tcp

    original_write, original_header = tcp._daskwire_wire  # type: ignore[attr-defined]
    tcp.TCP.write = original_write  # type: ignore[method-assign]
    tcp._add_frames_header = original_header
    del tcp._daskwire_wire  # type: ignore[attr-defined]


def dask_setup(worker: Any) -> None:
    """Worker preload hook: runs before the worker first connects to the scheduler."""
    install_capture(os.environ[ENV_DIR], "worker")


# -- the byte-copying proxy in front of the scheduler --------------------------------------------


class Proxy:
    """Listens on PROXY_HOST, copies each connection to the scheduler, files both directions."""

    def __init__(self, out: Path, upstream: tuple[str, int]) -> None:
        self.out = out
        self.upstream = upstream
        self.connections: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        (out / "socket").mkdir(parents=True, exist_ok=True)

    def start(self) -> str:
        self.thread.start()

        async def serve() -> asyncio.Server:
            return await asyncio.start_server(self.on_client, PROXY_HOST, 0)

        self.server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(30)
        port = self.server.sockets[0].getsockname()[1]
        return f"tcp://{PROXY_HOST}:{port}"

    async def on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cid = f"c{len(self.connections):04d}"  # taken before the first await
        conn: dict[str, Any] = {"connection": cid}
        self.connections.append(conn)
        # Bound to PROXY_HOST too, so that the scheduler does not see a same-host peer.
        up_reader, up_writer = await asyncio.open_connection(
            *self.upstream, local_addr=(PROXY_HOST, 0)
        )
        conn["client"] = "tcp://{}:{}".format(*writer.get_extra_info("peername")[:2])
        conn["proxy_upstream"] = "tcp://{}:{}".format(*up_writer.get_extra_info("sockname")[:2])
        pumps = [
            self.pump(source, sink, f"socket/{cid}-{direction}.bin")
            for source, sink, direction in ((reader, up_writer, "c2s"), (up_reader, writer, "s2c"))
        ]
        task = asyncio.create_task(self.both(pumps, (writer, up_writer)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def both(self, pumps: list[Any], writers: tuple[asyncio.StreamWriter, ...]) -> None:
        try:
            await asyncio.gather(*pumps)
        finally:
            for writer in writers:
                writer.close()

    async def pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        """Copy and file one direction; on its end, half-close so the other one can finish."""
        with (self.out / name).open("wb") as log:
            while chunk := await reader.read(1 << 20):
                log.write(chunk)  # filed first: a peer that is gone still had it sent
                if writer.is_closing():
                    continue
                try:
                    writer.write(chunk)
                    await writer.drain()
                except ConnectionError:
                    writer.close()
        if not writer.is_closing() and writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                writer.close()

    def stop(self) -> None:
        async def shutdown() -> None:
            if self.server is not None:
                self.server.close()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.sleep(0.1)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


# -- cutting a stream into messages ---------------------------------------------------------------


def split_file(path: Path) -> Iterator[dict[str, Any]]:
    """Each message of a stream: offset, size, hint and frame lengths (reads preludes only)."""
    total = path.stat().st_size
    with path.open("rb") as stream:
        offset = 0
        while offset < total:
            stream.seek(offset)
            head = stream.read(16)
            if len(head) < 16:
                yield {"offset": offset, "error": "truncated prelude"}
                return
            hint, count = _PRELUDE.unpack(head)
            if 16 + 8 * count > total - offset:
                yield {"offset": offset, "error": f"implausible frame count {count}"}
                return
            lengths = list(struct.unpack(f"<{count}Q", stream.read(8 * count)))
            size = 16 + 8 * count + sum(lengths)
            if offset + size > total:
                yield {"offset": offset, "error": "truncated frames"}
                return
            yield {"offset": offset, "size": size, "hint": hint, "frames": lengths}
            offset += size


# -- the run --------------------------------------------------------------------------------------


def _boom(x: int) -> int:
    raise ValueError(f"daskwire corpus: a task that raises ({x})")


def _zeros(n: int) -> Any:
    import numpy as np

    return np.zeros(n, dtype="f8")


def _total(a: Any) -> float:
    return float(a.sum())


def extra_workloads(client: Any) -> None:
    """A task that raises, and compressible values moved between the processes."""
    import distributed
    import numpy as np

    erred = client.submit(_boom, 1, pure=False)
    distributed.wait(erred)
    assert isinstance(erred.exception(), ValueError)
    future = client.scatter(np.zeros(6000, dtype="f8"))  # 48 kB of zeros: lz4 shrinks it
    client.gather(future)
    workers = sorted(client.scheduler_info()["workers"])
    made = client.submit(_zeros, 20_000, workers=workers[:1], pure=False)
    used = client.submit(_total, made, workers=workers[-1:], pure=False)  # gather_dep
    assert used.result() == 0.0
    del erred, future, made, used


def record_phase(out: Path, compression: str | bool, small: bool) -> dict[str, Any]:
    """One LocalCluster behind the proxy; returns the phase's manifest part."""
    import dask
    import distributed

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import dask_workloads

    out.mkdir(parents=True)
    os.environ[ENV_DIR] = str(out)  # inherited by the worker processes
    with socket_port() as port:
        scheduler_port = port
    proxy = Proxy(out, (SCHEDULER_HOST, scheduler_port))
    contact = proxy.start()
    install_capture(str(out), "main")
    start = time.perf_counter()
    try:
        with (
            dask.config.set({"distributed.comm.compression": compression}),
            distributed.LocalCluster(
                host=WORKER_HOST,
                protocol="tcp://",
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_port=scheduler_port,
                scheduler_kwargs={"host": SCHEDULER_HOST, "contact_address": contact},
                preload=[str(Path(__file__).resolve())],  # a worker keyword
            ),
            distributed.Client(contact) as client,
        ):
            client.wait_for_workers(2)
            dask_workloads.run_workloads(client, small)
            extra_workloads(client)
    finally:
        remove_capture()
        proxy.stop()
        del os.environ[ENV_DIR]
    return {
        "compression": compression,
        "scheduler": f"tcp://{SCHEDULER_HOST}:{scheduler_port}",
        "proxy": contact,
        "workers_host": WORKER_HOST,
        "seconds": round(time.perf_counter() - start, 1),
        "connections": proxy.connections,
    }


class socket_port:
    """A free TCP port on SCHEDULER_HOST (closed again on exit)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind((SCHEDULER_HOST, 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def finish_phase(out: Path, phase: str, part: dict[str, Any]) -> list[dict[str, Any]]:
    """Index the phase: every written message, and every message the proxy saw on a socket."""
    lines: list[dict[str, Any]] = []
    for path in sorted(out.glob("writes-*.jsonl")):
        lines.extend(json.loads(line) for line in path.read_text().splitlines())
        path.unlink()
    streams: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        line["phase"] = phase
        line["file"] = f"{phase}/{line['file']}"
        streams.setdefault(line["stream"], []).append(line)
    for messages in streams.values():
        messages.sort(key=lambda m: m["seq"])
    by_ends = {(m[0]["from"], m[0]["to"]): name for name, m in streams.items()}
    proxy = part["proxy"]
    socket_lines: list[dict[str, Any]] = []
    for conn in part["connections"]:
        cid = conn["connection"]
        ends = {"c2s": (conn["client"], proxy), "s2c": (part["scheduler"], conn["proxy_upstream"])}
        for direction, (source, sink) in ends.items():
            path = out / "socket" / f"{cid}-{direction}.bin"
            if not path.exists():
                continue
            writer = by_ends.get((source, sink))
            written = streams.get(writer, []) if writer else []
            conn[f"{direction}_stream"] = writer
            conn[f"{direction}_identical"] = bool(writer) and filecmp.cmp(
                path, out / "writes" / f"{writer}.bin", shallow=False
            )
            for seq, found in enumerate(split_file(path)):
                twin = written[seq] if seq < len(written) else {}
                line = {
                    "source": "socket",
                    "phase": phase,
                    "file": f"{phase}/socket/{path.name}",
                    "stream": f"{cid}-{direction}",
                    "seq": seq,
                    **found,
                    "connection": cid,
                    "direction": direction,
                    "from": source,
                    "to": sink,
                }
                if twin.get("size") == found.get("size"):
                    for key in ("ops", "batch", "handshake", "compression", "process", "comm"):
                        line[key] = twin.get(key)
                socket_lines.append(line)
    part["streams"] = {
        name: {
            "from": m[0]["from"],
            "to": m[0]["to"],
            "process": m[0]["process"],
            "messages": len(m),
            "bytes": sum(x["size"] for x in m),
        }
        for name, m in sorted(streams.items())
    }
    for line in lines:
        line["connection"] = "<->".join(sorted((line["from"], line["to"])))
        line["direction"] = f"{line['from']}->{line['to']}"
    return sorted(lines, key=lambda m: (m["stream"], m["seq"])) + socket_lines


def capture_dir(small: bool = False) -> Path:
    import distributed

    tag = "small" if small else "full"
    return CACHE_DIR / f"dask-wire-{distributed.__version__}-v{FORMAT}-{tag}"


def record(small: bool = False) -> Path:
    """Record both phases into a fresh capture directory and return it."""
    import dask
    import distributed

    final = capture_dir(small)
    work = final.with_name(final.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "dask": dask.__version__,
        "distributed": distributed.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "byteorder": sys.byteorder,
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "small": small,
        "phases": {},
    }
    with (work / "index.jsonl").open("w") as index:
        for phase, compression in PHASES:
            # The lz4 phase runs the small workloads: its point is the compressed frames.
            part = record_phase(work / phase, compression, small or phase != "plain")
            for line in finish_phase(work / phase, phase, part):
                index.write(json.dumps(line) + "\n")
            manifest["phases"][phase] = part
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    work.replace(final)
    return final


def load_index(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (path / "index.jsonl").read_text().splitlines()]


def describe(path: Path) -> str:
    manifest = json.loads((path / "manifest.json").read_text())
    index = load_index(path)
    lines = [f"distributed {manifest['distributed']}, capture {path}"]
    for phase, part in manifest["phases"].items():
        mine = [m for m in index if m["phase"] == phase]
        writes = [m for m in mine if m["source"] == "write"]
        sockets = [m for m in mine if m["source"] == "socket"]
        same = sum(
            bool(c.get(f"{d}_identical")) for c in part["connections"] for d in ("c2s", "s2c")
        )
        lines.append(
            f"{phase}: {len(part['streams'])} written streams, {len(writes)} messages, "
            f"{sum(m['size'] for m in writes) / 2**20:.1f} MiB; "
            f"{len(part['connections'])} proxied connections, {len(sockets)} messages, "
            f"{same} of {2 * len(part['connections'])} directions byte-identical to the writes; "
            f"{part['seconds']} s"
        )
    return "\n".join(lines)


def load(*, regenerate: bool = False, small: bool = False) -> Path:
    """The cached capture for the installed Dask version, recorded first if needed."""
    path = capture_dir(small)
    if regenerate or not (path / "manifest.json").exists():
        return record(small)
    return path


# -- a small sample for the repository ------------------------------------------------------------

SAMPLE_BUDGET = 512 * 2**10  # bytes of messages in a sample, well under 1 MiB
PREFIX_BUDGET = 24 * 2**10  # one socket stream's first messages, back to back
#: What a sample must show: feature -> the largest message it may take for it.
FEATURES: dict[str, int] = {
    "compute-task": 64 * 2**10,
    "batch": 16 * 2**10,
    "serialized": 64 * 2**10,
    "pickled": 64 * 2**10,
    "compressed": 64 * 2**10,
    "task-erred": 64 * 2**10,
    "update-graph": 128 * 2**10,
    "split-hint": 128 * 2**10,
    "set": 16 * 2**10,  # a {"__Set__": true, "as-list": [...]} map in frame 0
    "top-level-str": 1024,  # frame 0 is a str: the "OK" a worker sends after get_data
    "top-level-nil": 1024,  # frame 0 is nil: the reply of a handler that returns None
}


def _markers(value: Any) -> Iterator[tuple[str, int]]:
    """(kind, frame index) of every {"__Serialized__": i} / {"__Pickled__": i} in frame 0."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, index),) = value.items()
            if key in ("__Serialized__", "__Pickled__") and type(index) is int:
                yield key, index
                return
        for key, item in value.items():
            yield from _markers(key)
            yield from _markers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _markers(item)


def _has_set(value: Any) -> bool:
    """True when frame 0 holds a set marker map anywhere (keys included)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "__Set__" in item:
                return True
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def features(data: bytes, line: dict[str, Any]) -> list[str]:
    """What one message shows, from its bytes (msgpack only: no value is deserialized)."""
    import msgpack

    found = []
    if line.get("handshake"):
        found.append("handshake")
    ops = line.get("ops") or []
    found += [op for op in ("compute-task", "task-erred", "update-graph") if op in ops]
    if (line.get("batch") or 0) >= 2:
        found.append("batch")
    start = 16 + 8 * len(line["frames"])
    bounds = [start]
    for n in line["frames"]:
        bounds.append(bounds[-1] + n)
    if 8 + line["hint"] < line["size"]:
        found.append("split-hint")
    frames = [data[a:b] for a, b in itertools.pairwise(bounds)]
    try:
        top = msgpack.unpackb(frames[0], raw=False, use_list=False, strict_map_key=False)
    except Exception:
        return found
    if isinstance(top, str):
        found.append("top-level-str")
    elif top is None:
        found.append("top-level-nil")
    if _has_set(top):
        found.append("set")
    for kind, index in _markers(top):
        found.append("serialized" if kind == "__Serialized__" else "pickled")
        try:
            sub = msgpack.unpackb(frames[index], raw=False, use_list=False, strict_map_key=False)
        except Exception:
            continue
        if any(c is not None for c in sub.get("compression") or ()):
            found.append("compressed")
    return sorted(set(found))


def _read(capture: Path, line: dict[str, Any]) -> bytes:
    with (capture / line["file"]).open("rb") as stream:
        stream.seek(line["offset"])
        data: bytes = stream.read(line["size"])
    return data


def write_sample(capture: Path, out: Path, command: str) -> int:
    """Copy a few whole messages per feature (each stream's handshake first) into `out`."""
    manifest = json.loads((capture / "manifest.json").read_text())
    index = load_index(capture)
    by_stream: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in index:
        by_stream.setdefault((line["phase"], line["stream"]), []).append(line)
    chosen: dict[tuple[str, str], dict[int, list[str]]] = {}

    def take(line: dict[str, Any], why: str) -> None:
        seqs = chosen.setdefault((line["phase"], line["stream"]), {})
        seqs.setdefault(line["seq"], []).append(why)

    # The first messages of the busiest worker -> scheduler socket stream, as a real sequence.
    sockets = [m for m in by_stream.values() if m[0]["source"] == "socket" and m[0]["seq"] == 0]
    busiest = max(
        (m for m in sockets if m[0]["direction"] == "c2s" and m[0].get("process") == "worker"),
        key=len,
    )
    used = 0
    for line in busiest:
        if used + line["size"] > PREFIX_BUDGET:
            break
        take(line, "prefix")
        used += line["size"]
    # Per feature, the smallest message that shows it; socket captures first.
    best: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
    for line in index:
        if "error" in line or line["size"] > max(FEATURES.values()):
            continue
        data = _read(capture, line)
        for feature in features(data, line):
            if feature not in FEATURES or line["size"] > FEATURES[feature]:
                continue
            rank = (line["source"] != "socket", line["size"])
            if feature not in best or rank < best[feature][0]:
                best[feature] = (rank, line)
    missing = sorted(set(FEATURES) - set(best))
    if missing:
        raise SystemExit(f"dask_wire: the capture shows no {', '.join(missing)}")
    for feature, (_rank, line) in sorted(best.items()):
        take(line, feature)
    shutil.rmtree(out, ignore_errors=True)
    (out / "streams").mkdir(parents=True)
    lines = []
    total = 0
    for (phase, stream), seqs in sorted(chosen.items()):
        seqs.setdefault(0, []).append("handshake")
        name = f"streams/{phase}-{stream}.bin"
        with (out / name).open("wb") as sink:
            for seq in sorted(seqs):
                line = dict(by_stream[(phase, stream)][seq])
                data = _read(capture, line)
                line["capture_file"], line["capture_offset"] = line["file"], line["offset"]
                line["file"], line["offset"] = name, sink.tell()
                line["features"] = features(data, line)
                line["chosen_for"] = sorted(set(seqs[seq]))
                sink.write(data)
                lines.append(line)
                total += len(data)
    if total > SAMPLE_BUDGET:
        raise SystemExit(f"dask_wire: sample of {total} bytes is over {SAMPLE_BUDGET}")
    with (out / "index.jsonl").open("w") as index_out:
        for line in lines:
            index_out.write(json.dumps(line, sort_keys=True) + "\n")
    info = {k: manifest[k] for k in ("dask", "distributed", "python", "platform", "byteorder")}
    info |= {"recorded": manifest["recorded"], "command": command, "messages": len(lines)}
    info["phases"] = {
        phase: {k: part[k] for k in ("compression", "scheduler", "proxy", "workers_host")}
        for phase, part in manifest["phases"].items()
    }
    (out / "manifest.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    (out / "README.md").write_text(SAMPLE_README.format(total=total, **info))
    return total


SAMPLE_README = """\
# Dask {distributed} wire sample

Made with `{command}` (distributed {distributed}, dask {dask}, Python {python}, {byteorder}-endian)
from a LocalCluster capture recorded {recorded}. {messages} whole messages, {total} bytes.

Real traffic, copied byte for byte from the capture that `bench/dask_wire.py` records (its
docstring describes the run): a proxy in front of the scheduler read `source: socket` messages
from the sockets; `source: write` messages are what `TCP.write` enqueued on a socket, recorded in
the writing process (on the proxied connections the two are byte-identical). Phase `plain` ran
with `distributed.comm.compression` false, phase `lz4` with lz4; in both the scheduler and the
client were on 127.0.0.1, the workers and the proxy on 127.0.0.2, so that peers are not the same
host (distributed never compresses between those).

- `streams/<phase>-<stream>.bin`: whole messages of one connection direction, back to back, in
  their order on the wire, always starting with the comm handshake (`seq` 0); the messages in
  between that were not chosen are left out. Each message: u64 no-split hint, u64 frame count,
  u64 frame lengths (little-endian), then the frames that `distributed.protocol.dumps` returned.
- `index.jsonl`: one line per message: `file`, `offset`, `size` (all bytes), `hint`, `frames`
  (lengths), `ops`, `batch`, `seq`, `from`/`to`, `connection`, `direction`, `compression` (as
  negotiated), `features` and `chosen_for`, and where it was in the capture (`capture_file`,
  `capture_offset`).
- `manifest.json`: versions, platform, the command, the cluster's addresses per phase.

Pickles inside (`__Pickled__` sub-headers, `type-serialized`, pickle-serializer frames) are
opaque bytes here: never load them. `tests/test_dask_corpus_sample.py` checks the sample.
"""
