"""`daskwire inspect` over the committed captures of real traffic: what each block says."""

from __future__ import annotations

from typing import Any

import pytest
from inspect_helpers import CAPTURES, capture, inspect

pytestmark = pytest.mark.timeout(60)

#: The whole output for the handshake capture, written by hand from the capture's bytes:
#: 69 bytes, hint 61, one frame of 45 bytes, {"compression": "lz4", "python": [3, 11, 7],
#: "pickle-protocol": 5}.
HANDSHAKE_TEXT = """\
== handshake-lz4.c2s.bin (69 bytes)
profile dask-2023.11, detected: its first message reads as dask-2023.11 and decodes (1 frame) \
(first u64: 61)

message 0 at byte 0: 69 bytes, 1 frame (45), comm handshake: compression lz4, pickle \
protocol 5, python 3.11.7
  map, 3 entries
    "compression": "lz4"
    "python": [3, 11, 7]
    "pickle-protocol": 5

end of handshake-lz4.c2s.bin: 1 message read, 69 bytes, a clean end

"""


def test_the_handshake_whole(capsys: Any) -> None:
    code, out, err = inspect(capsys, CAPTURES / "handshake-lz4.c2s.bin")
    assert (code, out, err) == (0, HANDSHAKE_TEXT, "")


@pytest.mark.parametrize(
    ("name", "args", "wanted"),
    [
        (
            "compute-task",
            (),
            [
                "message 0 at byte 0: 461 bytes, 2 frames (259, 170), batch of 1: compute-task",
                '      "op": "compute-task"',
                '      "priority": [0, 1, 1]',
                (
                    '      "run_spec": pickled: 126-byte pickle (protocol 5), first global '
                    "dask._task_spec.Task, no buffers"
                ),
                "  note: not a comm handshake",
            ],
        ),
        (
            "compute-task",
            ("--pickles",),
            [
                "globals dask._task_spec.Task, dask_corpus._inc, no buffers",
                "disassembly (36 opcodes read):",
                "11: SHORT_BINUNICODE 'dask._task_spec'",
                "36: STACK_GLOBAL",
                "125: STOP",
            ],
        ),
        (
            "compressed-array",
            (),
            [
                "message 0 at byte 0: 533 bytes, 3 frames (76, 214, 203), no op",
                '    "status": "OK"',
                (
                    '      "ndarray-0132c47c3d8ad920e78006f8835836a0": offloaded: serializer dask, '
                    "type numpy.ndarray, 1 frame of 203 bytes, lz4, shards [1]"
                ),
            ],
        ),
        (
            "two-arrays",
            (),
            [
                "message 0 at byte 0: 2568 bytes, 5 frames (44, 210, 1024, 210, 1024), op x",
                (
                    '    "a": offloaded: serializer dask, type numpy.ndarray, 1 frame of 1024 '
                    "bytes, not compressed, shards [1]"
                ),
            ],
        ),
        (
            "batch",
            (),
            [
                "batch of 3: task-finished, heartbeat-worker, add-keys",
                '      "key": ["inc-abc", 0]',
                '    [1]: {"map": [["op", "heartbeat-worker"], ["now", {"float64": "1.5"}]]}',
                '    [2]: {"map": [["op", "add-keys"], ["keys", {"set": [["a", 1], ["b", 2]]}]]}',
            ],
        ),
    ],
    ids=["compute-task", "compute-task-pickles", "compressed-array", "two-arrays", "batch"],
)
def test_capture_blocks(capsys: Any, name: str, args: tuple[str, ...], wanted: list[str]) -> None:
    code, out, err = inspect(capsys, *args, CAPTURES / f"{name}.bin")
    assert (code, err) == (0, "")
    for line in wanted:
        assert line in out, line


def test_a_stream_of_three_messages(capsys: Any, tmp_path: Any) -> None:
    path = tmp_path / "three.bin"
    path.write_bytes(capture("handshake-lz4.c2s") + capture("compute-task") + capture("batch"))
    code, out, _ = inspect(capsys, path)
    assert code == 0
    assert "message 0 at byte 0: 69 bytes" in out
    assert "message 1 at byte 69: 461 bytes" in out
    assert "message 2 at byte 530: 159 bytes" in out
    assert "note: not a comm handshake" not in out  # the first message is one
    assert out.endswith("end of three.bin: 3 messages read, 689 bytes, a clean end\n\n")


