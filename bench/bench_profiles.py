"""dask-2023.11 against distributed.protocol on the frames Dask actually wrote (bench/dask_wire.py).

`bench/bench_dask.py` runs this after its placeholder-v1 tables and puts both profiles side by
side. The corpus is the wire capture (every message `TCP.write` wrote, in every process); with
`--quick` it is the committed sample (tests/data/dask-2026.8.0), so the smoke needs no cluster.
Nothing here loads a pickle: distributed's `loads` runs with its unpickling step replaced by a
stub that keeps the bytes (see `no_unpickling`), and daskwire never unpickles (DP-1).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import struct
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
from daskwire import dask_2023_11 as d23
from daskwire.errors import DaskwireError
from daskwire.model import EnumValue, Offloaded, Pickled, SetValue

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dask_corpus
import dask_wire
from dask_corpus import CLASSES, Entry

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "dask-2026.8.0"
CONTEXT = {"compression": None}  # what a comm passes after the handshake (compression off)
_UNPACK = {"use_list": False, "strict_map_key": False}


class _NoUnpickling:
    """Stands in for `distributed.protocol.pickle` inside `loads`: keeps the bytes, runs nothing.

    distributed's `loads` unpickles every `__Pickled__` value even with `deserialize=False`
    (canonical.md DC-3 row 7). The bench never runs recorded pickles, so its `loads` stops just
    before that step: it still reads the sub-header and decompresses the buffers. This makes
    distributed faster than it is (it leaves unpickling out), never slower.
    """

    @staticmethod
    def loads(data: Any, *, buffers: Any = ()) -> Any:
        return (data, buffers)


@contextlib.contextmanager
def no_unpickling() -> Iterator[None]:
    from distributed.protocol import core

    original = core.pickle
    core.pickle = _NoUnpickling  # type: ignore[assignment]
    try:
        yield
    finally:
        core.pickle = original


@dataclass(slots=True)
class Case:
    """One recorded message, prepared: bytes, frames, both decodes' inputs and encode inputs."""

    data: bytes  # the message as on the wire: hint, count, lengths, frames
    after_hint: memoryview  # what distributed's unpack_frames reads (TCP.read took the hint)
    frames: list[memoryview]
    tree: Any  # the forwarding decode: the input of daskwire's encode
    dask: Any  # the same values for dumps: Serialized / Pickled / set in place
    floor_in: list[memoryview]  # frame 0 and every sub-header: what msgpack alone must read
    floor_out: list[Any]  # their decoded trees: what msgpack alone must write
    payload: int  # bytes in data frames


def to_dask(value: Any) -> Any:
    """The forwarding decode in distributed's form: pre-serialized values, sets as sets."""
    from distributed.protocol.serialize import Pickled as DaskPickled
    from distributed.protocol.serialize import Serialized

    kind = type(value)
    if kind is dict:
        return {key: to_dask(item) for key, item in value.items()}
    if kind is tuple:
        return tuple(to_dask(item) for item in value)
    if kind is Offloaded:
        return Serialized(dict(value.header), list(value.frames))
    if kind is Pickled:
        return DaskPickled(dict(value.header), list(value.frames))
    if kind is SetValue:
        return set(value.items)
    if kind is EnumValue:
        raise TypeError("no __Enum__ in the recorded traffic; add its conversion when there is")
    return value


def _marker_frames(tree: Any) -> list[int]:
    """Frame indices of every sub-header, from the raw frame 0 (markers still as maps)."""
    found = []
    pending = [tree]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            if len(item) == 1:
                ((key, index),) = item.items()
                if key in ("__Serialized__", "__Pickled__") and type(index) is int:
                    found.append(index)
                    continue
            pending.extend(item.values())
        elif type(item) is tuple:
            pending.extend(item)
    return sorted(found)


