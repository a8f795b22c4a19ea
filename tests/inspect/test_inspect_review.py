"""Regressions from the review of `daskwire inspect`: memory, hostile recordings, output."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import msgpack
import pytest
from daskwire.dask_2023_11 import encode, pack_bytes, write_handshake
from daskwire.model import Offloaded
from daskwire.profile import ConnectionOptions
from daskwire_conformance.inspect.run import Options, inspect_paths
from inspect_helpers import CAPTURES, inspect

pytestmark = pytest.mark.timeout(60)

SCHEMA = CAPTURES.parents[1] / "schemas" / "inspect.schema.json"


def _handshake(python: object = (3, 11, 7)) -> bytes:
    frames = write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    shake = msgpack.unpackb(bytes(memoryview(frames[0]).cast("B")))
    shake["python"] = list(python) if isinstance(python, tuple) else python
    return pack_bytes([msgpack.packb(shake)])


def _recording(folder: Path, c2s: bytes, s2c: bytes, names: tuple[str, str] = ("a", "b")) -> Path:
    folder.mkdir()
    (folder / names[0]).write_bytes(c2s) if not (folder / names[0]).is_symlink() else None
    (folder / names[1]).write_bytes(s2c)
    line = {
        "connection": 1,
        "client": "c",
        "upstream": "u",
        "opened": "t",
        "files": {"c2s": names[0], "s2c": names[1]},
    }
    (folder / "index.jsonl").write_text(json.dumps(line) + "\n")
    return folder


def _peak_rss_kib(code: str) -> int:
    """Run `code` in a fresh interpreter; its peak resident memory in KiB (getrusage)."""
    wrapper = code + "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    done = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_one_large_message_in_memory_far_below_its_size(tmp_path: Path) -> None:
    """Review #5: a 96 MiB frame took ~2.8x its size; the mapped file costs next to none."""
    frame = 96 << 20
    message = encode({"op": "x", "a": Offloaded({"serializer": "dask"}, [b"\0"])})
    sizes = [len(memoryview(f).cast("B")) for f in message[:-1]] + [frame]
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        handle.write(_handshake())
        count = len(sizes)
        handle.write(struct.pack(f"<QQ{count}Q", 8 + 8 * count, count, *sizes))  # no-split hint
        for part in message[:-1]:
            handle.write(bytes(memoryview(part).cast("B")))
        handle.truncate(handle.tell() + frame)  # a sparse file: no time spent writing it
    code = f"""
import io, sys
from pathlib import Path
from daskwire_conformance.inspect.run import Options, inspect_paths
out = io.StringIO()
assert inspect_paths([Path({str(path)!r})], Options(), out, io.StringIO()) == 0, out.getvalue()
assert "1 frame of {frame} bytes" in out.getvalue(), out.getvalue()
"""
    baseline = _peak_rss_kib("import daskwire_conformance.inspect.run")
    peak = _peak_rss_kib(textwrap.dedent(code))
    assert peak - baseline < 32 << 10, (peak, baseline)  # was > 250 MiB for 96 MiB


def test_a_frames_file_with_too_many_frames_is_refused_quickly(tmp_path: Path) -> None:
    """Review #4: a 3 MB frames file of 2^20 empty frames took 13 s and 1.5 GB."""
    path = tmp_path / "many.json"
    path.write_text("[" + ",".join(['""'] * (1 << 20)) + "]")
    out = io.StringIO()
    tracemalloc.start()
    try:
        code = inspect_paths([path], Options(), out, io.StringIO())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 4
    assert "holds at most 65536 frames; this has 1048576" in out.getvalue()
    assert peak < 16 << 20, peak


def test_a_path_bomb_in_bounded_memory(capsys: Any, tmp_path: Path) -> None:
    """Review #3: nested maps under long keys: >1.2 GB before, for a 5 MB message."""
    node: object = 0
    for i in range(100):
        node = {"k" * 20_000 + str(i): node, "s": 1}
    path = tmp_path / "bomb.bin"
    path.write_bytes(_handshake() + pack_bytes([msgpack.packb({"op": "x", "v": node})]))
    tracemalloc.start()
    try:
        code, _, _ = inspect(capsys, "--stats", path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    assert peak < 64 << 20, peak


def test_a_damaged_index_is_not_a_recording(capsys: Any, tmp_path: Path) -> None:
    """Review #7: bytes that are not UTF-8, and an int of 5000 digits: exit 4, no traceback."""
    for name, text in (
        ("utf8", b"\xff\xfe{}\n"),
        ("bigint", b'{"connection": ' + b"9" * 5000 + b"}\n"),
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "index.jsonl").write_bytes(text)
        code, out, err = inspect(capsys, folder)
        assert code == 4, out
        assert "not-a-recording" in out
        assert "Traceback" not in out + err


def test_an_empty_index_says_so(capsys: Any, tmp_path: Path) -> None:
    """Review #21: an empty index.jsonl gave no output and exit 0."""
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "index.jsonl").write_text("")
    code, out, _ = inspect(capsys, folder)
    assert code == 4
    assert "names no connection: there is nothing to read" in out


