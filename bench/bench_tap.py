"""What `daskwire tap` costs: a 256 MiB gather through it against the same gather direct, the
latency it adds to small messages, and its memory, as ratios measured in one run.

Targets (issue 15): throughput through the tap >= 0.7 of direct; added median latency per
small message < 100 us; the tap's peak RSS during the gather < 64 MiB above its idle size.

- Gather: a LocalCluster of distributed on 127.0.0.1 (in-process worker, real TCP) holds a
  256 MiB NumPy array; two Clients, one direct and one through a tap subprocess in front of the
  scheduler, gather it through the scheduler (`direct=False`) in interleaved rounds (each
  round one gather each way, which goes first alternating). Each round gives a ratio, its
  direct time over its tap time; the table shows their median, lowest, highest and spread,
  and the verdict is "met" only when the median meets the target and no round misses it,
  "marginal" when the rounds fall on both sides of it. The tap's RSS is sampled every few
  milliseconds, and its CPU time (user + system) per gather is shown. On a 2-core machine
  the tap's process competes with the cluster's for the cores, so the ratio moves with the
  machine's load.
- Latency: a small echo server (a subprocess) sends back every byte it reads; a client sends
  a dask-2023.11 handshake then 10,000 heartbeat-sized messages, each after the echo of the
  last, direct and through a second tap. Each round trip passes the tap twice (one message
  each way, both decoded): the added latency per message is half the added round trip.

Nothing here asserts; the table goes to stdout and, with --markdown, to a file
(spec/bench/tap-latest.md, which spec/performance.md includes).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psutil
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw

START_TIMEOUT = 30.0
_ECHO = """
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := conn.recv(65536):
        conn.sendall(data)
    conn.close()
"""


@contextmanager
def tap_process(upstream: str, out: Path) -> Iterator[tuple[str, int, psutil.Process]]:
    """A `daskwire tap` subprocess in front of `upstream`, its output to a file."""
    log = out / f"tap-{time.monotonic_ns()}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daskwire_conformance.cli", "tap", "--upstream", upstream],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (found := re.search(r"listening on (\S+):(\d+)", log.read_text())):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the tap did not start:\n{log.read_text()}")
            time.sleep(0.02)
        yield found[1], int(found[2]), psutil.Process(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        text = log.read_text()
        if "Traceback" in text or " violation: " in text or " decoding stops: " in text:
            print(text[-3000:], file=sys.stderr)


class PeakRSS:
    """Samples a process's resident memory in a thread; `peak` is the largest seen."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_gather(mib: int, rounds: int, out: Path) -> dict[str, float]:
    """Median gather time direct and through a tap, and the tap's RSS, idle and peak."""
    import distributed
    import numpy as np

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=None,
    ) as cluster:
        upstream = str(cluster.scheduler_address).removeprefix("tcp://")
        with (
            distributed.Client(cluster.scheduler_address) as direct,
            tap_process(upstream, out) as (host, port, tap),
            distributed.Client(f"tcp://{host}:{port}") as tapped,
        ):
            data = np.random.default_rng(0).random(mib << 17)  # float64: MiB * 2**20 / 8
            [future] = direct.scatter([data], direct=True)
            direct.publish_dataset(tap_bench=future)
            tapped_future = tapped.get_dataset("tap_bench")
            times: dict[str, list[float]] = {"direct": [], "tap": [], "cpu": []}
            ways = [("direct", direct, future), ("tap", tapped, tapped_future)]
            tapped.gather(tapped_future, direct=False)  # warm: connections, first allocations
            time.sleep(0.5)
            idle = tap.memory_info().rss
            with PeakRSS(tap) as rss:
                for number in range(rounds):
                    for name, client, fut in ways if number % 2 == 0 else ways[::-1]:
                        cpu = tap.cpu_times()
                        start = time.perf_counter()
                        got = client.gather(fut, direct=False)
                        times[name].append(time.perf_counter() - start)
                        if name == "tap":
                            used = tap.cpu_times()
                            times["cpu"].append(used.user + used.system - cpu.user - cpu.system)
                        assert got.nbytes == data.nbytes
                        del got
            direct.unpublish_dataset("tap_bench")
            del tapped_future, future
    direct_s, tap_s = statistics.median(times["direct"]), statistics.median(times["tap"])
    ratios = [d / t for d, t in zip(times["direct"], times["tap"], strict=True)]
    return {
        "mib": mib,
        "rounds": rounds,
        "direct_s": direct_s,
        "tap_s": tap_s,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "tap_cpu_s": statistics.median(times["cpu"]),
        "idle_mib": idle / 2**20,
        "peak_mib": rss.peak / 2**20,
        "added_mib": (rss.peak - idle) / 2**20,
    }