def prepare(data: bytes) -> tuple[Case, Entry] | None:
    """A Case and its class, or None for a message DM-3 refuses (a bare str or nil)."""
    frames = d23.unpack(data)
    try:
        tree = d23.decode(frames, mode="forwarding")
    except DaskwireError:
        return None
    raw0 = msgpack.unpackb(frames[0], **_UNPACK)
    floor_in = [frames[0], *(frames[i] for i in _marker_frames(raw0))]
    values = [v for v in _walk(tree) if type(v) is Offloaded or type(v) is Pickled]
    payload = sum(memoryview(f).nbytes for v in values for f in v.frames)
    case = Case(
        data,
        memoryview(data)[8:],
        frames,
        tree,
        to_dask(tree),
        floor_in,
        [msgpack.unpackb(f, **_UNPACK) for f in floor_in],
        payload,
    )
    entry = Entry("wire", tree, None, len(values), payload)
    entry.klass = dask_corpus.classify(entry)
    return case, entry


def _walk(tree: Any) -> Iterator[Any]:
    pending = [tree]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            pending.extend(item.values())
        elif type(item) is tuple:
            pending.extend(item)
        else:
            yield item


def operations() -> dict[str, Callable[[Case], object]]:
    from distributed.protocol import dumps, loads
    from distributed.protocol.utils import unpack_frames

    def floor_unpack(case: Case) -> object:
        return [msgpack.unpackb(f, use_list=False, strict_map_key=False) for f in case.floor_in]

    def floor_pack(case: Case) -> object:
        return [msgpack.packb(t, use_bin_type=True) for t in case.floor_out]

    return {
        "d23.encode": lambda c: d23.encode(c.tree),
        "dk.dumps": lambda c: dumps(c.dask, context=CONTEXT),
        "floor.packb": floor_pack,
        "d23.decode-fwd": lambda c: d23.decode(c.frames, mode="forwarding"),
        "d23.decode-cons": lambda c: d23.decode(c.frames, mode="consuming"),
        "dk.loads": lambda c: loads(c.frames, deserialize=False),
        "floor.unpackb": floor_unpack,
        "d23.FrameReader": lambda c: d23.FrameReader().feed(c.data),
        "dk.unpack_frames": lambda c: unpack_frames(c.after_hint),
    }


WIRE_OPS = frozenset({"d23.FrameReader", "dk.unpack_frames"})

#: (label, daskwire op, reference op, target) for the ratio and target tables.
TARGETS = (
    ("dec-fwd/loads", "d23.decode-fwd", "dk.loads", 1.0),
    ("dec-cons/loads", "d23.decode-cons", "dk.loads", 1.0),
    ("dec-fwd/floor", "d23.decode-fwd", "floor.unpackb", 1.5),
    ("dec-cons/floor", "d23.decode-cons", "floor.unpackb", 1.5),
    ("encode/dumps", "d23.encode", "dk.dumps", 1.0),
    ("encode/floor", "d23.encode", "floor.packb", 1.5),
    ("reader/unpack", "d23.FrameReader", "dk.unpack_frames", 1.5),
)


# -- the corpus -------------------------------------------------------------------------------


def messages(capture: Path, quick: bool) -> Iterator[bytes]:
    """Every message's bytes: all `write` messages of the capture, or all of the sample."""
    lines = [json.loads(line) for line in (capture / "index.jsonl").read_text().splitlines()]
    if not quick:
        lines = [m for m in lines if m["source"] == "write" and "error" not in m]
    opened: dict[str, mmap.mmap] = {}
    try:
        for line in lines:
            name = line["file"]
            if name not in opened:
                with (capture / name).open("rb") as stream:
                    opened[name] = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
            yield opened[name][line["offset"] : line["offset"] + line["size"]]
    finally:
        for view in opened.values():
            view.close()