def test_recorded_files_that_are_links_or_outside_are_refused(capsys: Any, tmp_path: Path) -> None:
    """Review #12: an index naming a symbolic link to a file outside showed its bytes."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(_handshake() + pack_bytes([msgpack.packb({"op": "SECRET-OP"})]))
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "link").symlink_to(secret)
    _recording_index(folder, "link", "b")
    (folder / "b").write_bytes(_handshake())
    code, out, _ = inspect(capsys, folder)
    assert code == 4
    assert "a symbolic link" in out
    assert "SECRET-OP" not in out


def _recording_index(folder: Path, c2s: str, s2c: str) -> None:
    line = {"connection": 1, "client": "c", "upstream": "u", "opened": "t",
            "files": {"c2s": c2s, "s2c": s2c}}  # fmt: skip
    (folder / "index.jsonl").write_text(json.dumps(line) + "\n")


def test_python_patch_levels_are_no_warning(capsys: Any, tmp_path: Path) -> None:
    """Review #13: 3.11.7 and 3.11.8 warned in inspect, not in the tap (major.minor)."""
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "a").write_bytes(_handshake((3, 11, 7)))
    (folder / "b").write_bytes(_handshake((3, 11, 8)))
    _recording_index(folder, "a", "b")
    code, out, _ = inspect(capsys, folder)
    assert code == 0
    assert "connection 1: agreed (DK-5)" in out
    assert "warning" not in out
    (folder / "b").write_bytes(_handshake((3, 12, 0)))
    _, out, _ = inspect(capsys, folder)
    assert "the two sides run different Python versions (client 3.11.7, upstream 3.12.0)" in out


def test_a_long_pickle_is_read_in_part_not_invalid(capsys: Any, tmp_path: Path) -> None:
    """Review #10: a valid 200 KB pickle-serialized value was "not a valid pickle"."""
    data = pickle.dumps(list(range(50_000)), protocol=5)
    value = Offloaded({"serializer": "pickle"}, [data])
    path = tmp_path / "p.bin"
    path.write_bytes(_handshake() + pack_bytes(encode({"op": "p", "v": value})))
    code, out, _ = inspect(capsys, "--pickles", path)
    assert code == 0
    assert f"only the first 65536 of its {len(data)} bytes read" in out
    assert "not a valid pickle" not in out


def test_stats_stay_small_with_long_ops(capsys: Any, tmp_path: Path) -> None:
    """Review #15: a 100 000-character op padded every row; a batch listed every op."""
    ops = [msgpack.packb({"op": "Z" * 100_000 + str(i)}) for i in range(20)]
    batch = msgpack.packb([{"op": "x" * 1000 + str(i)} for i in range(1000)])
    path = tmp_path / "wide.bin"
    path.write_bytes(_handshake() + b"".join(pack_bytes([o]) for o in [*ops, batch]))
    code, out, _ = inspect(capsys, "--stats", path)
    assert code == 0
    assert len(out) < 20_000, len(out)
    assert max(map(len, out.splitlines())) < 1000


def test_a_handshake_python_of_any_value_fits_the_schema(capsys: Any, tmp_path: Path) -> None:
    """Review #16: python [3, -11, 7] was written where the schema said minimum 0."""
    import jsonschema

    path = tmp_path / "hs.bin"
    path.write_bytes(_handshake((3, -11, 7)))
    _, out, _ = inspect(capsys, "--json", path)
    schema = json.loads(SCHEMA.read_text())
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        jsonschema.validate(record, schema)
    shake = next(r for r in records if r["kind"] == "message")["handshake"]
    assert shake["python"] == [3, -11, 7]


def test_error_offsets_point_at_the_field(capsys: Any, tmp_path: Path) -> None:
    """Review #17: a frame length over the limit was reported at the message's start."""
    path = tmp_path / "len.bin"
    shake = _handshake()
    path.write_bytes(shake + struct.pack("<QQQ", 24, 1, 2**64 - 1) + b"abc")
    code, out, _ = inspect(capsys, path)
    assert code == 3
    assert f"limit-exceeded [WF-7] at byte {len(shake) + 16}:" in out


def test_a_truncated_message_dump_shows_the_bytes_present(capsys: Any, tmp_path: Path) -> None:
    """Review #18: the dump left out `a2 6f` though they were present."""
    path = tmp_path / "t.bin"
    path.write_bytes(_handshake() + pack_bytes([msgpack.packb({"op": "x"})])[:-3])
    _, out, _ = inspect(capsys, path)
    assert "a2 6f" in out


def test_a_bare_reply_has_no_op(capsys: Any, tmp_path: Path) -> None:
    """Review #20: a str message "OK" showed as op 'OK' (a Python repr)."""
    path = tmp_path / "ok.bin"
    path.write_bytes(_handshake() + pack_bytes([msgpack.packb("OK")]))
    code, out, _ = inspect(capsys, path)
    assert code == 0
    assert 'no op: a bare reply, "OK"' in out
    assert "'OK'" not in out
    _, out, _ = inspect(capsys, "--json", path)
    record = [json.loads(line) for line in out.splitlines()][2]
    assert record["ops"] == ["-"]


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """Review #21: `daskwire inspect ... | head` exited 1, the code of a payload error."""
    path = tmp_path / "many.bin"
    path.write_bytes(_handshake() + pack_bytes(encode({"op": "x", "s": "y" * 100})) * 20_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "daskwire_conformance.cli", "inspect", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=30) == 0, err
    assert b"Traceback" not in err


def test_the_stream_is_cut_at_message_boundaries(capsys: Any, tmp_path: Path) -> None:
    """Messages on both sides of a 1 MiB piece, and a larger one, read whole and in order."""
    small = pack_bytes(encode({"op": "s", "b": b"\1" * 1000}))
    big = pack_bytes(encode({"op": "b", "b": b"\2" * (3 << 20)}))
    path = tmp_path / "mix.bin"
    path.write_bytes(_handshake() + small * 1500 + big + small * 3)
    code, out, _ = inspect(capsys, "--stats", path)
    assert code == 0, out
    assert "statistics: 1505 messages" in out
    assert os.path.getsize(path) > 4 << 20
