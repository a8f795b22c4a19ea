"""daskwire against distributed.protocol on recorded Dask traffic, both profiles side by side.

placeholder-v1 runs on the converted corpus (bench/dask_corpus.py), dask-2023.11 on the frames
Dask actually wrote (bench/dask_wire.py, bench/bench_profiles.py). distributed's `loads` runs
with its unpickling step stubbed out (bench_profiles.no_unpickling): recorded pickles are never
loaded, and distributed is timed without that step, which only makes it faster.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import io
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import daskwire
import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_profiles
import dask_corpus
from bench_profiles import no_unpickling
from bench_reference import peak_growth as peak
from dask_corpus import BIG, CLASSES, Corpus, Entry, human

MiB = 2**20
CONTEXT = {"compression": None}  # what a comm passes after the handshake (compression off)


@dataclass(slots=True)
class Case:
    """One message, prepared: both inputs and both encoded forms."""

    wire: Any
    dask: Any
    dw_frames: list[Any]
    dw_bytes: bytes
    dk_frames: list[Any]
    tree: Any  # frame 1 decoded: the payload with placeholders in place


def prepare(entry: Entry) -> Case:
    from distributed.protocol import dumps

    frames = daskwire.encode(entry.wire)
    tree = msgpack.unpackb(frames[1], use_list=False, strict_map_key=False)
    return Case(
        entry.wire,
        entry.dask,
        frames,
        daskwire.pack_bytes(frames),
        dumps(entry.dask, context=CONTEXT),
        tree,
    )


def operations() -> dict[str, Callable[[Case], object]]:
    """Each measured operation, as a function of one prepared message."""
    from distributed.protocol import dumps, loads
    from distributed.protocol.utils import pack_frames, unpack_frames

    def reader(case: Case) -> object:
        return daskwire.FrameReader().feed(case.dw_bytes)

    return {
        "dw.encode": lambda c: daskwire.encode(c.wire),
        "dk.dumps": lambda c: dumps(c.dask, context=CONTEXT),
        "floor.packb": lambda c: msgpack.packb(c.tree, use_bin_type=True),
        "dw.decode-fwd": lambda c: daskwire.decode(c.dw_frames, mode="forwarding"),
        "dw.decode-cons": lambda c: daskwire.decode(c.dw_frames, mode="consuming"),
        "dk.loads": lambda c: loads(c.dk_frames, deserialize=False),
        "floor.unpackb": lambda c: msgpack.unpackb(
            c.dw_frames[1], use_list=False, strict_map_key=False
        ),
        "dw.pack_bytes": lambda c: daskwire.pack_bytes(c.dw_frames),
        "dk.pack_frames": lambda c: pack_frames(c.dw_frames),
        "dw.FrameReader": reader,
        "dk.unpack_frames": lambda c: unpack_frames(c.dw_bytes),
    }


#: The wire-layer operations, measured interleaved among themselves.
WIRE_OPS = frozenset({"dw.pack_bytes", "dk.pack_frames", "dw.FrameReader", "dk.unpack_frames"})

#: (label, daskwire op, reference op) for the ratio columns.
RATIOS = (
    ("encode/dumps", "dw.encode", "dk.dumps"),
    ("encode/floor", "dw.encode", "floor.packb"),
    ("dec-fwd/loads", "dw.decode-fwd", "dk.loads"),
    ("dec-cons/loads", "dw.decode-cons", "dk.loads"),
    ("dec-fwd/floor", "dw.decode-fwd", "floor.unpackb"),
    ("dec-cons/floor", "dw.decode-cons", "floor.unpackb"),
    ("pack/pack_frames", "dw.pack_bytes", "dk.pack_frames"),
    ("reader/unpack", "dw.FrameReader", "dk.unpack_frames"),
)


#: Issue targets: each daskwire op against Dask's own and against the msgpack floor.
TARGETS = (
    ("encode/dumps", "dw.encode", "dk.dumps", 1.0),
    ("encode/floor", "dw.encode", "floor.packb", 1.5),
    ("dec-fwd/loads", "dw.decode-fwd", "dk.loads", 1.0),
    ("dec-cons/loads", "dw.decode-cons", "dk.loads", 1.0),
    ("dec-fwd/floor", "dw.decode-fwd", "floor.unpackb", 1.5),
    ("dec-cons/floor", "dw.decode-cons", "floor.unpackb", 1.5),
    ("reader/unpack", "dw.FrameReader", "dk.unpack_frames", 1.5),
)
#: Peak memory of a daskwire op on the large-frame class, payload included, over the payload.
MEMORY_TARGET = 1.1
MEMORY_HEADER = ["", "growth", "peak / payload", f"<= {MEMORY_TARGET}"]


def measure(
    cases: list[Case], ops: dict[str, Callable[[Case], object]], rounds: int
) -> dict[str, float]:
    """Median over messages of each message's median over rounds; ops interleaved per round."""
    clock = time.perf_counter_ns
    samples: dict[str, list[list[int]]] = {name: [[] for _ in cases] for name in ops}
    names = list(ops)
    gc.disable()
    try:
        for round_ in range(rounds + 1):  # round 0 warms up
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                func, slots = ops[name], samples[name]
                for index, case in enumerate(cases):
                    start = clock()
                    func(case)
                    elapsed = clock() - start
                    if round_:
                        slots[index].append(elapsed)
    finally:
        gc.enable()
    return {
        name: statistics.median(statistics.median(s) for s in per_msg)
        for name, per_msg in samples.items()
    }