@dataclass(slots=True)
class RoundTrip:
    """How the capture's messages fare: decoded, refused, re-encoded identical or not."""

    total: int = 0
    refused: Counter[str] | None = None
    identical: int = 0
    hint_only: int = 0  # frames identical; only distributed's split hint differs (DC-3 row 1)
    other: int = 0
    dumps_same: int = 0  # distributed's dumps of the same values gives the recorded frames

    def lines(self) -> list[str]:
        refused = self.refused or Counter()
        decoded = self.total - sum(refused.values())
        decoded_line = (
            f"{self.total} messages; {decoded} decode in both modes "
            f"({100 * decoded / max(self.total, 1):.1f}%)"
        )
        reencoded = (
            f"re-encoding the forwarding decode: {self.identical} byte-identical, "
            f"{self.hint_only} identical but for distributed's read hint (DC-3 row 1), "
            f"{self.other} different"
        )
        dumps_line = (
            f"distributed's dumps of the same values gives the recorded frames for "
            f"{self.dumps_same} of {decoded}"
        )
        refusals = [f"  refused: {n} with {why}" for why, n in sorted(refused.items())]
        return [decoded_line, *refusals, reencoded, dumps_line]


def load(capture: Path, quick: bool, max_per_class: int) -> tuple[dict[str, list[Case]], RoundTrip]:
    """Cases per class (at most `max_per_class`, spread evenly) and the round-trip counts."""
    from distributed.protocol import dumps

    trip = RoundTrip(refused=Counter())
    groups: dict[str, list[Case]] = {klass: [] for klass in CLASSES}
    seen: Counter[str] = Counter()
    counts = _class_counts(capture, quick)
    for data in messages(capture, quick):
        trip.total += 1
        prepared = prepare(data)
        if prepared is None:
            assert trip.refused is not None
            value = msgpack.unpackb(d23.unpack(data)[0], **_UNPACK)
            trip.refused[f"invalid-message [DM-3]: a top-level {type(value).__name__}"] += 1
            continue
        case, entry = prepared
        again = d23.encode(case.tree)
        if d23.pack_bytes(again) == data:
            trip.identical += 1
        elif d23.pack_bytes(again, hint=struct.unpack_from("<Q", data)[0]) == data:
            trip.hint_only += 1
        else:
            trip.other += 1
        with no_unpickling():
            theirs = dumps(case.dask, context=CONTEXT)
        trip.dumps_same += [bytes(f) for f in theirs] == [bytes(f) for f in case.frames]
        klass = entry.klass
        step = max(1, counts[klass] // max_per_class)
        if seen[klass] % step == 0 and len(groups[klass]) < max_per_class:
            groups[klass].append(case)  # its bytes are its own: a slice of the mmap copies
        seen[klass] += 1
    return {k: v for k, v in groups.items() if v}, trip


def _class_counts(capture: Path, quick: bool) -> Counter[str]:
    """How many messages of each class there are (a first pass: for even spreading)."""
    counts: Counter[str] = Counter()
    for data in messages(capture, quick):
        frames = d23.unpack(data)
        try:
            tree = d23.decode(frames, mode="forwarding")
        except DaskwireError:
            continue
        values = [v for v in _walk(tree) if type(v) is Offloaded or type(v) is Pickled]
        payload = sum(memoryview(f).nbytes for v in values for f in v.frames)
        entry = Entry("wire", tree, None, len(values), payload)
        counts[dask_corpus.classify(entry)] += 1
    return counts


def capture(quick: bool, regenerate: bool = False) -> Path:
    """The committed sample for --quick, else the wire capture (recorded first if needed)."""
    return SAMPLE if quick else dask_wire.load(regenerate=regenerate)


def memory(case: Case) -> dict[str, Callable[[], object]]:
    """The operations whose peak memory is checked on one large-frame message."""
    from distributed.protocol import dumps, loads
    from distributed.protocol.utils import unpack_frames

    return {
        "d23.encode": lambda: d23.encode(case.tree),
        "dk.dumps": lambda: dumps(case.dask, context=CONTEXT),
        "d23.decode-fwd": lambda: d23.decode(case.frames, mode="forwarding"),
        "d23.decode-cons": lambda: d23.decode(case.frames, mode="consuming"),
        "dk.loads": lambda: loads(case.frames, deserialize=False),
        "d23.FrameReader": lambda: d23.FrameReader().feed(case.data),
        "dk.unpack_frames": lambda: unpack_frames(case.after_hint),
    }
