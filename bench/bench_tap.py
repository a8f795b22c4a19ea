"""What `daskwire tap` costs: a 256 MiB gather through it against the same gather direct, the
latency it adds to small messages, and its memory, as ratios measured in one run.

Targets (issue 15): throughput through the tap >= 0.7 of direct; added median latency per
small message < 100 us; the tap's peak RSS during the gather < 64 MiB above its idle size.

- Gather: a LocalCluster of distributed on 127.0.0.1 (in-process worker, real TCP) holds a
  256 MiB NumPy array; three Clients, one direct, one through a tap subprocess in front of
  the scheduler and one through a plain forwarder (asyncio's own protocols, decoding
  nothing: what forwarding alone costs), gather it through the scheduler (`direct=False`)
  in rounds of one gather each way, in the six orders of the three in turn. Each round
  gives a ratio, its direct time over its tap time; the table shows their median with a
  distribution-free 95% confidence interval for it (order statistics of the rounds), lowest
  and highest, and the plain forwarder's median and interval beside it. The verdict is
  "met" when the whole interval meets the target, "MISSED" when none of it does, and
  "marginal" when it straddles the target. The tap's RSS is sampled every few
  milliseconds, and its CPU time (user + system) per gather is shown. On a 2-core machine
  the proxy's process competes with the cluster's for the cores, so the ratios move with
  the machine's load.
- Latency: a small echo server (a subprocess) sends back every byte it reads; a client sends
  a dask-2023.11 handshake then 10,000 heartbeat-sized messages, each after the echo of the
  last, direct and through a second tap. Each round trip passes the tap twice (one message
  each way, both decoded): the added latency per message is half the added round trip. The
  99th percentile of the round trip through the tap, and the tap's CPU per message, are
  shown beside its median.

Nothing here asserts; the table goes to stdout and, with --markdown, to a file
(spec/bench/tap-latest.md, which spec/performance.md includes).
"""

from __future__ import annotations

import argparse
import itertools
import math
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
from typing import TYPE_CHECKING

from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw

if TYPE_CHECKING:
    import psutil

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


