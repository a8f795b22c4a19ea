"""The tap's parts, without sockets: output that never blocks the event loop, backlogs that
count every byte held, bookkeeping freed, recording folders checked, lines without Python
reprs, and no profile-specific code in shared modules."""

from __future__ import annotations

import io
import os
import queue
import random
import resource
import stat
import threading
import time
from pathlib import Path

import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire_conformance.tap import elide, report
from daskwire_conformance.tap import worker as worker_module
from daskwire_conformance.tap.decoder import DirectionDecoder, Seen
from daskwire_conformance.tap.lines import message_line, proposal, stamp, warning_lines
from daskwire_conformance.tap.log import replay_lines
from daskwire_conformance.tap.printer import Printer
from daskwire_conformance.tap.profiles import kept_frames_of
from daskwire_conformance.tap.proxy import host_port
from daskwire_conformance.tap.session import Event, Session
from daskwire_conformance.tap.worker import DecodeWorker
from daskwire_conformance.traffic.recording import (
    INDEX_NAME,
    Recorder,
    RecordingError,
    prepare_folder,
    read_index,
)
from daskwire_conformance.traffic.summary import HandshakeSummary, OffloadedSummary

pytestmark = pytest.mark.timeout(30)


class _Blocked(io.StringIO):
    """An output that blocks every write until `release` is set (a pipe nobody reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait()
        return super().write(text)


def test_say_never_waits_for_a_blocked_output_and_counts_what_it_drops() -> None:
    out = _Blocked()
    printer = Printer(out, max_queued=10)
    start = time.monotonic()
    for i in range(1000):
        printer.say(f"line {i}")
    assert time.monotonic() - start < 1.0  # the event loop's thread never waits
    assert printer.dropped >= 1000 - 12
    out.release.set()
    assert printer.close(5.0)
    text = out.getvalue()
    assert "lines dropped: the output was not read in time" in text
    assert "line 0\n" in text


class _Writes(io.StringIO):
    """An output that keeps each write apart; a write says it began (`writing`), then waits
    for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.release = threading.Event()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writing.set()
        self.release.wait()
        self.writes.append(text)
        return len(text)


def test_the_lines_waiting_go_out_in_one_write_in_order() -> None:
    out = _Writes()
    printer = Printer(out, max_queued=100)
    printer.say("first")
    assert out.writing.wait(5.0)  # the printer thread took "first" and waits in its write
    for i in range(5):
        printer.emit(f"line {i}")
    out.release.set()
    assert printer.close(5.0)
    assert out.writes == ["first\n", "line 0\nline 1\nline 2\nline 3\nline 4\n"]


class _CountedWaits(queue.SimpleQueue[Event | None]):
    """The decoding thread's queue, counting the times it waits for an event (its turns)."""

    waits = 0

    def get(self, block: bool = True, timeout: float | None = None) -> Event | None:
        if block:
            self.waits += 1
        return super().get(block, timeout)


def test_chunks_that_come_close_together_are_decoded_in_one_turn_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "GATHER_SECONDS", 0.2)  # room for a loaded machine
    order: list[float] = []
    worker = DecodeWorker(lambda line: None)
    worker._queue = counted = _CountedWaits()
    handle = worker.session.handle
    worker.session.handle = lambda e: order.append(e.when) or handle(e)  # type: ignore[assignment,func-returns-value]
    worker.start()
    worker.put(Event(1, "open", 0.5, client="c", upstream="u"))
    for i in range(50):  # one every few microseconds, each letting the thread run
        worker.put(Event(1, "data", 1.0 + i, "c2s", b"\0"))
        time.sleep(0)
    assert worker.stop(5.0)
    assert order == [0.5] + [1.0 + i for i in range(50)]
    assert counted.waits <= 3  # a wait per turn, not per chunk (some 30 without the gather)


def test_emit_waits_for_room_until_the_tap_is_closing() -> None:
    out = _Blocked()
    printer = Printer(out, max_queued=2)
    waiter = threading.Thread(target=lambda: [printer.emit(f"d{i}") for i in range(10)])
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # decoding stalls behind the output...
    printer.closing(0.2)
    waiter.join(5.0)
    assert not waiter.is_alive()  # ...until the tap stops: then lines are dropped, counted
    assert not printer.close(0.2)  # the output never took them
    out.release.set()


def test_a_backlog_notice_from_the_forwarding_side_never_waits() -> None:
    said: list[str] = []
    gate = threading.Event()
    worker = DecodeWorker(lambda line: gate.wait(), say=said.append, max_backlog=100)
    worker.start()
    worker.put(Event(1, "open", 1.0, client="c", upstream="u"))  # its line blocks the thread
    start = time.monotonic()
    for _ in range(5):
        worker.put(Event(1, "data", 1.0, "c2s", b"\0" * 60))
    assert time.monotonic() - start < 1.0
    assert any("conn 1 decoding stops: it is" in line for line in said)
    gate.set()
    assert worker.stop(5.0)


