"""Regressions from a new user's trial of `daskwire inspect`: what its output says, and where."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from daskwire.dask_2023_11 import encode, pack_bytes
from daskwire.model import Offloaded
from daskwire_conformance.inspect import context
from daskwire_conformance.inspect.stats import LISTED
from daskwire_conformance.traffic.recording import Recorder
from inspect_helpers import CAPTURES, capture, inspect

pytestmark = pytest.mark.timeout(60)

SHAKE = capture("handshake-lz4.c2s")  # 69 bytes: a handshake alone
#: A message of three frames: frame 0, the sub-header of its one offloaded value, and that
#: value's 3 MiB data frame (frame 2), as the trial's recording held.
BIG_FRAMES = [
    bytes(memoryview(f).cast("B"))
    for f in encode({"op": "x", "a": Offloaded({"serializer": "dask"}, [b"\0" * (3 << 20)])})
]
#: Its prelude: the no-split hint, the frame count, and one length a frame (8 bytes each).
BIG_PRELUDE = 8 + 8 + 8 * len(BIG_FRAMES)
BIG_SIZE = BIG_PRELUDE + sum(map(len, BIG_FRAMES))
#: Where a capture of the handshake, then that message, is cut: inside frame 2, past the
#: bytes a hex dump shows.
CUT_AT = 3_000_000


def _wire(frames: list[bytes]) -> bytes:
    """A dask-2023.11 message written by hand: hint, frame count, lengths, frames."""
    body = struct.pack(f"<{len(frames) + 1}Q", len(frames), *map(len, frames)) + b"".join(frames)
    return struct.pack("<Q", len(body)) + body


def _cut_capture(folder: Path) -> Path:
    path = folder / "conn-00002.s2c.bin"
    path.write_bytes((SHAKE + _wire(BIG_FRAMES))[:CUT_AT])
    return path


def _json(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# --- 1: a message cut short, longer than a hex dump ------------------------------------------


def test_the_wire_is_written_as_the_reference_writes_it() -> None:
    assert _wire(BIG_FRAMES) == pack_bytes(BIG_FRAMES)
    assert len(_wire(BIG_FRAMES)) == BIG_SIZE
    assert len(BIG_FRAMES[2]) == 3 << 20
    assert CUT_AT - len(SHAKE) > context.DUMP_BYTES  # more is there than a dump shows


def test_a_cut_message_says_how_much_of_it_is_there(capsys: Any, tmp_path: Path) -> None:
    path = _cut_capture(tmp_path)
    held = CUT_AT - len(SHAKE)  # the message starts after the handshake
    code, out, _ = inspect(capsys, path)
    assert code == 3
    assert (
        f"message 1 at byte {len(SHAKE)}: framing error truncated-input [WF-6] at byte {CUT_AT}: "
        f"the stream ends inside message 1: {held} of its {BIG_SIZE} bytes are there"
    ) in out
    assert "buffered" not in out
    assert (
        f"(the dump shows the first {context.DUMP_BYTES} of the message's {BIG_SIZE} bytes; "
        f"the input holds {held} of them)"
    ) in out
    assert "the input ends" not in out  # only the dump does, where it stops
    code, out, _ = inspect(capsys, "--json", path)
    (failure,) = (r for r in _json(out) if r["kind"] == "failure")
    assert failure["message"] == (
        f"the stream ends inside message 1: {held} of its {BIG_SIZE} bytes are there"
    )
    assert (failure["offset"], failure["message_offset"]) == (CUT_AT, len(SHAKE))


def test_the_dump_of_a_cut_message_says_where_the_dump_ends(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "ROWS_AFTER", 1000)  # every row of the dump
    monkeypatch.setattr(context, "ROWS_BEFORE", 1000)
    path = _cut_capture(tmp_path)
    _, out, _ = inspect(capsys, "--json", path)
    (failure,) = (r for r in _json(out) if r["kind"] == "failure")
    lines = [line[33:] for line in failure["dump"].splitlines()]
    before = BIG_PRELUDE + len(BIG_FRAMES[0]) + len(BIG_FRAMES[1])  # frame 2 starts here
    shown = context.DUMP_BYTES - before
    there = CUT_AT - len(SHAKE) - before  # 2,999,836 of frame 2's bytes are in the file
    note = f"frame 2: the dump shows its first {shown} of {3 << 20} bytes; the input holds {there}"
    assert note in lines
    # the note follows frame 2's rows, which follow frame 0's: it comes last
    assert lines.index("frame 0: the message, 25 bytes") < lines.index(note) == len(lines) - 1


def test_a_payload_error_past_the_dump_has_no_made_up_offset(capsys: Any, tmp_path: Path) -> None:
    # frame 0: a map whose 2 MB bin is followed by 0xc1, which starts no msgpack value; the
    # dump shows the first MiB, where the bin is cut by the dump, not by the input
    frame = b"\x82\xa2op\xa1x\xa1v\xc6" + (2_000_000).to_bytes(4, "big") + b"\1" * 2_000_000
    frame += b"\xc1"
    path = tmp_path / "big.bin"
    path.write_bytes(pack_bytes([frame]))
    code, out, _ = inspect(capsys, "--json", path)
    assert code == 1
    (message,) = (r for r in _json(out) if r["kind"] == "message")
    error = message["error"]
    assert (error["category"], error["requirement"], error["offset"]) == (
        "invalid-msgpack",
        "DM-1",
        None,  # the fault is past the dump: unknown, not the bin's first byte
    )
    assert "it marks no fault: the fault lies past them" in error["dump"]
    assert "(the dump ends inside this value)" in error["dump"]
    assert "! truncated" not in error["dump"]


def test_a_long_cut_dump_is_centred_where_it_ends(capsys: Any, tmp_path: Path) -> None:
    # frame 0 of many small keys and a 3 MB bin: more rows than a dump shows around its
    # centre, which is where its bytes end, not its first row
    value = {f"k{i}": i for i in range(60)} | {"op": "x", "v": b"\1" * 3_000_000}
    path = tmp_path / "cut.bin"
    path.write_bytes(pack_bytes([msgpack.packb(value)])[:2_500_000])
    _, out, _ = inspect(capsys, "--json", path)
    (failure,) = (r for r in _json(out) if r["kind"] == "failure")
    dump = failure["dump"]
    assert "rows before" in dump  # the rows shown are not the first ones
    assert "frame 0: the dump shows its first" in dump


def test_a_message_cut_inside_the_dump_notes_it_after_the_frame(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "ROWS_BEFORE", 1000)  # every row of the dump
    frames = [
        msgpack.packb({"op": "x", "a": {"__Serialized__": 1}}),
        msgpack.packb({"serializer": "dask", "num-sub-frames": 1}),
        b"\1" * 100,  # frame 2, of which 90 bytes are there
    ]
    message = _wire(frames)
    path = tmp_path / "c.bin"
    path.write_bytes(SHAKE + message[:-10])
    _, out, _ = inspect(capsys, "--json", path)
    (failure,) = (r for r in _json(out) if r["kind"] == "failure")
    held = len(message) - 10
    assert failure["message"] == (
        f"the stream ends inside message 1: {held} of its {len(message)} bytes are there"
    )
    notes = [line[33:] for line in failure["dump"].splitlines()]
    frame0 = f"frame 0: the message, {len(frames[0])} bytes"
    ends = "frame 2: the input ends after 90 of 100 bytes"
    # after frame 0, and after frame 2's rows, last: the dump is centred there
    assert notes.index(frame0) < notes.index(
        "frame 2: data frame 1 of 1 of $.a, 90 bytes, not compressed"
    )
    assert notes[-1] == ends


def test_a_cut_prelude_says_so(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.bin"
    path.write_bytes(SHAKE + _wire(BIG_FRAMES)[:14])  # the hint and 6 bytes of the count
    code, out, _ = inspect(capsys, path)
    assert code == 3
    assert "the stream ends inside message 1, in its prelude: 14 bytes of it are there" in out


# --- 2: statistics of what stopped ---------------------------------------------------------


def _garbage(folder: Path) -> Path:
    path = folder / "garbage.bin"
    path.write_bytes(b"hello world, this is no dask traffic\n" * 10)
    return path


#: (id, make the input, the line under the statistics' head that names the stop)
STOPS = [
    (
        "garbage",
        _garbage,
        "  garbage.bin: message 0 at byte 0: framing error limit-exceeded [WF-7] at byte 0",
    ),
    (
        "truncated",
        _cut_capture,
        (
            f"  conn-00002.s2c.bin: message 1 at byte {len(SHAKE)}: framing error "
            f"truncated-input [WF-6] at byte {CUT_AT}"
        ),
    ),
]


@pytest.mark.parametrize(("make", "named"), [s[1:] for s in STOPS], ids=[s[0] for s in STOPS])
def test_statistics_say_that_reading_stopped(
    capsys: Any, tmp_path: Path, make: Any, named: str
) -> None:
    path = make(tmp_path)
    code, out, _ = inspect(capsys, "--stats", path)
    assert code == 3
    lines = out[out.index("statistics: ") :].splitlines()
    assert lines[0].endswith(", 1 error, 0 bytes offloaded")  # the framing error counts
    assert lines[1].startswith("reading stopped at a framing error in 1 stream")
    assert lines[2] == named
    code, out, _ = inspect(capsys, "--json", "--stats", path)
    stats = _json(out)[-1]
    assert stats["kind"] == "stats"
    assert stats["errors"] == 1
    (stop,) = stats["stopped"]["first"]
    assert stats["stopped"]["count"] == 1
    assert f"{stop['stream']}: message {stop['index']} at byte {stop['message_offset']}" in named
    assert f"{stop['category']} [{stop['requirement']}] at byte {stop['offset']}" in named


def test_statistics_name_the_inputs_not_read(capsys: Any, tmp_path: Path) -> None:
    code, out, _ = inspect(capsys, "--stats", CAPTURES / "batch.bin", tmp_path / "nope.bin")
    assert code == 4
    lines = out[out.index("statistics: ") :].splitlines()
    assert lines[0].startswith("statistics: 1 message, 159 bytes, 1 batch, 0 errors")
    assert lines[1:3] == [
        "1 input not read: the counts leave it out",
        f"  {tmp_path}/nope.bin: not-found",
    ]


def test_statistics_list_the_first_stops_and_count_the_rest(capsys: Any, tmp_path: Path) -> None:
    paths = []
    for n in range(LISTED + 2):
        paths.append(tmp_path / f"g{n:02}.bin")
        paths[-1].write_bytes(b"\xff" * 16)
    _, out, _ = inspect(capsys, "--stats", *paths)
    stats = out[out.index("statistics: ") :]
    assert f"reading stopped at a framing error in {LISTED + 2} streams" in stats
    assert "  g19.bin: " in stats
    assert "  g20.bin: " not in stats
    assert "  ... and 2 more" in stats


def test_a_clean_run_has_no_stop_lines(capsys: Any) -> None:
    _, out, _ = inspect(capsys, "--stats", CAPTURES / "batch.bin")
    lines = out[out.index("statistics: ") :].splitlines()
    assert lines[1] == ""
    assert "stopped" not in out
    assert "not read" not in out


# --- 3: --input recording on a path that is no recording folder ------------------------------


def _recording(folder: Path) -> Path:
    recorder = Recorder(folder / "rec")
    recorder.open(1, client="127.0.0.1:1", upstream="127.0.0.1:2", opened="t0")
    recorder.write(1, "c2s", SHAKE)
    recorder.write(1, "s2c", capture("handshake-lz4.s2c"))
    recorder.close_all()
    return folder / "rec"


@pytest.mark.parametrize(
    "name", ["rec/conn-00001.c2s.bin", "garbage.bin"], ids=["a-file-of-a-recording", "a-file"]
)
def test_input_recording_refuses_a_file(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _recording(tmp_path)
    _garbage(tmp_path)
    assert (tmp_path / name).is_file()
    monkeypatch.chdir(tmp_path)
    code, out, err = inspect(capsys, "--input", "recording", name)
    assert code == 4
    said = (
        f"{name}: cannot read it: not-a-recording: not a recording folder (a recording is a "
        "folder with index.jsonl: name the folder, or its index.jsonl)"
    )
    assert out == f"== {said}\n\n"  # nothing of the folder it is in was read
    assert err == f"daskwire inspect: {said}\n"


@pytest.mark.parametrize("name", ["rec", "rec/index.jsonl"])
def test_input_recording_takes_the_folder_or_its_index(
    capsys: Any, tmp_path: Path, name: str
) -> None:
    _recording(tmp_path)
    code, out, _ = inspect(capsys, "--input", "recording", tmp_path / name)
    assert code == 0, out
    assert "== connection 1 c2s" in out


# --- 4: diagnostics about the inputs themselves go to standard error too --------------------


def _missing_stream(folder: Path) -> Path:
    rec = _recording(folder)
    (rec / "conn-00001.s2c.bin").unlink()
    return rec


def _empty(folder: Path) -> Path:
    path = folder / "e.bin"
    path.write_bytes(b"")
    return path


#: (id, make the input, its label, the rest of the diagnostic)
INPUT_ERRORS = [
    ("missing", lambda f: f / "nope.bin", "nope.bin", "not-found: no such file or folder"),
    ("empty", _empty, "e.bin", "empty: the file holds no bytes"),
    ("a-stream-of-a-recording", _missing_stream, "connection 1 s2c", "not-found: "),
]


@pytest.mark.parametrize(
    ("make", "label", "rest"), [c[1:] for c in INPUT_ERRORS], ids=[c[0] for c in INPUT_ERRORS]
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_input_errors_reach_standard_error_in_text_and_the_record_in_json(
    capsys: Any, tmp_path: Path, make: Any, label: str, rest: str, as_json: bool
) -> None:
    path = make(tmp_path)
    code, out, err = inspect(capsys, *(["--json"] if as_json else []), path)
    assert code == 4
    where = label if label.startswith("connection") else f"{tmp_path}/{label}"
    if as_json:  # the record says it; standard error stays free of copies
        assert err == ""
        (record,) = (r for r in _json(out) if r["kind"] == "input-error")
        assert record["stream"] == where
        assert record["category"] == rest.split(":", maxsplit=1)[0]
    else:
        (line,) = err.splitlines()
        assert line.startswith(f"daskwire inspect: {where}: cannot read it: {rest}")
        assert f"== {line.removeprefix('daskwire inspect: ')}\n" in out  # and in its place


def test_an_empty_file_is_said_once(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    _, out, _ = inspect(capsys, path)
    assert out == f"== {path}: cannot read it: empty: the file holds no bytes\n\n"


# --- 5: a frames file that is not text ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "hint"),
    [
        # the bytes of a capture: they read as a message on the wire
        (
            SHAKE + capture("batch"),
            "c.json",
            (
                "; it looks like the raw wire bytes of a capture (dask-2023.11): read it with "
                "--input bytes"
            ),
        ),
        (SHAKE, "c.bin", ": read it with --input bytes, or without --input"),
        # bytes that are neither text nor a message
        (bytes(range(256)), "r.bin", ""),
    ],
    ids=["a-capture-named-json", "a-capture", "noise"],
)
def test_a_frames_file_that_is_not_text(
    capsys: Any, tmp_path: Path, data: bytes, name: str, hint: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    code, out, _ = inspect(capsys, "--input", "frames", path)
    assert code == 4
    said = (
        f"== {path}: cannot read it: bad-frames-file: not UTF-8 text, so not a frames file "
        "(JSON text: a list of frames as hex strings)"
    )
    assert out.startswith(said)
    assert out.rstrip("\n").endswith(hint)
    assert ("looks like" in out) == bool(hint)
    assert "codec" not in out


# --- 6: the comm handshake is called one thing; a filter that matches nothing says so -------

FILTER_INPUTS = ["handshake-lz4.c2s", "compressed-array", "batch"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("(handshake)", ["handshake-lz4.c2s.bin message 0"]),
        ("-", ["compressed-array.bin message 0"]),  # no op; the handshake is not one of them
        ("add-keys", ["batch.bin message 0"]),
    ],
)
def test_filter_takes_the_names_the_output_shows(capsys: Any, name: str, shown: list[str]) -> None:
    inputs = [CAPTURES / f"{n}.bin" for n in FILTER_INPUTS]
    code, out, err = inspect(capsys, "--json", "--filter", f"op={name}", *inputs)
    assert (code, err) == (0, "")
    messages = [r for r in _json(out) if r["kind"] == "message"]
    assert [f"{r['stream']} message {r['index']}" for r in messages] == shown


def test_filter_op_handshake_selects_no_op_of_that_name(capsys: Any, tmp_path: Path) -> None:
    frames = tmp_path / "f.json"  # a message whose op is the label's text
    frames.write_text(json.dumps([msgpack.packb({"op": "(handshake)"}).hex()]))
    handshake = CAPTURES / "handshake-lz4.c2s.bin"
    _, out, _ = inspect(capsys, "--json", "--filter", "op=(handshake)", handshake, frames)
    shown = [f"{r['stream']} {r['index']}" for r in _json(out) if r["kind"] == "message"]
    assert shown == ["handshake-lz4.c2s.bin 0"]
    _, out, _ = inspect(capsys, "--json", "--filter", 'op="(handshake)"', handshake, frames)
    shown = [f"{r['stream']} {r['index']}" for r in _json(out) if r["kind"] == "message"]
    assert shown == ["f.json 0"]  # by the quoted form the output shows


def test_a_filter_that_matches_nothing_says_so(capsys: Any) -> None:
    inputs = [CAPTURES / f"{n}.bin" for n in FILTER_INPUTS]
    code, out, err = inspect(capsys, "--filter", "op=nosuchop", "--filter", "op=add-keys", *inputs)
    assert code == 0  # as documented: a filter does not change the exit code
    assert err == (
        "daskwire inspect: --filter op=nosuchop matched no message; the ops read are: "
        "(handshake), -, task-finished, heartbeat-worker, add-keys\n"
    )
    assert "message 0 at byte 0: 159 bytes" in out  # the other filter matched


def test_stats_call_the_handshake_as_filter_does(capsys: Any, tmp_path: Path) -> None:
    # a frames file of a message whose op is the label's text: it is shown quoted, apart
    frames = tmp_path / "f.json"
    frames.write_text(json.dumps([msgpack.packb({"op": "(handshake)"}).hex()]))
    _, out, _ = inspect(capsys, "--stats", CAPTURES / "handshake-lz4.c2s.bin", frames)
    assert "  handshake-lz4.c2s.bin message 0 at byte 0: (handshake)" in out
    assert '  f.json message 0: "(handshake)"' in out
    table = out.split("offloaded bytes\n")[1].splitlines()[:2]
    assert [row.split()[0] for row in table] == ["(handshake)", '"(handshake)"']


# --- 7: the page says what the output does --------------------------------------------------


def test_the_page_describes_ops_as_shown(capsys: Any, tmp_path: Path) -> None:
    page = " ".join((CAPTURES.parents[1] / "tools" / "inspect.md").read_text().split())
    assert "`-` marks a message" not in page
    assert "for any other message, `no op`" in page
    assert "`--filter` call the comm handshake `(handshake)`" in page
    assert "A top-level array is shown as a batch only when some element is a map" in page
    # and the output does so: a list of keys (msgpack ["k1", "k2"]) is a bare reply
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([msgpack.packb(["k1", "k2"]).hex()]))
    _, out, _ = inspect(capsys, path)
    assert "message 0: 1 frame (7), no op\n" in out