#: What forwarding alone costs: a plain forwarder with asyncio's own protocols and the
#: tap's write limits, which decodes and records nothing.
_FORWARD = """
import asyncio, sys
host, port = sys.argv[1].rsplit(":", 1)
class Half(asyncio.Protocol):
    def __init__(self):
        self.other = self.transport = None
        self.early = []
    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=4 << 20, low=1 << 20)
        for data in self.early:
            transport.write(data)
    def data_received(self, data):
        sink = self.other.transport
        if sink is None:  # the upstream is not connected yet: written once it is
            self.other.early.append(data)
        else:
            sink.write(data)
    def pause_writing(self):
        self.other.transport.pause_reading()
    def resume_writing(self):
        self.other.transport.resume_reading()
    def connection_lost(self, exc):
        if self.other.transport is not None:
            self.other.transport.close()
async def main():
    loop = asyncio.get_running_loop()
    def accept():
        client, upstream = Half(), Half()
        client.other, upstream.other = upstream, client
        loop.create_task(loop.create_connection(lambda: upstream, host, int(port)))
        return client
    server = await loop.create_server(accept, "127.0.0.1", 0)
    print("listening on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


@contextmanager
def tap_process(
    upstream: str, out: Path, *, plain: bool = False
) -> Iterator[tuple[str, int, psutil.Process]]:
    """A `daskwire tap` subprocess in front of `upstream`, its output to a file (`plain`: the
    plain forwarder instead)."""
    log = out / f"tap-{time.monotonic_ns()}.log"
    command = (
        [sys.executable, "-c", _FORWARD, upstream]
        if plain
        else [sys.executable, "-m", "daskwire_conformance.cli", "tap", "--upstream", upstream]
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (found := re.search(r"listening on (\S+):(\d+)", log.read_text())):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the tap did not start:\n{log.read_text()}")
            time.sleep(0.02)
        import psutil  # with distributed, in the bench extra: imported where it is used

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


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """A distribution-free confidence interval for the median of `values` and its coverage:
    the order statistics x(k) and x(n + 1 - k), for the largest rank k at which fewer than k
    values fall below the median with probability at most (1 - confidence) / 2 (binomial,
    p = 1/2). Its coverage, 1 - 2 P(X < k), is at least `confidence` when there are enough
    values (6 for 95%); with fewer, the interval is the whole range, covering less."""
    ordered = sorted(values)
    n = len(ordered)

    def below(k: int) -> float:  # P(X < k), X ~ Binomial(n, 1/2)
        return sum(math.comb(n, i) for i in range(k)) / 2**n

    k = 1
    while k < (n + 1) // 2 and below(k + 1) <= (1 - confidence) / 2:
        k += 1
    return ordered[k - 1], ordered[n - k], 1 - 2 * below(k)


def bench_gather(mib: int, rounds: int, out: Path) -> dict[str, float]:
    """Gather times direct, through the plain forwarder and through a tap, in rounds that
    rotate which goes first; the ratios per round, and the tap's CPU and RSS."""
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
            tap_process(upstream, out, plain=True) as (plain_host, plain_port, plain_proc),
            distributed.Client(f"tcp://{host}:{port}") as tapped,
            distributed.Client(f"tcp://{plain_host}:{plain_port}") as forwarded,
        ):
            data = np.random.default_rng(0).random(mib << 17)  # float64: MiB * 2**20 / 8
            [future] = direct.scatter([data], direct=True)
            direct.publish_dataset(tap_bench=future)
            ways = [
                ("direct", direct, future),
                ("tap", tapped, tapped.get_dataset("tap_bench")),
                ("plain", forwarded, forwarded.get_dataset("tap_bench")),
            ]
            times: dict[str, list[float]] = {name: [] for name, _, _ in ways}
            orders = list(itertools.permutations(ways))  # each pair runs first as often
            procs = {"tap": tap, "plain": plain_proc}
            cpu_times: dict[str, list[float]] = {name: [] for name in procs}
            for _, client, fut in ways[1:]:  # warm: connections, first allocations
                client.gather(fut, direct=False)
            time.sleep(0.5)
            idle = tap.memory_info().rss
            with PeakRSS(tap) as rss:
                for number in range(rounds):
                    for name, client, fut in orders[number % len(orders)]:
                        proc = procs.get(name)
                        cpu = proc.cpu_times() if proc is not None else None
                        start = time.perf_counter()
                        got = client.gather(fut, direct=False)
                        times[name].append(time.perf_counter() - start)
                        if proc is not None and cpu is not None:
                            used = proc.cpu_times()
                            spent = used.user + used.system - cpu.user - cpu.system
                            cpu_times[name].append(spent)
                        assert got.nbytes == data.nbytes
                        del got
            direct.unpublish_dataset("tap_bench")
            del ways, future
    ratios = [d / t for d, t in zip(times["direct"], times["tap"], strict=True)]
    plain = [d / t for d, t in zip(times["direct"], times["plain"], strict=True)]
    low, high, coverage = median_interval(ratios)
    plain_low, plain_high, _ = median_interval(plain)
    return {
        "mib": mib,
        "rounds": rounds,
        "direct_s": statistics.median(times["direct"]),
        "tap_s": statistics.median(times["tap"]),
        "ratio": statistics.median(ratios),
        "ratio_low": low,
        "coverage": coverage,
        "ratio_high": high,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "plain": statistics.median(plain),
        "plain_low": plain_low,
        "plain_high": plain_high,
        "tap_cpu_s": statistics.median(cpu_times["tap"]),
        "plain_cpu_s": statistics.median(cpu_times["plain"]),
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
        with tap_process(f"127.0.0.1:{port}", out) as (_, tap_port, tap):
            _round_trips(port, min(count, 500))  # warm
            _round_trips(tap_port, min(count, 500))
            direct = statistics.median(_round_trips(port, count))
            cpu = tap.cpu_times()
            through = _round_trips(tap_port, count)
            used = tap.cpu_times()
            tapped = statistics.median(through)
            tail = statistics.quantiles(through, n=100)[98]
    finally:
        echo.kill()
        echo.wait()
    return {
        "count": count,
        "direct_us": direct * 1e6,
        "tap_us": tapped * 1e6,
        "tap_p99_us": tail * 1e6,
        # two messages a round trip, each forwarded and decoded
        "tap_cpu_us": (used.user + used.system - cpu.user - cpu.system) / (2 * count) * 1e6,
        "added_us": (tapped - direct) * 1e6 / 2,
    }


def table(gather: dict[str, float], latency: dict[str, float], quick: bool, load: float) -> str:
    """The results as a markdown table with the targets."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def ratio_verdict(low: float, high: float, target: float) -> str:
        if low >= target:
            return "met"
        if high >= target:
            return "marginal"
        return "MISSED"

    rows = [
        (
            (
                f"throughput, {gather['mib']:.0f} MiB gather: direct / tap time, "
                f"{gather['rounds']:.0f} rounds, the six orders in turn"
            ),
            ">= 0.7",
            (
                f"median {gather['ratio']:.2f} ({gather['coverage']:.0%} interval "
                f"{gather['ratio_low']:.2f} to "
                f"{gather['ratio_high']:.2f}; lowest {gather['ratio_min']:.2f}, highest "
                f"{gather['ratio_max']:.2f}; medians {gather['direct_s']:.2f} s direct, "
                f"{gather['tap_s']:.2f} s tap, the tap's CPU {gather['tap_cpu_s']:.2f} s)"
            ),
            ratio_verdict(gather["ratio_low"], gather["ratio_high"], 0.7),
        ),
        (
            (
                "for comparison: the plain forwarder (asyncio, decodes nothing), "
                "direct / its time, in the same rounds"
            ),
            "",
            (
                f"median {gather['plain']:.2f} ({gather['coverage']:.0%} interval "
                f"{gather['plain_low']:.2f} to "
                f"{gather['plain_high']:.2f}; its CPU {gather['plain_cpu_s']:.2f} s)"
            ),
            "",
        ),
        (
            f"added latency per message, median of {latency['count']:,.0f}",
            "< 100 us",
            (
                f"{latency['added_us']:.0f} us (median round trip "
                f"{latency['direct_us']:.0f} us direct, {latency['tap_us']:.0f} us tap; "
                f"99th percentile {latency['tap_p99_us']:.0f} us tap; the tap's CPU "
                f"{latency['tap_cpu_us']:.0f} us a message)"
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
        f"Measured {date.today().isoformat()} on nproc {os.cpu_count()}, {cpu}, Python "
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
        "--rounds",
        type=int,
        default=24,
        help="rounds of one gather each way, in the 6 orders in turn (default 24)",
    )
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table here")
    args = parser.parse_args(argv)
    mib, count, rounds = (16, 500, 6) if args.quick else (256, 10_000, args.rounds)
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