def test_the_total_backlog_bounds_decoding_over_all_connections() -> None:
    said: list[str] = []
    worker = DecodeWorker(said.append, max_backlog=1000, max_total_backlog=1500)  # not started
    for n in (1, 2):
        worker.put(Event(n, "open", 1.0, client="c", upstream="u"))
    worker.put(Event(1, "data", 1.0, "c2s", b"\0" * 900))
    worker.put(Event(2, "data", 1.0, "c2s", b"\0" * 900))
    notice = (
        "00:00:01.000000 conn 2 decoding stops: the tap's decoding is 1,800 B behind over all "
        "connections, more than --max-total-backlog 1,500 B; forwarding goes on unchanged"
    )
    assert said == [notice]
    assert worker.stopped_decoding == 1


def test_the_copy_of_frame_0_counts_in_what_decoding_holds() -> None:
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    )
    size = 2 << 20
    prelude = (16).to_bytes(8, "little") + (1).to_bytes(8, "little") + size.to_bytes(8, "little")
    decoder = DirectionDecoder()
    decoder.feed(handshake + prelude + b"\xc6" + (size - 5).to_bytes(4, "big"))
    decoder.feed(b"\0" * (1 << 20))
    assert decoder.held >= 2 << 20  # the decoder's bytes, and the copy read for markers


def test_a_connection_whose_decoding_stopped_still_closes_and_is_forgotten() -> None:
    lines: list[str] = []
    worker = DecodeWorker(lines.append, max_backlog=100)
    worker.start()
    worker.put(Event(7, "open", 1.0, client="c", upstream="u"))
    worker.put(Event(7, "data", 2.0, "c2s", b"\0" * 60))
    worker.put(Event(7, "data", 3.0, "c2s", b"\0" * 60))  # beyond the backlog
    worker.put(Event(7, "data", 3.5, "s2c", b"\0" * 10))
    worker.put(Event(7, "end", 3.7, "s2c"))
    worker.put(Event(7, "close", 4.0))
    assert worker.stop(5.0)
    assert lines[-1] == (
        "00:00:04.000000 conn 7 closed: c2s 0 messages (120 B), s2c 0 messages (10 B) "
        "(decoding had stopped: messages up to then)"
    )
    assert not worker.session._connections
    assert not worker._dropped
    assert not worker._pending
    assert not worker._held
    assert worker._total == 0


def test_a_session_ignores_events_of_a_dropped_connection_but_its_close() -> None:
    session = Session()
    session.handle(Event(1, "open", 1.0, client="c", upstream="u"))
    session.handle(Event(1, "drop", 1.0))
    assert session.handle(Event(1, "data", 1.0, "c2s", b"\xff" * 50)) == []
    assert session.handle(Event(1, "end", 1.0, "c2s")) == []
    assert session.held(1) == 0
    [line] = session.handle(Event(1, "close", 2.0))
    assert "conn 1 closed: c2s 0 messages (50 B)" in line


def test_a_recording_folder_must_be_new_or_empty_and_becomes_private(tmp_path: Path) -> None:
    new = tmp_path / "a" / "new"
    prepare_folder(new)
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    prepare_folder(empty)
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "conn-00001.c2s.bin").write_bytes(b"")
    with pytest.raises(FileExistsError, match="not empty"):
        prepare_folder(stray)
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError, match="not a folder"):
        prepare_folder(tmp_path / "file")
    (tmp_path / "link").symlink_to(empty)
    with pytest.raises(FileExistsError, match="not a folder"):
        prepare_folder(tmp_path / "link")


def test_a_connection_whose_files_cannot_be_made_is_not_recorded_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    recorder = Recorder(tmp_path)
    (tmp_path / "conn-00001.s2c.bin").write_bytes(b"stray")
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(FileExistsError):
        recorder.open(1, client="c", upstream="u", opened="o")
    assert len(os.listdir("/proc/self/fd")) == before
    assert not (tmp_path / "conn-00001.c2s.bin").exists()  # the half made is removed
    assert (tmp_path / INDEX_NAME).read_text() == ""
    recorder.open(2, client="c", upstream="u", opened="o")
    recorder.close_all()


def _recording(folder: Path, data: bytes) -> None:
    recorder = Recorder(folder)
    recorder.open(1, client="127.0.0.1:1", upstream="127.0.0.1:2", opened="2026", when=1.0)
    recorder.write(1, "c2s", data, 2.0)
    recorder.close(1, 3.0)
    recorder.close_all()


