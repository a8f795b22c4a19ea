"""Record real Dask traffic (messages before encoding) from a LocalCluster into a bench corpus.

`--wire` records the frames and exact TCP bytes instead (bench/dask_wire.py), `--sample DIR`
writes a small sample of them for the repository (tests/data/dask-<version>/).
"""

from __future__ import annotations

import argparse
import enum
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dask_workloads import run_workloads
from daskwire import Materialized, Offloaded

CACHE_DIR = Path(__file__).resolve().parent.parent / ".bench-cache"
FORMAT = 2  # bump when the corpus layout changes (2: msgpack instead of pickle)
MiB = 2**20

#: Class names, in the order reports list them.
CONTROL, GRAPH, DATA, BIG = "control", "graph", "data", "data-64MiB"
CLASSES = (CONTROL, GRAPH, DATA, BIG)


@dataclass(slots=True)
class Entry:
    """One recorded message in both forms, plus where it was seen."""

    process: str  # "scheduler+client" or "worker"
    wire: Any  # daskwire value model: Offloaded / Materialized in place
    dask: Any  # Dask form: Serialized / Pickled in place, for distributed.protocol.dumps
    offloaded: int = 0  # number of offloaded values
    offloaded_bytes: int = 0  # bytes in their frames
    klass: str = CONTROL


@dataclass(slots=True)
class Corpus:
    """What `load` returns and `main` writes."""

    dask_version: str
    distributed_version: str
    entries: list[Entry]
    notes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


class Skip(Exception):
    """A message holds something daskwire cannot carry; the reason is noted."""


# -- converting one message (runs inside the patched dumps, in every process) ------------------


def _nbytes(frame: Any) -> int:
    return memoryview(frame).nbytes


def _snapshot(frames: Any) -> list[bytes]:
    """Own the bytes: the caller may reuse its buffers after dumps returns."""
    return [f if isinstance(f, bytes) else memoryview(f).tobytes() for f in frames]


class Converter:
    """Turns one Dask message into (daskwire form, Dask form), never deserializing a value."""

    def __init__(self, kwargs: dict[str, Any], notes: Counter[str]) -> None:
        self.kwargs = kwargs
        self.notes = notes
        self.offloaded = 0
        self.offloaded_bytes = 0

    def offload(self, value: Any) -> tuple[Any, Any]:
        from distributed.protocol import pickle as dpickle
        from distributed.protocol.serialize import (
            Pickled,
            Serialize,
            Serialized,
            ToPickle,
            serialize,
            serialize_and_split,
        )
        from distributed.utils import ensure_memoryview

        if isinstance(value, Serialized | Pickled):
            frames = _snapshot(value.frames)
            header = dict(value.header)
            self.notes[f"{type(value).__name__} -> Offloaded"] += 1
            wire = Offloaded(header, frames)
            dask = type(value)(dict(header), list(frames))
        elif isinstance(value, Serialize):
            opts = {
                "serializers": self.kwargs.get("serializers"),
                "on_error": self.kwargs.get("on_error", "message"),
                "context": self.kwargs.get("context"),
            }
            header, frames = serialize(value.data, **opts)
            codecs = header.pop("compression", None)
            if codecs and any(c is not None for c in codecs):
                raise Skip("Serialize with serializer-side compression")
            frames = _snapshot(frames)
            size = self.kwargs.get("frame_split_size")
            split_header, split_frames = serialize_and_split(value.data, size=size, **opts)
            split_header["compression"] = tuple(None for _ in split_frames)
            self.notes["Serialize -> Materialized (distributed serialize)"] += 1
            wire = Materialized(header, frames)
            dask = Serialized(split_header, _snapshot(split_frames))
        elif isinstance(value, ToPickle):
            buffers: list[Any] = []
            blob = dpickle.dumps(
                value.data, buffer_callback=lambda b: buffers.append(ensure_memoryview(b))
            )
            frames = _snapshot(buffers)
            self.notes["ToPickle -> Materialized (distributed pickle)"] += 1
            wire = Materialized({"pickled-obj": blob}, frames)
            header = {"pickled-obj": blob, "compression": tuple(None for _ in frames)}
            dask = Pickled(header, list(frames))
        else:
            raise TypeError(type(value))
        self.offloaded += 1
        self.offloaded_bytes += sum(map(_nbytes, frames))
        return wire, dask

    def convert(self, value: Any) -> tuple[Any, Any]:
        from distributed.protocol.serialize import Pickled, Serialize, Serialized, ToPickle

        kind = type(value)
        if value is None or kind in (bool, int, float, str, bytes):
            if kind is bytes and len(value) > 65_536:
                self.notes["inline bytes > 64 KiB (daskwire offloads them as raw bytes)"] += 1
            return value, value
        if kind is bytearray or kind is memoryview:
            return bytes(value), bytes(value)
        if isinstance(value, Serialize | Serialized | ToPickle | Pickled):
            return self.offload(value)
        if kind is list or kind is tuple:
            pairs = [self.convert(v) for v in value]
            return [w for w, _ in pairs], kind(d for _, d in pairs)
        if kind is set or kind is frozenset:
            self.notes["set -> list (Dask sends {'__Set__': True, 'as-list': [...]})"] += 1
            pairs = [self.convert(v) for v in value]
            return [w for w, _ in pairs], kind(d for _, d in pairs)
        if kind is dict:
            wire: dict[Any, Any] = {}
            dask: dict[Any, Any] = {}
            for key, item in value.items():
                if not _plain_key(key):
                    raise Skip(f"map key of type {type(key).__name__}")
                wire[key], dask[key] = self.convert(item)
            return wire, dask
        if isinstance(value, enum.Enum):
            raise Skip("Enum value (Dask sends an __Enum__ map)")
        raise Skip(f"{kind.__module__}.{kind.__qualname__} (Dask would pickle it)")