def duration(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.1f} us"


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc {os.cpu_count()}, CPU {model}, Python {platform.python_version()}"


def synthetic() -> Corpus:
    """A tiny corpus for --quick: one message per class, no cluster."""
    import dask
    import distributed
    from distributed.protocol.serialize import Serialized

    def offloaded(size: int) -> tuple[Any, Any]:
        header = {"serializer": "pickle", "writeable": (), "compression": (None,)}
        frames = [bytes(size)]
        return daskwire.Offloaded(header, frames), Serialized(dict(header), list(frames))

    def entry(n_values: int, size: int, op: str) -> Entry:
        values = [offloaded(size) for _ in range(n_values)]
        wire = {"op": op, "tasks": {f"k-{i}": v[0] for i, v in enumerate(values)}, "n": 1}
        dask_msg = {"op": op, "tasks": {f"k-{i}": v[1] for i, v in enumerate(values)}, "n": 1}
        e = Entry("synthetic", wire, dask_msg, n_values, n_values * size)
        e.klass = dask_corpus.classify(e)
        return e

    entries = [entry(0, 0, "heartbeat"), entry(50, 64, "compute-task"), entry(2, MiB, "data")]
    return Corpus(dask.__version__, distributed.__version__, entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke, no cluster")
    parser.add_argument("--regenerate", action="store_true", help="record the corpus again")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-per-class", type=int, default=400)
    parser.add_argument(
        "--markdown", type=Path, help="also write the report as Markdown (the site's table)"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the closing cProfile")
    args = parser.parse_args(argv)

    import distributed

    corpus = synthetic() if args.quick else dask_corpus.load(regenerate=args.regenerate)
    rounds = 2 if args.quick else args.rounds
    today = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d}"
    print(f"daskwire vs distributed.protocol, {today}")
    print(f"{machine()}; Dask {corpus.dask_version}, distributed {distributed.__version__}")
    print(dask_corpus.describe(corpus))
    print()
    ops = operations()
    results: dict[str, dict[str, float]] = {}
    prepared: dict[str, list[Case]] = {}
    for klass in CLASSES:
        group = [e for e in corpus.entries if e.klass == klass]
        if not group:
            continue
        step = max(1, len(group) // args.max_per_class)
        cases = [prepare(e) for e in group[::step]]
        prepared[klass] = cases
        count = 1 if klass == BIG and args.quick else rounds
        # Two interleaved sets: the wire layer copies whole frames (64 MiB in the large class),
        # which would leave a cold cache to whichever codec operation ran next.
        codec = {name: op for name, op in ops.items() if name not in WIRE_OPS}
        wire = {name: op for name, op in ops.items() if name in WIRE_OPS}
        with no_unpickling():
            results[klass] = measure(cases, codec, count) | measure(cases, wire, count)

    times = [[name, *(duration(r[name]) for r in results.values())] for name in ops]
    ratios = [
        [label, *(f"{r[mine] / r[theirs]:.2f}" for r in results.values())]
        for label, mine, theirs in RATIOS
    ]
    verdicts = [
        [
            f"{label} <= {limit}",
            *(_verdict(r[mine] / r[theirs], limit) for r in results.values()),
        ]
        for label, mine, theirs, limit in TARGETS
    ]
    header = ["", *results]
    print("median time per message (median over rounds, then over messages)")
    print(_text_table(header, times))
    print()
    print("ratios (daskwire / reference; > 1 means daskwire is slower)")
    print(_text_table(header, ratios))
    print()
    print("targets")
    print(_text_table(header, verdicts))

    memory: list[list[str]] = []
    big = prepared.get(BIG)
    if big:
        from distributed.protocol import dumps, loads

        case = big[0]
        size = sum(memoryview(f).nbytes for f in case.dw_frames)
        checks = {
            "dw.encode": lambda: daskwire.encode(case.wire),
            "dk.dumps": lambda: dumps(case.dask, context=CONTEXT),
            "dw.decode-fwd": lambda: daskwire.decode(case.dw_frames, mode="forwarding"),
            "dw.decode-cons": lambda: daskwire.decode(case.dw_frames, mode="consuming"),
            "dk.loads": lambda: loads(case.dk_frames, deserialize=False),
            "dw.FrameReader": lambda: daskwire.FrameReader().feed(case.dw_bytes),
            "dk.unpack_frames": lambda: dask_unpack(case.dw_bytes),
        }
        for name, func in checks.items():
            with no_unpickling():
                grown = peak(func)
            # Peak memory while the op runs, payload included, over the payload.
            ratio = (size + grown) / size
            mark = _verdict(ratio, MEMORY_TARGET) if name.startswith("dw.") else ""
            memory.append([name, human(grown), f"{ratio:.3f}", mark])
        print()
        print(f"peak memory on one {BIG} message ({human(size)} of frames), tracemalloc:")
        print(_text_table(MEMORY_HEADER, memory))

    d23 = run_dask_2023_11(args, rounds)
    side = side_by_side(results, memory, d23)
    print()
    print("both profiles side by side: verdicts against the targets")
    print(_text_table(SIDE_HEADER, side))

    if args.markdown:
        sections = [
            (
                f"Measured {today} on {machine()}, with Dask {corpus.dask_version} and "
                f"distributed {distributed.__version__}, by `{_command(args)}`."
            ),
            "",
            "## Both profiles side by side",
            "",
            (
                "Each cell is the ratio daskwire / reference in one run and its verdict "
                "against the target; a class a profile's corpus lacks is blank. "
                "distributed's `loads` runs without its unpickling step (never run on "
                "recorded pickles), which only makes it faster."
            ),
            "",
            _markdown_table(SIDE_HEADER, side),
            "",
            "## placeholder-v1",
            "",
            (
                "On the converted corpus (`bench/dask_corpus.py`): the messages before `dumps`, "
                "each in daskwire's value model and in Dask's form."
            ),
            "",
            "```text",
            dask_corpus.describe(corpus),
            "```",
            "",
            "Median time per message (the median over rounds, then over messages):",
            "",
            _markdown_table(header, times),
            "",
            "Ratios (daskwire / reference; above 1 means daskwire is slower):",
            "",
            _markdown_table(header, ratios),
            "",
            "Targets:",
            "",
            _markdown_table(header, verdicts),
        ]
        if memory:
            sections += [
                "",
                f"Peak memory (tracemalloc) on one {BIG} message:",
                "",
                _markdown_table(MEMORY_HEADER, memory),
            ]
        sections += ["", *d23.markdown()]
        args.markdown.write_text("\n".join(sections) + "\n", encoding="utf-8")
        print(f"\nwrote {args.markdown}")

    if not args.no_profile:
        _profile_worst(results, ops, prepared, 0.5 if args.quick else 3.0)
        with no_unpickling():
            _profile_worst(
                d23.results,
                d23.ops,
                d23.prepared,
                0.5 if args.quick else 3.0,
                bench_profiles.TARGETS,
            )
    return 0


@dataclass(slots=True)
class Profile23:
    """What the dask-2023.11 run measured, and its report."""

    results: dict[str, dict[str, float]]
    memory: list[list[str]]
    trip: bench_profiles.RoundTrip
    ops: dict[str, Callable[[Any], object]]
    prepared: dict[str, list[Any]]
    source: str

    def tables(self) -> tuple[list[str], list[list[str]], list[list[str]], list[list[str]]]:
        header = ["", *self.results]
        times = [[name, *(duration(r[name]) for r in self.results.values())] for name in self.ops]
        ratios = [
            [label, *(f"{r[mine] / r[theirs]:.2f}" for r in self.results.values())]
            for label, mine, theirs, _ in bench_profiles.TARGETS
        ]
        verdicts = [
            [
                f"{label} <= {limit}",
                *(_verdict(r[mine] / r[theirs], limit) for r in self.results.values()),
            ]
            for label, mine, theirs, limit in bench_profiles.TARGETS
        ]
        return header, times, ratios, verdicts

    def counts(self) -> str:
        return ", ".join(f"{klass} {len(cases)}" for klass, cases in self.prepared.items())

    def markdown(self) -> list[str]:
        header, times, ratios, verdicts = self.tables()
        out = [
            "## dask-2023.11",
            "",
            (
                f"On the frames Dask wrote ({self.source}), decoded and encoded as they are; "
                "encode and `dumps` get the same pre-serialized values (the forwarding decode, "
                "and `Serialized` / `Pickled` / `set` built from it). "
                f"Messages measured per class: {self.counts()}."
            ),
            "",
            "```text",
            *self.trip.lines(),
            "```",
            "",
            "Median time per message (the median over rounds, then over messages):",
            "",
            _markdown_table(header, times),
            "",
            "Ratios (daskwire / reference; above 1 means daskwire is slower):",
            "",
            _markdown_table(header, ratios),
            "",
            "Targets:",
            "",
            _markdown_table(header, verdicts),
        ]
        if self.memory:
            out += [
                "",
                f"Peak memory (tracemalloc) on one {BIG} message:",
                "",
                _markdown_table(MEMORY_HEADER, self.memory),
            ]
        return out


def run_dask_2023_11(args: argparse.Namespace, rounds: int) -> Profile23:
    """Measure dask-2023.11 on the recorded frames; print its tables."""
    capture = bench_profiles.capture(args.quick, args.regenerate)
    prepared, trip = bench_profiles.load(capture, args.quick, args.max_per_class)
    ops = bench_profiles.operations()
    codec = {name: op for name, op in ops.items() if name not in bench_profiles.WIRE_OPS}
    wire = {name: op for name, op in ops.items() if name in bench_profiles.WIRE_OPS}
    results: dict[str, dict[str, float]] = {}
    with no_unpickling():
        for klass, cases in prepared.items():
            count = 1 if klass == BIG and args.quick else rounds
            results[klass] = measure(cases, codec, count) | measure(cases, wire, count)
    memory: list[list[str]] = []
    big = prepared.get(BIG)
    if big:
        case = max(big, key=lambda c: c.payload)
        size = len(case.data)
        for name, func in bench_profiles.memory(case).items():
            with no_unpickling():
                grown = peak(func)
            ratio = (size + grown) / size
            mark = _verdict(ratio, MEMORY_TARGET) if name.startswith("d23.") else ""
            memory.append([name, human(grown), f"{ratio:.3f}", mark])
    source = "the committed sample" if args.quick else "the `write` messages of the capture"
    found = Profile23(results, memory, trip, ops, prepared, source)
    header, times, ratios, verdicts = found.tables()
    print()
    print(f"dask-2023.11 on {source}: {capture}")
    print("\n".join(trip.lines()))
    print(f"measured per class: {found.counts()}")
    print("median time per message (median over rounds, then over messages)")
    print(_text_table(header, times))
    print()
    print("ratios (daskwire / reference; > 1 means daskwire is slower)")
    print(_text_table(header, ratios))
    print()
    print("targets")
    print(_text_table(header, verdicts))
    if memory:
        print()
        print(f"peak memory on one {BIG} message ({human(size)}), tracemalloc:")
        print(_text_table(MEMORY_HEADER, memory))
    return found


SIDE_HEADER = ["target", "class", "placeholder-v1", "dask-2023.11"]


def side_by_side(
    results: dict[str, dict[str, float]], memory: list[list[str]], d23: Profile23
) -> list[list[str]]:
    """One row per target and class: each profile's ratio and verdict."""
    p1 = {label: (mine, theirs, limit) for label, mine, theirs, limit in TARGETS}
    rows = []
    for label, mine23, theirs23, limit in bench_profiles.TARGETS:
        for klass in CLASSES:
            cells = []
            for found, (mine, theirs) in (
                (results, p1[label][:2]),
                (d23.results, (mine23, theirs23)),
            ):
                r = found.get(klass)
                cells.append(_verdict(r[mine] / r[theirs], limit) if r else "")
            if any(cells):
                rows.append([f"{label} <= {limit}", klass, *cells])
    names = {"encode": "encode", "decode-fwd": "decode-fwd", "decode-cons": "decode-cons"}
    names["FrameReader"] = "FrameReader"
    for short in names:
        cells = []
        for table, prefix in ((memory, "dw."), (d23.memory, "d23.")):
            row = next((r for r in table if r[0] == prefix + short), None)
            cells.append(row[3] if row else "")
        if any(cells):
            rows.append([f"peak/payload {short} <= {MEMORY_TARGET}", BIG, *cells])
    return rows


def _verdict(ratio: float, limit: float) -> str:
    return f"{'met' if ratio <= limit else 'MISSED'} ({ratio:.2f})"


def _command(args: argparse.Namespace) -> str:
    parts = ["python bench/bench_dask.py"]
    if args.rounds != 7:
        parts.append(f"--rounds {args.rounds}")
    if args.max_per_class != 400:
        parts.append(f"--max-per-class {args.max_per_class}")
    return " ".join(parts)


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    width = max(len(str(row[0])) for row in [header, *rows]) + 2
    cells = max(len(c) for row in [header, *rows] for c in row[1:]) + 2
    lines = [f"{header[0]:<{width}}" + "".join(f"{h:>{cells}}" for h in header[1:])]
    lines += [f"{row[0]:<{width}}" + "".join(f"{c:>{cells}}" for c in row[1:]) for row in rows]
    return "\n".join(lines)


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _profile_worst(
    results: dict[str, dict[str, float]],
    ops: dict[str, Callable[[Any], object]],
    prepared: dict[str, list[Any]],
    seconds: float,
    targets: tuple[tuple[str, str, str, float], ...] = TARGETS,
) -> None:
    """cProfile the daskwire op with the worst ratio to a target, where to look next."""
    worst_class, worst_label, worst_ratio, worst_op = "", "", 0.0, ""
    for klass, r in results.items():
        for label, mine, theirs, _ in targets:
            if r[mine] / r[theirs] > worst_ratio:
                worst_class, worst_label, worst_ratio = klass, label, r[mine] / r[theirs]
                worst_op = mine
    print()
    print(f"cProfile of {worst_op} on class {worst_class} ({worst_label} = {worst_ratio:.2f}):")
    profiler = cProfile.Profile()
    func = ops[worst_op]
    cases = prepared[worst_class]
    deadline = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        for case in cases:
            func(case)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
    print("\n".join(out.getvalue().splitlines()[4:]))


def dask_unpack(data: bytes) -> object:
    from distributed.protocol.utils import unpack_frames

    return unpack_frames(data)


if __name__ == "__main__":
    sys.exit(main())
