"""A tap recording written with `Recorder`: every connection and direction, labelled, compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from daskwire.dask_2023_11 import write_handshake
from daskwire.profile import ConnectionOptions
from daskwire_conformance.traffic.recording import Recorder
from inspect_helpers import capture, inspect

pytestmark = pytest.mark.timeout(60)


def _shake(compression: str | None, protocol: int = 5) -> bytes:
    from daskwire.dask_2023_11 import pack_bytes

    frames = write_handshake(ConnectionOptions(compression=compression, pickle_protocol=protocol))
    return pack_bytes(frames)


def _record(folder: Path) -> Path:
    recorder = Recorder(folder)
    # connection 1: both sides propose lz4; the client sends a batch, the server a task
    recorder.open(1, client="127.0.0.1:50001", upstream="127.0.0.1:8786", opened="t1")
    recorder.write(1, "c2s", capture("handshake-lz4.c2s"))
    recorder.write(1, "c2s", capture("batch"))
    recorder.write(1, "s2c", capture("handshake-lz4.s2c"))
    for piece in (capture("compute-task")[:100], capture("compute-task")[100:]):
        recorder.write(1, "s2c", piece)
    # connection 2: the client proposes no compression, the server lz4 and protocol 4
    recorder.open(2, client="127.0.0.1:50002", upstream="127.0.0.1:8786", opened="t2")
    recorder.write(2, "c2s", _shake(None))
    recorder.write(2, "s2c", _shake("lz4", 4))
    # connection 3: the client's first message is not a handshake; the server sent nothing
    recorder.open(3, client="127.0.0.1:50003", upstream="127.0.0.1:8786", opened="t3")
    recorder.write(3, "c2s", capture("batch"))
    recorder.close_all()
    return folder


def test_every_connection_and_direction(capsys: Any, tmp_path: Path) -> None:
    folder = _record(tmp_path / "rec")
    code, out, err = inspect(capsys, folder)
    assert (code, err) == (1, "")  # connection 3 breaks DK-3
    heads = [line for line in out.splitlines() if line.startswith("== ")]
    assert heads == [
        "== connection 1 c2s (228 bytes)",  # 69 + 159
        "== connection 1 s2c (530 bytes)",  # 69 + 461
        "== connection 2 c2s (66 bytes)",  # nil instead of "lz4": 3 bytes fewer
        "== connection 2 s2c (69 bytes)",
        "== connection 3 c2s (159 bytes)",
        "== connection 3 s2c (0 bytes)",
    ]
    assert "client 127.0.0.1:50001 -> upstream 127.0.0.1:8786, opened t1" in out
    assert "connection 1: agreed (DK-5): compression lz4, pickle protocol 5" in out
    assert "connection 1: warning" not in out
    assert "connection 2: client comm handshake: compression none, pickle protocol 5" in out
    assert "connection 2: agreed (DK-5): compression none, pickle protocol 4" in out
    assert (
        "connection 2: warning: the two sides propose different compression (client none, "
        "upstream lz4), so nothing they compress themselves is compressed"
    ) in out
    assert (
        "connection 2: warning: the two sides read different pickle protocols (client 5, "
        "upstream 4)"
    ) in out
    assert "error invalid-handshake [DK-3]" in out
    assert "end of connection 3 s2c: 0 messages read, 0 bytes, a clean end" in out


def test_the_index_file_is_a_recording_too(capsys: Any, tmp_path: Path) -> None:
    folder = _record(tmp_path / "rec")
    code, out, _ = inspect(capsys, folder / "index.jsonl", "--handshake", "auto")
    assert code == 0  # with --handshake auto, connection 3 starts after its handshake
    assert "== connection 3 c2s" in out


def test_json_records_of_a_recording(capsys: Any, tmp_path: Path) -> None:
    folder = _record(tmp_path / "rec")
    code, out, _ = inspect(capsys, "--json", folder)
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds[:4] == ["stream", "message", "message", "end"]
    assert kinds.count("connection") == 2
    shake = next(r for r in records if r["kind"] == "message" and r["handshake"])
    assert shake["handshake"] == {"compression": "lz4", "pickle_protocol": 5, "python": [3, 11, 7]}
    assert (shake["connection"], shake["direction"]) == (1, "c2s")
    second = next(r for r in records if r["kind"] == "connection" and r["connection"] == 2)
    assert (second["compression"], second["pickle_protocol"]) == (None, 4)
    assert len(second["warnings"]) == 2