def _plain_key(key: Any) -> bool:
    if type(key) is tuple:
        return all(_plain_key(k) for k in key)
    return key is None or type(key) in (str, bytes, int)


# -- storing a corpus: msgpack with ext types, a format that cannot run code ---------------------
# Tuples, sets and the offloaded types travel as msgpack ext types whose data is msgpack again;
# nothing read back is ever unpickled or imported (the Dask types are only constructed).

EXT_TUPLE, EXT_SET, EXT_FROZENSET = 1, 2, 3
EXT_OFFLOADED, EXT_MATERIALIZED, EXT_SERIALIZED, EXT_PICKLED = 4, 5, 6, 7
_MAX_BUFFER = 2**31 - 1  # a 64 MiB frame is one bin: far below msgpack's largest buffer


def _packb(value: Any) -> bytes:
    import msgpack

    return msgpack.packb(value, default=_ext_default, use_bin_type=True, strict_types=True)


def _ext_default(value: Any) -> Any:
    """The ext type of a value msgpack has no exact type for (strict_types keeps tuples)."""
    import msgpack
    from daskwire import Materialized, Offloaded
    from distributed.protocol.serialize import Pickled, Serialized

    kind = type(value)
    if kind is tuple:
        return msgpack.ExtType(EXT_TUPLE, _packb(list(value)))
    if kind is set or kind is frozenset:
        return msgpack.ExtType(EXT_SET if kind is set else EXT_FROZENSET, _packb(list(value)))
    if kind is bytearray or kind is memoryview:
        return bytes(value)
    for base in (bool, int, float, str, bytes):
        if isinstance(value, base):  # a subclass (numpy's float64 is one) as its base type
            return base(value)
    codes = {Offloaded: EXT_OFFLOADED, Materialized: EXT_MATERIALIZED}
    codes |= {Serialized: EXT_SERIALIZED, Pickled: EXT_PICKLED}
    if kind in codes:
        frames = [bytes(memoryview(f)) if type(f) is not bytes else f for f in value.frames]
        return msgpack.ExtType(codes[kind], _packb([dict(value.header), frames]))
    if kind is not dict and isinstance(value, dict):
        return dict(value)
    if kind is not list and isinstance(value, list):
        return list(value)
    raise TypeError(f"the corpus cannot store a {kind.__module__}.{kind.__qualname__}")


def _ext_hook(code: int, data: bytes) -> Any:
    from daskwire import Materialized, Offloaded
    from distributed.protocol.serialize import Pickled, Serialized

    value = _unpackb(data)
    if code == EXT_TUPLE:
        return tuple(value)
    if code == EXT_SET:
        return set(value)
    if code == EXT_FROZENSET:
        return frozenset(value)
    kinds = {EXT_OFFLOADED: Offloaded, EXT_MATERIALIZED: Materialized}
    kinds |= {EXT_SERIALIZED: Serialized, EXT_PICKLED: Pickled}
    if code in kinds:
        header, frames = value
        return kinds[code](header, frames)
    raise ValueError(f"unknown ext type {code} in a corpus file")


