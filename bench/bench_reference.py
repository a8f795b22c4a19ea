"""Benchmarks of the reference codec: zero-copy big frames, and small messages against msgpack."""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import daskwire
import msgpack
from daskwire import CONSUMING, FORWARDING, Materialized, Offloaded

MiB = 2**20
KiB = 2**10


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """How much work one run does."""

    big: int  # bytes of the big offloaded frame
    repeat: int  # timing repeats; the median is reported
    min_ns: int  # each repeat loops until it took at least this long


FULL = Budget(big=256 * MiB, repeat=7, min_ns=200_000_000)
QUICK = Budget(big=16 * MiB, repeat=3, min_ns=20_000_000)


def per_call_ns(func: Callable[[], object], budget: Budget) -> float:
    """Median time of one call: each repeat loops until `min_ns` elapsed."""
    func()  # warm up
    samples = []
    for _ in range(budget.repeat):
        loops, start = 0, time.perf_counter_ns()
        while True:
            func()
            loops += 1
            elapsed = time.perf_counter_ns() - start
            if elapsed >= budget.min_ns:
                break
        samples.append(elapsed / loops)
    return statistics.median(samples)


def peak_growth(func: Callable[[], object]) -> int:
    """Peak bytes allocated while `func` runs, above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - base


def human(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", MiB), ("KiB", KiB)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def duration(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.1f} us"


# -- (1) big frames are never copied ---------------------------------------------------------


def big_frame_cases(size: int) -> list[tuple[str, Callable[[bytes], Any]]]:
    """Messages that carry one frame of `size` bytes, by the way the value is given."""
    return [
        ("wire form (Offloaded)", lambda f: {"op": "x", "data": Offloaded({"s": "p"}, [f])}),
        (
            "original form, one shard",
            lambda f: {"op": "x", "data": Materialized({"s": "p"}, [f])},
        ),
        (
            "original form, 64 MiB shards",
            lambda f: {"op": "x", "data": Materialized({"s": "p"}, [f])},
        ),
    ]


def _operations(
    messages: dict[str, Any],
    frames: dict[str, list[Any]],
    wires: dict[str, bytes],
    options: dict[str, Any],
) -> list[tuple[str, Callable[[str], Callable[[], object]]]]:
    """The measured operations; each maps "big" or "small" to a call."""

    def encode(k: str) -> Callable[[], object]:
        return lambda: daskwire.encode(messages[k], **options)

    def pack(k: str) -> Callable[[], object]:
        return lambda: daskwire.pack(frames[k])

    def unpack(k: str) -> Callable[[], object]:
        return lambda: daskwire.unpack(wires[k])

    def forwarding(k: str) -> Callable[[], object]:
        return lambda: daskwire.decode(frames[k], mode=FORWARDING)

    def consuming(k: str) -> Callable[[], object]:
        return lambda: daskwire.decode(frames[k], mode=CONSUMING)

    return [
        ("encode", encode),
        ("pack", pack),
        ("unpack", unpack),
        ("decode forwarding", forwarding),
        ("decode consuming", consuming),
    ]


def bench_big_frames(budget: Budget) -> None:
    size = budget.big
    print(f"(1) one offloaded frame of {human(size)} vs 1 KiB: peak memory growth and time")
    print(
        f"{'value':30} {'operation':18} {'peak growth':>12} {'of frame':>9} "
        f"{'time big':>10} {'time 1 KiB':>11} {'ratio':>7}"
    )
    big = bytes(size)
    small = bytes(KiB)
    for name, build in big_frame_cases(size):
        shard = size if "one shard" in name else 64 * MiB
        if "64 MiB" in name and size <= 64 * MiB:
            shard = max(size // 4, 1)  # --quick: still four shards
        options: dict[str, Any] = {"shard_size": shard}
        messages = {"big": build(big), "small": build(small)}
        frames = {k: daskwire.encode(m, **options) for k, m in messages.items()}
        wires = {k: daskwire.pack_bytes(f) for k, f in frames.items()}
        operations = _operations(messages, frames, wires, options)
        for op_name, make in operations:
            growth = peak_growth(make("big"))
            t_big = per_call_ns(make("big"), budget)
            t_small = per_call_ns(make("small"), budget)
            print(
                f"{name:30} {op_name:18} {human(growth):>12} {growth / size:>8.1%} "
                f"{duration(t_big):>10} {duration(t_small):>11} {t_big / t_small:>6.2f}x"
            )
    print(
        "    A consuming receiver joins the shards of a split frame into one frame; that is "
        "the one copy (RX-2, CP-6). Everything else hands out views."
    )


# -- (2) small control messages against plain msgpack ----------------------------------------

PICKLED_FUNC = b"\x80\x05\x95" + bytes(range(7, 100))
PICKLED_ARGS = b"\x80\x05\x95" + bytes(range(100, 160))


def control_messages() -> dict[str, Any]:
    """Typical scheduler/worker messages of the 2020 protocol (protocol-history.md §1, §5)."""
    key = "('inc-5c9c9a6f3b2e4c1d', 3)"
    return {
        "compute-task": {
            "op": "compute-task",
            "key": key,
            "priority": (0, 1, 12),
            "duration": 0.5,
            "who_has": {"('x-3f1a', 0)": ("tcp://10.0.0.1:34567",)},
            "nbytes": {"('x-3f1a', 0)": 8000},
            "resource_restrictions": {},
            "actor": False,
            "annotations": {},
            "function": Offloaded({"serializer": "pickle"}, [PICKLED_FUNC]),
            "args": Offloaded({"serializer": "pickle"}, [PICKLED_ARGS]),
        },
        "task-finished": {
            "op": "task-finished",
            "status": "OK",
            "key": key,
            "nbytes": 8000,
            "type": b"\x80\x05\x95\x1b" + b"numpy.ndarray" * 2,
            "typename": "numpy.ndarray",
            "metadata": {},
            "thread": 140_234_991_122_176,
            "startstops": ({"action": "compute", "start": 1.7e9, "stop": 1.7e9 + 0.01},),
        },
        "heartbeat": {
            "op": "heartbeat-worker",
            "address": "tcp://10.0.0.1:34567",
            "now": 1.7e9,
            "metrics": {
                "executing": 2,
                "in_memory": 120,
                "ready": 4,
                "in_flight": 0,
                "bandwidth": {"total": 100_000_000, "workers": {}, "types": {}},
                "managed_bytes": 123_456_789,
                "spilled_nbytes": {"memory": 0, "disk": 0},
                "event_loop_interval": 0.02,
                "cpu": 3.0,
                "memory": 523_456_789,
                "time": 1.7e9,
                "read_bytes": 1e5,
                "write_bytes": 2e5,
                "num_fds": 31,
            },
            "executing": {},
        },
        "update-graph": {
            "op": "update-graph",
            "keys": [f"('sum-{i:04x}', 0)" for i in range(8)],
            "tasks": Offloaded(
                {"serializer": "pickle", "lengths": [96], "compression": [None]}, [bytes(96)]
            ),
            "dependencies": {f"('sum-{i:04x}', 0)": [f"('x-{i:04x}', 0)"] for i in range(8)},
            "collection": Materialized(
                {
                    "serializer": "dask",
                    "is-collection": True,
                    "sub-headers": [{"serializer": "pickle"}] * 4,
                    "frame-lengths": [1, 1, 7, 1],
                    "type-serialized": b"\x80\x05\x95\x10list",
                },
                [b"a", b"b", b"1234567", b"c"],
            ),
            "restrictions": {},
            "loose_restrictions": None,
            "priority": {f"('sum-{i:04x}', 0)": i for i in range(8)},
            "user_priority": 0,
            "fifo_timeout": "60s",
            "actors": None,
            "big": b"z" * 70_000,  # a raw byte string: offloaded (HD-10)
        },
    }


def _small_calls(
    message: Any, frames: list[Any], body: bytes, tree: Any
) -> list[Callable[[], object]]:
    """packb, unpackb (the floor), then encode, forwarding decode and consuming decode."""
    return [
        lambda: msgpack.packb(tree, use_bin_type=True),
        lambda: msgpack.unpackb(body, raw=False, use_list=False, strict_map_key=False),
        lambda: daskwire.encode(message),
        lambda: daskwire.decode(frames),
        lambda: daskwire.decode(frames, mode=CONSUMING),
    ]


def bench_small_messages(budget: Budget) -> None:
    print()
    print("(2) control messages: daskwire vs msgpack on the same payload, placeholders in place")
    print(
        f"{'message':14} {'frames':>6} {'payload':>8} {'packb':>9} {'encode':>9} {'ratio':>6} "
        f"{'unpackb':>9} {'fwd':>9} {'ratio':>6} {'consume':>9} {'ratio':>6}"
    )
    for name, message in control_messages().items():
        frames = daskwire.encode(message)
        body = bytes(frames[1])
        tree = msgpack.unpackb(body, raw=False, use_list=False, strict_map_key=False)
        t_packb, t_unpackb, t_enc, t_fwd, t_con = (
            per_call_ns(call, budget) for call in _small_calls(message, frames, body, tree)
        )
        print(
            f"{name:14} {len(frames):>6} {len(body):>8} {duration(t_packb):>9} "
            f"{duration(t_enc):>9} {t_enc / t_packb:>5.1f}x {duration(t_unpackb):>9} "
            f"{duration(t_fwd):>9} {t_fwd / t_unpackb:>5.1f}x {duration(t_con):>9} "
            f"{t_con / t_unpackb:>5.1f}x"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run (CI)")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    print(
        f"daskwire {daskwire.__version__}, msgpack {'.'.join(map(str, msgpack.version))}, "
        f"Python {sys.version.split()[0]}; medians of {budget.repeat} repeats"
    )
    bench_big_frames(budget)
    bench_small_messages(budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