def test_a_recording_index_names_only_plain_files_and_never_a_symlink(tmp_path: Path) -> None:
    _recording(tmp_path, b"\0" * 10)
    index = tmp_path / INDEX_NAME
    text = index.read_text()
    [conn] = read_index(tmp_path)
    with pytest.raises(TypeError):
        conn.files["c2s"] = "other"  # type: ignore[index]
    index.write_text(text.replace("conn-00001.c2s.bin", "."))
    with pytest.raises(RecordingError, match="files must name"):
        read_index(tmp_path)
    (tmp_path / "link").symlink_to("/etc/passwd")
    index.write_text(text.replace("conn-00001.c2s.bin", "link"))
    with pytest.raises(RecordingError, match="symbolic link"):
        replay_lines(tmp_path)


def test_times_are_rounded_to_the_microsecond_as_the_timeline_keeps_them() -> None:
    assert stamp(0.9999996) == "00:00:01.000000"
    assert stamp(59.0000004) == "00:00:59.000000"
    rng = random.Random(19)
    for _ in range(10_000):
        when = rng.uniform(1.7e9, 1.8e9)
        assert stamp(when) == stamp(round(when, 6))


def _seen(ops: tuple[str, ...], offloaded: tuple[OffloadedSummary, ...] = ()) -> Seen:
    return Seen(
        index=1,
        offset=0,
        size=500,
        frames=2,
        ops=ops,
        batch=False,
        offloaded=offloaded,
        handshake=None,
        category=None,
        requirement=None,
        error=None,
    )


def test_a_pickled_value_counts_its_pickle_among_offloaded_bytes() -> None:
    pickled = OffloadedSummary(
        path="$.run_spec",
        kind="pickled",
        serializer=None,
        type_name=None,
        frame_sizes=(),
        compression=(),
        shards=None,
        pickle=b"p" * 126,
    )
    serialized = OffloadedSummary(
        path="$.x",
        kind="serialized",
        serializer="dask",
        type_name=None,
        frame_sizes=(10, 20),
        compression=(None, None),
        shards=None,
    )
    [line] = message_line("t", 1, "c2s", _seen(("compute-task",), (pickled, serialized)))
    assert "2 offloaded values (156 B)" in line


@pytest.mark.parametrize(
    ("op", "shown"),
    [
        ("heartbeat-worker", " #1 heartbeat-worker 500 B"),
        ("-", " #1 - 500 B"),
        ("x 1,000 B, 9 frames", ' #1 "x 1,000 B, 9 frames" 500 B'),
        ("a\x1bb", ' #1 "a\\u001bb" 500 B'),
        ("", ' #1 "" 500 B'),
    ],
)
def test_an_op_that_is_no_plain_name_is_quoted_so_it_cannot_spoof_fields(
    op: str, shown: str
) -> None:
    [line] = message_line("t", 1, "c2s", _seen((op,)))
    assert shown in line


def _hs(python: object) -> HandshakeSummary:
    return HandshakeSummary(compression=None, pickle_protocol=5, python=python)


def test_python_versions_are_compared_by_major_minor_and_shown_without_reprs() -> None:
    assert not warning_lines("t", 1, _hs([3, 11, 7]), _hs([3, 11, 8]))
    [warning] = warning_lines("t", 1, _hs([3, 11, 7]), _hs([3, 12, 0]))
    assert "client 3.11.7, upstream 3.12.0" in warning
    assert proposal(_hs(("3", 11))).endswith('python ["3", 11]')
    assert proposal(_hs(None)).endswith("python not given")


def test_ipv6_addresses_are_bracketed() -> None:
    assert host_port("::1", 8786) == "[::1]:8786"
    assert host_port("127.0.0.1", 8786) == "127.0.0.1:8786"


def test_shared_tap_code_names_no_profile() -> None:
    for module in (elide, report):
        source = Path(str(module.__file__)).read_text()
        assert "dask_2023_11" not in source
        assert 'dask-2023.11"' not in source
        assert 'placeholder-v1"' not in source
    assert kept_frames_of("no-such-profile")(b"") is None  # every frame read whole


def test_an_index_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / INDEX_NAME)
    with pytest.raises(RecordingError, match="not a regular file"):
        read_index(tmp_path)


def test_a_replay_without_timeline_keeps_no_file_open_past_its_connection(
    tmp_path: Path,
) -> None:
    recorder = Recorder(tmp_path)
    for n in range(1, 301):
        recorder.open(n, client="c", upstream="u", opened="2026")
        recorder.close(n)
    recorder.close_all()
    (tmp_path / "timeline.jsonl").unlink()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        lines = replay_lines(tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert sum(" closed: " in line for line in lines) == 300