def _unpackb(data: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


def write_records(path: str | Path, head: dict[str, Any], records: list[Any]) -> None:
    """`head`, then each record, as consecutive msgpack values (streamed, not one big buffer)."""
    with open(path, "wb") as out:
        out.write(_packb(head))
        for item in records:
            out.write(_packb(item))


def read_records(path: str | Path) -> tuple[dict[str, Any], list[Any]]:
    """What `write_records` wrote: the head and the records."""
    import msgpack

    with open(path, "rb") as stream:
        unpacker = msgpack.Unpacker(
            stream,
            ext_hook=_ext_hook,
            raw=False,
            strict_map_key=False,
            max_buffer_size=_MAX_BUFFER,
        )
        head = next(unpacker)
        return head, list(unpacker)


# -- recording, installed in every process ---------------------------------------------------
# Workers receive these functions by value (cloudpickle), each call with its own copy of this
# module's globals, so the recording state lives on distributed.protocol.core itself.


def install_patch(process: str) -> None:
    """Wrap distributed.protocol.dumps so every message is recorded before it is encoded."""
    import distributed.protocol
    import distributed.protocol.core

    original = distributed.protocol.core.dumps
    entries: list[tuple[Any, ...]] = []
    notes: Counter[str] = Counter()

    def recording_dumps(msg: Any, **kwargs: Any) -> list[Any]:
        converter = Converter(kwargs, notes)
        try:
            if type(msg) not in (dict, list, tuple):
                raise Skip(f"top-level {type(msg).__name__} (a daskwire message is a map or array)")
            wire, dask = converter.convert(msg)
        except Skip as exc:
            notes[f"skipped message: {exc}"] += 1
        except Exception as exc:  # recording must never break the cluster
            notes[f"skipped message: conversion failed: {exc!r:.80}"] += 1
        else:
            # Plain tuples: a worker pickles them without importing this script.
            entries.append((process, wire, dask, converter.offloaded, converter.offloaded_bytes))
        return original(msg, **kwargs)

    distributed.protocol.core._daskwire_record = (original, entries, notes)  # type: ignore[attr-defined]
    distributed.protocol.core.dumps = recording_dumps
    distributed.protocol.dumps = recording_dumps


def remove_patch(path: str | None = None) -> tuple[list[tuple[Any, ...]], Counter[str]]:
    """Restore dumps; return (or, in a worker, write to `path` as msgpack) what was recorded."""
    import distributed.protocol
    import distributed.protocol.core

    original, entries, notes = distributed.protocol.core._daskwire_record  # type: ignore[attr-defined]
    del distributed.protocol.core._daskwire_record  # type: ignore[attr-defined]
    distributed.protocol.core.dumps = original
    distributed.protocol.dumps = original
    if path is not None:
        write_records(path, {"notes": dict(notes)}, [list(e) for e in entries])
        return [], Counter()
    return entries, notes


# -- the workloads ----------------------------------------------------------------------------


def _remove_patch_in_worker(tmp: str, dask_worker: Any) -> str:
    path = os.path.join(tmp, f"{os.getpid()}.msgpack")
    remove_patch(path)
    return path


GRAPH_OPS = frozenset({"update-graph", "compute-task"})


def ops(message: Any) -> set[Any]:
    """The `op` of a message, or of each message of a batch; none for a bare reply ("OK")."""
    if type(message) is dict:
        items: Any = [message]
    elif type(message) in (list, tuple):
        items = message
    else:
        items = []
    return {item.get("op") for item in items if type(item) is dict}


def classify(entry: Entry) -> str:
    """data-64MiB / data by offloaded bytes, graph by op (or many values), else control."""
    if entry.offloaded_bytes >= 32 * MiB:
        return BIG
    if entry.offloaded_bytes >= 64 * 2**10:
        return DATA
    if entry.offloaded >= 8 or ops(entry.wire) & GRAPH_OPS:
        return GRAPH
    return CONTROL


def record(small: bool = False) -> Corpus:
    """Start a LocalCluster, run the workloads, and return every recorded message."""
    import dask
    import distributed

    start = time.perf_counter()
    entries: list[Entry] = []
    notes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        install_patch("scheduler+client")
        try:
            with (
                distributed.LocalCluster(
                    host="127.0.0.1",
                    protocol="tcp://",
                    n_workers=2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                client.run(install_patch, "worker")
                run_workloads(client, small)
                paths = client.run(_remove_patch_in_worker, tmp)
        finally:
            local, local_notes = remove_patch()
        entries.extend(Entry(*t) for t in local)
        notes.update(local_notes)
        for path in paths.values():
            head, worker_entries = read_records(path)
            entries.extend(Entry(*t) for t in worker_entries)
            notes.update(head["notes"])
    for entry in entries:
        entry.klass = classify(entry)
    return Corpus(
        dask.__version__,
        distributed.__version__,
        entries,
        notes,
        seconds=time.perf_counter() - start,
    )


def cache_path(small: bool = False) -> Path:
    import distributed

    tag = "small" if small else "full"
    return CACHE_DIR / f"dask-corpus-{distributed.__version__}-v{FORMAT}-{tag}.msgpack"


def load(*, regenerate: bool = False, small: bool = False) -> Corpus:
    """The cached corpus for the installed Dask version, recorded first if needed."""
    path = cache_path(small)
    if path.exists() and not regenerate:
        # Plain data and ext types only (msgpack): reading it runs no code from the file.
        data, records = read_records(path)
        entries = [Entry(*fields) for fields in records]
        return Corpus(
            data["dask"], data["distributed"], entries, Counter(data["notes"]), data["seconds"]
        )
    corpus = record(small)
    data = {
        "format": FORMAT,
        "dask": corpus.dask_version,
        "distributed": corpus.distributed_version,
        "seconds": corpus.seconds,
        "notes": dict(corpus.notes),
    }
    records = [
        [e.process, e.wire, e.dask, e.offloaded, e.offloaded_bytes, e.klass] for e in corpus.entries
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    write_records(tmp, data, records)
    tmp.replace(path)
    return corpus


def human(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", MiB), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def describe(corpus: Corpus) -> str:
    """Per-class counts and sizes, and the conversion notes."""
    import daskwire

    lines = [
        (
            f"Dask {corpus.dask_version}, distributed {corpus.distributed_version}: "
            f"{len(corpus.entries)} messages recorded in {corpus.seconds:.1f} s"
        ),
        (
            f"{'class':<12}{'count':>7}{'offloaded':>11}{'payload median':>16}"
            f"{'payload max':>13}{'offl. bytes total':>19}"
        ),
    ]
    for klass in CLASSES:
        group = [e for e in corpus.entries if e.klass == klass]
        if not group:
            continue
        payloads = sorted(len(daskwire.encode(e.wire)[1]) for e in group)
        lines.append(
            f"{klass:<12}{len(group):>7}{sum(e.offloaded for e in group):>11}"
            f"{human(payloads[len(payloads) // 2]):>16}{human(payloads[-1]):>13}"
            f"{human(sum(e.offloaded_bytes for e in group)):>19}"
        )
    by_process = Counter(e.process for e in corpus.entries)
    lines.append("by process: " + ", ".join(f"{k} {v}" for k, v in sorted(by_process.items())))
    lines.extend(f"  note: {note}: {count}" for note, count in sorted(corpus.notes.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regenerate", action="store_true", help="record even if cached")
    parser.add_argument("--small", action="store_true", help="smaller workloads (4 MiB scatter)")
    parser.add_argument(
        "--wire",
        action="store_true",
        help="the wire capture instead: frames and TCP bytes per connection (bench/dask_wire.py)",
    )
    parser.add_argument(
        "--sample",
        type=Path,
        metavar="DIR",
        help="write a small sample of the wire capture to DIR (implies --wire)",
    )
    args = parser.parse_args(argv)
    if args.wire or args.sample:
        import dask_wire  # beside this file: sys.path[0] when run as a script

        path = dask_wire.load(regenerate=args.regenerate, small=args.small)
        print(dask_wire.describe(path))
        if args.sample:
            words = [".venv/bin/python", "bench/dask_corpus.py", *(argv or sys.argv[1:])]
            total = dask_wire.write_sample(path, args.sample, " ".join(words))
            print(f"sample: {args.sample} ({total} bytes of messages)")
        return 0
    corpus = load(regenerate=args.regenerate, small=args.small)
    print(describe(corpus))
    print(f"cache: {cache_path(args.small)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
