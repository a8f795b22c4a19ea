"""`daskwire tap` in front of a real scheduler, with a real Client through it (issue 15).

One LocalCluster (in-process workers, real TCP on 127.0.0.1) serves the module. The workloads
run once directly and once through a tap subprocess that records; the tests then compare the
results, the tap's lines, and the recording read back through the traffic core. Like the
other tests against distributed, this imports it unguarded: CI installs the bench extra.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from daskwire_conformance.tap.log import replay_lines
from daskwire_conformance.traffic.detect import PROBE_BYTES, detect_profile
from daskwire_conformance.traffic.recording import TIMELINE_NAME, read_index
from daskwire_conformance.traffic.stream import Message, MessageStream
from daskwire_conformance.traffic.summary import summarize

from tap._tapproc import TapProcess, message_lines, running_tap

pytestmark = pytest.mark.timeout(90)

#: The scatter/gather payload: 64 MiB of float64.
BIG = 8 << 20
#: Seconds any one workload may take.
WORK_TIMEOUT = 30


def _boom(x: int) -> int:
    msg = f"boom {x}"
    raise ValueError(msg)


def _workloads(client: distributed.Client) -> dict[str, Any]:
    """An array reduction, a 64 MiB scatter/gather, a dataframe groupby, a task that raises."""
    out: dict[str, Any] = {}
    out["array"] = float((da.arange(400_000, chunks=100_000) ** 2).sum().compute())
    data = np.arange(BIG, dtype="f8")
    future = client.scatter(data)
    back = client.gather(future, direct=False)
    out["scatter"] = (back.nbytes, float(back.sum()), bool(np.array_equal(back, data)))
    del future, back
    frame = pd.DataFrame({"k": np.arange(900) % 7, "v": np.arange(900.0)})
    grouped = dd.from_pandas(frame, npartitions=3).groupby("k").v.sum().compute()
    out["groupby"] = grouped.sort_index().to_dict()
    erred = client.submit(_boom, 1, pure=False)
    exc = erred.exception(timeout=WORK_TIMEOUT)
    out["raises"] = (type(exc).__name__, str(exc))
    return out


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


def _upstream(cluster: distributed.LocalCluster) -> str:
    return str(cluster.scheduler_address).removeprefix("tcp://")


@pytest.fixture(scope="module")
def direct(cluster: distributed.LocalCluster) -> dict[str, Any]:
    with distributed.Client(cluster.scheduler_address, timeout=WORK_TIMEOUT) as client:
        return _workloads(client)


@dataclass
class Tapped:
    results: dict[str, Any]
    tap: TapProcess
    record: Path


@pytest.fixture(scope="module")
def tapped(cluster: distributed.LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Tapped:
    folder = tmp_path_factory.mktemp("tap")
    record = folder / "recording"
    with running_tap(folder, "--upstream", _upstream(cluster), "--record", str(record)) as tap:
        with distributed.Client(tap.address, timeout=WORK_TIMEOUT) as client:
            results = _workloads(client)
        tap.wait_for(r"conn \d+ closed", 10)
    return Tapped(results, tap, record)


def test_results_through_the_tap_equal_the_direct_run(
    tapped: Tapped, direct: dict[str, Any]
) -> None:
    assert tapped.results == direct
    assert tapped.results["scatter"][0] == BIG * 8
    assert tapped.results["raises"] == ("ValueError", "boom 1")


def test_the_tap_stops_cleanly_on_sigterm_and_flushes_its_recording(tapped: Tapped) -> None:
    assert tapped.tap.returncode == 0
    assert re.search(
        r"stopped after \d+ connections, [\d,]+ messages decoded, 0 violations",
        tapped.tap.lines[-1],
    )
    assert stat.S_IMODE(tapped.record.stat().st_mode) == 0o700
    files = sorted(tapped.record.iterdir())
    assert files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_each_connection_shows_both_handshakes_and_what_they_agreed(tapped: Tapped) -> None:
    text = "\n".join(tapped.tap.lines)
    opened = re.findall(r"conn (\d+) open: client \S+ -> upstream", text)
    assert opened
    for n in opened:
        for direction in ("c2s", "s2c"):
            pattern = (
                rf"conn {n} {direction} #0 handshake 66 B, 1 frame: proposes compression none, "
                r"pickle-protocol 5, python \d+\.\d+\.\d+"
            )
            assert re.search(pattern, text), (n, direction)
        assert re.search(rf"conn {n} agreed: compression none, pickle-protocol 5", text)
    assert "warning" not in text
    assert "violation:" not in text
    assert "decoding stops" not in text
    assert "Traceback" not in text


def test_the_log_shows_the_workloads(tapped: Tapped) -> None:
    rests = [rest for sides in message_lines(tapped.tap.lines).values() for _, rest in sides]
    ops = " ".join(rests)
    for op in ("register-client", "update-graph", "scatter", "gather", "task-erred"):
        assert op in ops, op
    sizes = [int(m[1].replace(",", "")) for r in rests if (m := re.search(r" ([\d,]+) B,", r))]
    assert sum(size >= BIG * 8 for size in sizes) >= 2  # the scatter and the gather reply
    erred = next(r for r in rests if "task-erred" in r)
    assert "offloaded value" in erred  # the exception and its traceback travel pickled


def _core_view(path: Path) -> list[tuple[int, int, int, tuple[str, ...]]]:
    """Each message of a recorded stream as the traffic core reads it."""
    data = path.read_bytes()
    if not data:
        return []
    detection = detect_profile(data[:PROBE_BYTES])
    assert detection.sure, detection
    stream = MessageStream(detection.profile)
    out = []
    for item in [*stream.feed(data), *stream.close()]:
        assert isinstance(item, Message), item
        summary = summarize(detection.profile, item.frames, first=item.index == 0)
        assert summary.error is None, summary.error
        out.append((item.index, item.size, len(item.frames), summary.ops))
    return out


def test_every_recorded_stream_through_the_traffic_core_matches_the_log(tapped: Tapped) -> None:
    logged = message_lines(tapped.tap.lines)
    connections = read_index(tapped.record)
    assert {c.connection for c in connections} == {n for n, _ in logged}
    for conn in connections:
        for direction, name in conn.files.items():
            core = _core_view(tapped.record / name)
            lines = logged.get((conn.connection, direction), [])
            assert [i for i, *_ in core] == [i for i, _ in lines]
            for (index, size, frames, ops), (_, rest) in zip(core, lines, strict=True):
                assert f" {size:,} B, {frames} frame" in rest, (index, rest)
                if index > 0:
                    assert all(op in rest for op in ops if op != "-"), (ops, rest)


def test_every_recorded_stream_through_daskwire_inspect_matches_the_log(tapped: Tapped) -> None:
    """Issue 15: the recording run through the `daskwire inspect` command (as a user runs
    it, --json) shows the same messages as the tap's log: index, size, frames and ops."""
    done = subprocess.run(
        [sys.executable, "-m", "daskwire_conformance.cli", "inspect", "--json", str(tapped.record)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shown: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if record["kind"] == "message":
            key = (record["connection"], record["direction"])
            shown.setdefault(key, []).append(record)
    logged = message_lines(tapped.tap.lines)
    assert set(shown) == set(logged)
    for key, records in shown.items():
        lines = logged[key]
        assert [r["index"] for r in records] == [i for i, _ in lines], key
        for record, (_, rest) in zip(records, lines, strict=True):
            frames = len(record["frame_sizes"])
            assert f" {record['size']:,} B, {frames} frame" in rest, (record["index"], rest)
            assert record["error"] is None, record["error"]
            if record["index"] > 0:
                ops = [op for op in record["ops"] if op != "-"]
                assert all(op in rest for op in ops), (ops, rest)


def test_the_replayed_log_equals_the_live_log(tapped: Tapped) -> None:
    """With the recording's timeline, line for line, times included."""
    live = [line for line in tapped.tap.lines if not line.startswith("daskwire tap:")]
    assert replay_lines(tapped.record) == live


def test_without_a_timeline_the_replay_has_the_same_messages(
    tapped: Tapped, tmp_path: Path
) -> None:
    copy = tmp_path / "recording"
    shutil.copytree(tapped.record, copy)
    (copy / TIMELINE_NAME).unlink()
    assert message_lines(replay_lines(copy)) == message_lines(tapped.tap.lines)


def test_different_compression_on_the_two_sides_is_warned_about(
    cluster: distributed.LocalCluster, tmp_path: Path
) -> None:
    """The client reaches the tap on 127.0.0.2 from 127.0.0.1: not the same host, so it
    proposes lz4; the scheduler sees the tap's 127.0.0.1 as its own host and proposes none."""
    with (
        running_tap(tmp_path, "--listen", "127.0.0.2:0", "--upstream", _upstream(cluster)) as tap,
        dask.config.set({"distributed.comm.compression": "lz4"}),
        distributed.Client(tap.address, timeout=WORK_TIMEOUT) as client,
    ):
        assert client.submit(sum, [1, 2, 3]).result(timeout=WORK_TIMEOUT) == 6
        warning = tap.wait_for(
            r"conn (\d+) warning: the two sides propose different compression"
            r" \(client lz4, upstream none\)"
        )
        n = warning[1]
        tap.wait_for(rf"conn {n} c2s #0 handshake .*proposes compression lz4")
        tap.wait_for(rf"conn {n} s2c #0 handshake .*proposes compression none")
        tap.wait_for(rf"conn {n} agreed: compression none")
    assert tap.returncode == 0
