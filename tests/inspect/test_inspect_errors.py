"""Broken inputs of every kind: a categorized error and the documented exit code, no traceback."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest
from daskwire.dask_2023_11 import pack_bytes
from daskwire_conformance.inspect import sources
from daskwire_conformance.inspect.context import DUMP_FRAMES
from daskwire_conformance.traffic.recording import Recorder
from inspect_helpers import bad_msgpack, capture, inspect

pytestmark = pytest.mark.timeout(60)

#: The sub-header of BAD_SUB_HEADER: {"num-sub-frames": 0, "compression": [],
#: "split-num-sub-frames": ["x"]}, msgpack written by hand; frame 0 is {"x": {"__Serialized__": 1}}.
BAD_SUB_HEADER = pack_bytes(
    [
        bytes.fromhex("81a17881ae5f5f53657269616c697a65645f5f01"),
        bytes.fromhex(
            "83ae6e756d2d7375622d6672616d657300ab636f6d7072657373696f6e90"
            "b473706c69742d6e756d2d7375622d6672616d657391a178"
        ),
    ]
)
SHAKE = capture("handshake-lz4.c2s")
BATCH = capture("batch")


def _write(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
        return path

    return make


def _folder_without_index(folder: Path) -> Path:
    (folder / "rec").mkdir()
    (folder / "rec" / "conn-00001.c2s.bin").write_bytes(SHAKE)
    return folder / "rec"


def _index_naming_a_missing_file(folder: Path) -> Path:
    recorder = Recorder(folder / "rec")
    recorder.open(1, client="127.0.0.1:1", upstream="127.0.0.1:2", opened="t0")
    recorder.write(1, "c2s", SHAKE)
    recorder.close_all()
    (folder / "rec" / "conn-00001.s2c.bin").unlink()
    return folder / "rec"


#: (id, make input, exit code, text the output must hold)
CASES: list[tuple[str, Callable[[Path], Path], int, str]] = [
    (
        "truncated",
        _write("t.bin", SHAKE + capture("compute-task")[:-1]),
        3,
        "framing error truncated-input [WF-6] at byte 529",
    ),
    (
        "bad-hint",
        _write("h.bin", SHAKE + struct.pack("<4Q", 17, 2, 2, 1) + b"\x80" * 3),
        3,
        "message 1 at byte 69: framing error invalid-read-hint [DT-4] at byte 69",
    ),
    (
        "bad-msgpack-in-frame-0",
        _write("m.bin", SHAKE + bad_msgpack() + BATCH),
        1,
        "error invalid-msgpack [DM-1] at byte 97",  # 69 + 24 prelude + 4 bytes into frame 0
    ),
    (
        "bad-sub-header",
        _write("s.bin", SHAKE + BAD_SUB_HEADER + BATCH),
        1,
        "error invalid-header [DS-4]",
    ),
    (
        "huge-declared-length",
        _write("l.bin", struct.pack("<3Q", 16 + 2**40, 1, 2**40) + b"x" * 64),
        3,
        "framing error limit-exceeded",
    ),
    (
        "garbage",
        _write("g.bin", b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"),
        3,
        "detected (not sure): the first message reads as no profile",
    ),
    ("empty", _write("e.bin", b""), 4, "cannot read it: empty: "),
    ("missing", lambda folder: folder / "nothing.bin", 4, "cannot read it: not-found: "),
    ("json-malformed", _write("f.json", '["00", '), 4, "cannot read it: bad-frames-file: "),
    ("json-not-hex", _write("f.json", '["zz"]'), 4, "a frame is not hex"),
    ("json-not-a-list", _write("f.json", '{"frames": []}'), 4, "holds a list of hex frames"),
    ("json-deep", _write("f.json", "[" * 100_000 + "]" * 100_000), 4, "bad-frames-file"),
    ("no-index", _folder_without_index, 4, "cannot read it: not-a-recording: "),
    ("index-names-missing-file", _index_naming_a_missing_file, 4, "the index names it"),
    ("bad-index", _write("index.jsonl", "{not json\n"), 4, "not-a-recording: "),
]


@pytest.mark.parametrize(
    ("make", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_input(
    capsys: Any, tmp_path: Path, make: Callable[[Path], Path], code: int, text: str
) -> None:
    got, out, err = inspect(capsys, make(tmp_path))
    assert got == code, out
    assert text in out
    assert "Traceback" not in out + err


def test_a_payload_error_skips_to_the_next_message(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(SHAKE + bad_msgpack() + BATCH)
    code, out, _ = inspect(capsys, path)
    assert code == 1
    assert "  the next message is read: this one's framing held" in out
    # the hex dump of the broken message, its fault marked (offsets from its start, byte 69)
    assert "  hex dump (offsets in hex from byte 69, where the message starts):" in out
    assert "  00001c  c1" in out
    assert "! byte c1 is never used in msgpack" in out
    assert "message 2 at byte 98: 159 bytes, 1 frame (135), batch of 3" in out
    assert out.endswith(
        "end of m.bin: 3 messages read, 1 with an error, 257 bytes, a clean end\n\n"
    )


def test_a_framing_error_stops_and_says_why(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "h.bin"
    path.write_bytes(SHAKE + struct.pack("<4Q", 17, 2, 2, 1) + b"\x80" * 3 + BATCH)
    code, out, _ = inspect(capsys, path)
    assert code == 3
    assert "reading stops: a message's length is known only from its own prelude" in out
    assert "batch of 3" not in out  # nothing after the break is guessed at
    assert "end of h.bin: 1 message read; stopped at byte 69 of 263" in out


def test_the_highest_exit_code_wins(capsys: Any, tmp_path: Path) -> None:
    payload = tmp_path / "p.bin"
    payload.write_bytes(SHAKE + bad_msgpack())
    code, out, _ = inspect(capsys, payload, tmp_path / "missing.bin")
    assert code == 4
    assert "== p.bin" in out  # the other input was still read


def test_a_frames_file_over_the_size_limit(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_JSON_BYTES", 64)
    path = tmp_path / "big.json"
    path.write_text('["' + "00" * 100 + '"]')
    code, out, _ = inspect(capsys, path)
    assert code == 4
    assert "a JSON frames file is read up to 64 bytes; this is longer" in out


@pytest.mark.parametrize(
    ("document", "code", "text"),
    [
        # one message: {"op": 1} as one frame, read as dask-2023.11 only
        ('["81a26f7001"]', 0, "message 0: 1 frame (5), no op"),
        # two messages, the second not msgpack
        ('[["81a26f7001"], ["c1"]]', 1, "error invalid-msgpack"),
    ],
)
def test_frames_files(capsys: Any, tmp_path: Path, document: str, code: int, text: str) -> None:
    path = tmp_path / "frames.json"
    path.write_text(document)
    got, out, _ = inspect(capsys, path)
    assert got == code, out
    assert text in out


def test_a_fifo_is_refused(capsys: Any, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, out, _ = inspect(capsys, fifo)
    assert code == 4
    assert "not a regular file" in out


def test_the_dump_of_a_long_broken_message_says_it_is_cut(capsys: Any, tmp_path: Path) -> None:
    from daskwire_conformance.inspect import context

    # frame 0 is {"op": <c1>}, then 2 MiB of a second frame: longer than the dump reads
    broken = pack_bytes([b"\x81\xa2op\xc1", b"\0" * (2 << 20)])
    path = tmp_path / "long.bin"
    path.write_bytes(SHAKE + broken)
    code, out, _ = inspect(capsys, path)
    assert code == 1
    assert (
        f"(the dump shows the first {context.DUMP_BYTES} of the message's {len(broken)} bytes)"
        in out
    )


@pytest.mark.parametrize("count", [4096, 4097])
def test_the_fault_of_a_message_of_many_frames_is_never_at_its_start(
    capsys: Any, tmp_path: Path, count: int
) -> None:
    # frame 0 is a msgpack map followed by one byte too many; every other frame is empty
    frame0 = msgpack.packb({"op": "hi"}) + b"\xc0"
    data = pack_bytes([frame0] + [b""] * (count - 1))
    path = tmp_path / "many.bin"
    path.write_bytes(data)
    _, out, _ = inspect(capsys, "--json", path)
    [message] = [r for r in map(json.loads, out.splitlines()) if r["kind"] == "message"]
    error = message["error"]
    assert error["category"] == "invalid-msgpack"
    if count <= DUMP_FRAMES:  # the dump finds the byte: frame 0's last
        assert error["offset"] == len(data) - 1
    else:  # no dump: unknown, not the message's start
        assert error["offset"] is None
        assert "offset is unknown" in error["dump"]
        _, out, _ = inspect(capsys, path)
        assert "error invalid-msgpack [DM-1] (offset unknown): " in out
        assert "at byte 0:" not in out.split("message 0 at byte 0:")[1]