@pytest.mark.parametrize(
    ("handshake", "first"),
    [
        ("auto", "comm handshake: compression lz4"),
        ("none", "no op"),
        ("expect", "comm handshake: compression lz4"),
    ],
)
def test_handshake_modes_on_a_handshake(capsys: Any, handshake: str, first: str) -> None:
    code, out, _ = inspect(capsys, "--handshake", handshake, CAPTURES / "handshake-lz4.s2c.bin")
    assert code == 0
    assert first in out.splitlines()[3]


def test_expect_a_handshake_where_there_is_none(capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--handshake", "expect", CAPTURES / "batch.bin")
    assert code == 1
    assert "error invalid-handshake [DK-3]" in out


def test_profile_named(capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--profile", "dask-2023.11", CAPTURES / "batch.bin")
    assert code == 0
    assert "profile dask-2023.11, named with --profile: as asked" in out


def test_filter_by_op(capsys: Any) -> None:
    every = sorted(CAPTURES.glob("*.bin"))
    code, out, _ = inspect(capsys, "--filter", "op=compute-task", *every)
    assert code == 0
    assert out.count("\nmessage ") == 1
    assert "batch of 1: compute-task" in out
    assert "end of batch.bin: 1 message read, 0 shown, 159 bytes, a clean end" in out


@pytest.mark.parametrize("bad", ["compute-task", "type=x", "op="])
def test_a_bad_filter_is_a_usage_error(capsys: Any, bad: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        inspect(capsys, "--filter", bad, CAPTURES / "batch.bin")
    assert stopped.value.code == 2
    assert "a filter is op=NAME" in capsys.readouterr().err


def test_stats(capsys: Any) -> None:
    every = sorted(CAPTURES.glob("*.bin"))
    code, out, _ = inspect(capsys, "--stats", *every)
    assert code == 0
    assert "\nmessage " not in out
    # 69 + 69 + 461 + 159 + 2568 + 533 bytes; offloaded: 2 x 1024 (two-arrays) + 203 (lz4)
    # + the 126-byte pickle of compute-task's run_spec (a pickled value counts by its size)
    assert "statistics: 6 messages, 3859 bytes, 2 batches, 0 errors, 2377 bytes offloaded" in out
    table = out.split("offloaded bytes\n")[1].split("\n(a batch counts")[0]
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()}
    assert rows["x"] == ["1", "1", "2568", "2048"]
    assert rows["compute-task"] == ["1", "1", "461", "126"]
    assert rows["(handshake)"] == ["2", "2", "138", "0"]  # 69 + 69
    assert rows["-"] == ["1", "1", "533", "203"]  # the reply holding an array: no op
    assert "  lz4: 1 frame, 203 bytes" in out
    assert "  none: 2 frames, 2048 bytes" in out
    largest = out.split("largest messages:\n")[1].splitlines()
    assert largest[0].split() == [
        "2568",
        "bytes",
        "two-arrays.bin",
        "message",
        "0",
        "at",
        "byte",
        "0:",
        "x",
    ]
    assert len(largest) == 5


def test_help_lists_the_exit_codes(capsys: Any) -> None:
    with pytest.raises(SystemExit) as stopped:
        inspect(capsys, "--help")
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    for code in (
        "  0  every message",
        "  1  a message does not decode",
        "  3  a stream's",
        "  4  an input cannot be read",
    ):
        assert code in out


def test_a_placeholder_v1_stream(capsys: Any, tmp_path: Any) -> None:
    # Two placeholder-v1 messages written by hand: frame count 2, then the lengths 0 and n,
    # an empty small header, and the payload: {"op": "x"} (6 bytes), then {"a": 1} (4 bytes).
    prelude = "0200000000000000" + "0000000000000000"
    first = bytes.fromhex(prelude + "0600000000000000" + "81a26f70a178")
    second = bytes.fromhex(prelude + "0400000000000000" + "81a16101")
    path = tmp_path / "p1.bin"
    path.write_bytes(first + second)
    code, out, _ = inspect(capsys, path)
    assert code == 0
    assert "profile placeholder-v1, detected: its first message reads as placeholder-v1" in out
    assert "message 0 at byte 0: 30 bytes, 2 frames (0, 6), op x" in out
    assert "message 1 at byte 30: 28 bytes, 2 frames (0, 4), no op" in out
    assert '  {"map": [["a", 1]]}' in out