def _round_trips(port: int, count: int) -> list[float]:
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    )
    message = dw.pack_bytes(
        dw.encode({"op": "heartbeat-worker", "now": 1.5, "metrics": {"cpu": 1}})
    )
    out: list[float] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for payload in [handshake] + [message] * count:
            start = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < len(payload):
                chunk = sock.recv(65536)
                if not chunk:
                    raise SystemExit("the echo connection closed")
                got += len(chunk)
            out.append(time.perf_counter() - start)
    return out[1:]


def bench_latency(count: int, out: Path) -> dict[str, float]:
    """Median round trip of small messages, direct and through a tap."""
    echo = subprocess.Popen([sys.executable, "-c", _ECHO], stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout is not None
        port = int(echo.stdout.readline())
        with tap_process(f"127.0.0.1:{port}", out) as (_, tap_port, _proc):
            _round_trips(port, min(count, 500))  # warm
            _round_trips(tap_port, min(count, 500))
            direct = statistics.median(_round_trips(port, count))
            tapped = statistics.median(_round_trips(tap_port, count))
    finally:
        echo.kill()
        echo.wait()
    return {
        "count": count,
        "direct_us": direct * 1e6,
        "tap_us": tapped * 1e6,
        "added_us": (tapped - direct) * 1e6 / 2,
    }


def table(gather: dict[str, float], latency: dict[str, float], quick: bool, load: float) -> str:
    """The results as a markdown table with the targets."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def ratio_verdict(median: float, low: float, high: float, target: float) -> str:
        if median >= target and low >= target:
            return "met"
        if low < target <= high:
            return "marginal"
        return "MISSED"

    rows = [
        (
            (
                f"throughput, {gather['mib']:.0f} MiB gather: direct / tap time, "
                f"{gather['rounds']:.0f} interleaved rounds"
            ),
            ">= 0.7",
            (
                f"median {gather['ratio']:.2f}, lowest {gather['ratio_min']:.2f}, highest "
                f"{gather['ratio_max']:.2f} (spread "
                f"{gather['ratio_max'] - gather['ratio_min']:.2f}; medians "
                f"{gather['direct_s']:.2f} s direct, {gather['tap_s']:.2f} s tap, the tap's "
                f"CPU {gather['tap_cpu_s']:.2f} s)"
            ),
            ratio_verdict(gather["ratio"], gather["ratio_min"], gather["ratio_max"], 0.7),
        ),
        (
            f"added latency per message, median of {latency['count']:,.0f}",
            "< 100 us",
            (
                f"{latency['added_us']:.0f} us (round trip {latency['direct_us']:.0f} us "
                f"direct, {latency['tap_us']:.0f} us tap)"
            ),
            verdict(latency["added_us"] < 100),
        ),
        (
            "tap peak RSS during the gather, above idle",
            "< 64 MiB",
            (
                f"{gather['added_mib']:.1f} MiB (idle {gather['idle_mib']:.1f} MiB, "
                f"peak {gather['peak_mib']:.1f} MiB)"
            ),
            verdict(gather["added_mib"] < 64),
        ),
    ]
    import distributed

    cpu = platform.processor() or platform.machine()
    head = (
        f"Measured {date.today().isoformat()} on nproc {psutil.cpu_count()}, {cpu}, Python "
        f"{platform.python_version()}, with distributed {distributed.__version__}, by "
        f"`python bench/bench_tap.py{' --quick' if quick else ''}`, with a load average "
        f"of {load:.2f} (1 minute) when it started: other work on the machine slows the "
        "tap's process more than the direct path.\n\n"
        "| measure | target | this run | verdict |\n|---|---|---|---|\n"
    )
    return head + "".join(f"| {a} | {b} | {c} | {d} |\n" for a, b, c, d in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a seconds-long smoke: 16 MiB, 500 messages"
    )
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved gathers each way (default 15)"
    )
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table here")
    args = parser.parse_args(argv)
    mib, count, rounds = (16, 500, 3) if args.quick else (256, 10_000, args.rounds)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        latency = bench_latency(count, Path(tmp))
        gather = bench_gather(mib, rounds, Path(tmp))
    text = table(gather, latency, args.quick, load)
    print(text)
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
