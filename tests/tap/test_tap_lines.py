"""The tap's lines and command line: what comes from the traffic never reaches a terminal raw,
and bad options or an address in use give their exit codes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire_conformance.cli import main
from daskwire_conformance.tap.command import EXIT_CANNOT_LISTEN, _host_port, run
from daskwire_conformance.tap.decoder import Seen
from daskwire_conformance.tap.lines import MAX_OP_CHARS, message_line
from daskwire_conformance.tap.log import replay_lines
from daskwire_conformance.tap.proxy import TapConfig
from daskwire_conformance.traffic.recording import TIMELINE_NAME, Recorder, RecordingError

pytestmark = pytest.mark.timeout(30)


def _seen(ops: tuple[str, ...], *, batch: bool = False, error: str | None = None) -> Seen:
    return Seen(
        index=4,
        offset=100,
        size=1234,
        frames=1,
        ops=ops,
        batch=batch,
        offloaded=(),
        handshake=None,
        category="invalid-marker" if error else None,
        requirement="DM-9" if error else None,
        error=error,
    )


def test_ops_and_errors_from_the_traffic_are_escaped() -> None:
    hostile = "\x1b[31mred\u202eevil\nnext"
    lines = message_line("12:00:00.000000", 1, "c2s", _seen((hostile,), error=f"bad {hostile}"))
    assert len(lines) == 2
    assert all(line.isprintable() for line in lines)
    # the op is no plain identifier: quoted, as a JSON string
    assert ' #4 "\\u001b[31mred\\u202eevil\\nnext" 1,234 B' in lines[0]
    assert "bad \\u001b[31mred\\u202eevil\\u000anext" in lines[1]


def test_a_batch_names_its_ops_with_counts_and_cuts_long_ones() -> None:
    long = "x" * (MAX_OP_CHARS + 10)
    ops = ("task-finished", "task-finished", "heartbeat", long, "a", "b", "c")
    [line] = message_line("t", 2, "s2c", _seen(ops, batch=True))
    assert (
        f"conn 2 s2c #4 batch[7] task-finished*2,heartbeat,{'x' * MAX_OP_CHARS}...,a,+2 more "
        "1,234 B, 1 frame"
    ) in line


@pytest.mark.parametrize(
    "args",
    [
        ["tap"],
        ["tap", "--upstream", "nohost"],
        ["tap", "--upstream", "127.0.0.1:99999"],
        ["tap", "--upstream", "127.0.0.1:1", "--max-backlog", "0"],
        ["tap", "--upstream", "127.0.0.1:1", "--max-backlog", "lots"],
        ["tap", "--upstream", "tls://127.0.0.1:8786"],
        ["tap", "--upstream", "ucx://127.0.0.1:8786"],
    ],
)
def test_a_bad_command_line_exits_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:8786", ("127.0.0.1", 8786)),
        ("tcp://127.0.0.1:8786", ("127.0.0.1", 8786)),  # as Dask prints it
        ("TCP://[::1]:8786", ("::1", 8786)),
        ("[::1]:0", ("::1", 0)),
    ],
)
def test_an_address_is_read_as_dask_prints_it(text: str, address: tuple[str, int]) -> None:
    assert _host_port(text) == address


def test_an_address_in_use_exits_1_and_says_so_in_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = TapConfig(listen_port=port, upstream_host="127.0.0.1", upstream_port=1)
        assert run(config) == EXIT_CANNOT_LISTEN
    err = capsys.readouterr().err
    assert err == f"daskwire tap: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_a_recording_folder_that_cannot_be_made_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    record = tmp_path / "file" / "rec"  # its parent is a file
    config = TapConfig(upstream_host="127.0.0.1", upstream_port=1, record=record)
    assert run(config) == EXIT_CANNOT_LISTEN
    err = capsys.readouterr().err
    assert err == f"daskwire tap: cannot create the recording folder {record}: Not a directory\n"


@pytest.mark.parametrize("name", ["index.jsonl", "conn-00001.c2s.bin"])
def test_a_folder_that_is_not_empty_is_refused_at_startup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / name).write_text("")
    config = TapConfig(upstream_host="127.0.0.1", upstream_port=1, record=tmp_path)
    assert run(config) == EXIT_CANNOT_LISTEN
    assert "already exists and is not empty: name a new folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # untouched


def _recording(folder: Path, data: bytes) -> None:
    recorder = Recorder(folder)
    recorder.open(1, client="127.0.0.1:1", upstream="127.0.0.1:2", opened="2026", when=1.0)
    recorder.write(1, "c2s", data, 2.0)
    recorder.close(1, 3.0)
    recorder.close_all()


def test_a_replay_gives_the_lines_of_a_recording(tmp_path: Path) -> None:
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    )
    _recording(tmp_path, handshake)
    lines = replay_lines(tmp_path)
    assert lines[0] == "00:00:01.000000 conn 1 open: client 127.0.0.1:1 -> upstream 127.0.0.1:2"
    assert any(" conn 1 c2s #0 handshake 66 B, 1 frame" in line for line in lines)
    assert lines[-1].startswith("00:00:03.000000 conn 1 closed: c2s 1 messages (66 B)")


@pytest.mark.parametrize(
    "timeline",
    [
        '{"t":1,"c":1,"e":"open"}\n{"t":2,"c":1,"e":"data","d":"c2s","n":1000000000000}\n',
        '{"t":1,"c":1,"e":"open"}\n{"t":2,"c":1,"e":"data","d":"sideways","n":1}\n',
        '{"t":1,"c":9,"e":"open"}\n',
        "[1, 2]\n",
        "not json\n",
    ],
    ids=["longer-than-file", "bad-direction", "unknown-connection", "not-an-object", "not-json"],
)
def test_a_damaged_recording_is_a_recording_error(tmp_path: Path, timeline: str) -> None:
    _recording(tmp_path, b"\x00" * 10)
    (tmp_path / TIMELINE_NAME).write_text(timeline)
    with pytest.raises(RecordingError):
        replay_lines(tmp_path)
