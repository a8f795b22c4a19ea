"""The tap under trouble, as a subprocess: an output nobody reads, a recording that cannot be
written, too few file descriptors, a second Ctrl-C. Forwarding goes on through all of it."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw

from tap._tapproc import running_tap

pytestmark = pytest.mark.timeout(60)

HANDSHAKE = dw.pack_bytes(
    dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
)
#: Many small messages: each is a line of output, and decoding them takes a while.
SMALL = HANDSHAKE + b"".join(
    dw.pack_bytes(dw.encode({"op": f"heartbeat-{i}", "pad": "x" * 40})) for i in range(20_000)
)


class Upstream:
    """A thread serving each connection: echoes it (`echo`) or reads it to its end."""

    def __init__(self, *, echo: bool) -> None:
        self.echo = echo
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[int] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        total = 0
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(1 << 20):
                total += len(data)
                if self.echo:
                    conn.sendall(data)
        self.received.append(total)

    def close(self) -> None:
        self.sock.close()


@contextlib.contextmanager
def upstream(*, echo: bool) -> Iterator[Upstream]:
    server = Upstream(echo=echo)
    try:
        yield server
    finally:
        server.close()


def _echo(port: int, data: bytes, timeout: float = 20.0) -> int:
    """Send `data` through the tap to an echoing upstream; the bytes that came back."""
    got = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:

        def send() -> None:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        while chunk := sock.recv(1 << 20):
            got += len(chunk)
        sender.join(timeout)
    return got


def test_forwarding_goes_on_when_nobody_reads_the_output() -> None:
    read_end, write_end = os.pipe()
    with upstream(echo=True) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "daskwire_conformance.cli", "tap", "--upstream",
             f"127.0.0.1:{server.port}", "--max-backlog", "1M"],
            stdout=write_end,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        os.close(write_end)
        try:
            first = os.read(read_end, 300).decode()
            port = int(re.search(r"listening on \S+:(\d+)", first)[1])  # type: ignore[index]
            # from now on nobody reads: the pipe fills, then the printer's queue
            for _ in range(3):
                assert _echo(port, SMALL) == len(SMALL)
            assert _echo(port, b"ping") == 4  # a new connection, after the output blocked
            process.send_signal(signal.SIGTERM)
            assert process.wait(15) == 0  # stops though its output never drains
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(read_end)


def test_a_recording_file_that_cannot_be_made_stops_recording_that_connection(
    tmp_path: Path,
) -> None:
    record = tmp_path / "rec"
    with upstream(echo=True) as server:
        with running_tap(
            tmp_path, "--upstream", f"127.0.0.1:{server.port}", "--record", str(record)
        ) as tap:
            assert _echo(tap.port, HANDSHAKE) == len(HANDSHAKE)
            tap.wait_for(r"conn 1 closed")
            (record / "conn-00002.c2s.bin").write_bytes(b"")  # in the way of connection 2
            assert _echo(tap.port, HANDSHAKE) == len(HANDSHAKE)
            tap.wait_for(r"conn 2 closed")
        assert tap.returncode == 0
    text = "\n".join(tap.lines)
    assert (
        "conn 2 recording stops: File exists; this connection is forwarded and decoded, "
        "not recorded"
    ) in text
    assert "conn 2 c2s #0 handshake" in text
    assert "Traceback" not in text
    assert (record / "conn-00001.c2s.bin").read_bytes() == HANDSHAKE
    assert not (record / "conn-00002.s2c.bin").exists()


def test_too_few_file_descriptors_is_reported_once_and_no_connection_hangs(
    tmp_path: Path,
) -> None:
    limit = 40
    output = tmp_path / "tap.log"

    with upstream(echo=True) as server, output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "daskwire_conformance.cli", "tap", "--upstream",
             f"127.0.0.1:{server.port}", "--record", str(tmp_path / "rec")],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        socks: list[socket.socket] = []
        try:
            resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (limit, limit))
            deadline = time.monotonic() + 20
            while not (found := re.search(r"listening on \S+:(\d+)", output.read_text())):
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.05)
            port = int(found[1])
            answered = 0
            for _ in range(limit // 3):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                socks.append(sock)
                sock.sendall(b"ping")
                with contextlib.suppress(OSError):  # closed or answered: never hung
                    answered += sock.recv(10) == b"ping"
            assert answered >= 3
        finally:
            for sock in socks:
                sock.close()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    text = output.read_text()
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert text.count("out of system resource") <= 1
    assert "Too many open files" in text


def test_a_second_signal_while_decoding_drains_exits_at_once_without_traceback(
    tmp_path: Path,
) -> None:
    record = tmp_path / "rec"
    data = SMALL * 8
    with (
        upstream(echo=False) as server,
        running_tap(
            tmp_path,
            "--upstream",
            f"127.0.0.1:{server.port}",
            "--record",
            str(record),
            "--max-backlog",
            "256M",
        ) as tap,
    ):
        with socket.create_connection(("127.0.0.1", tap.port), timeout=20) as sock:
            sock.sendall(data)
        deadline = time.monotonic() + 20
        while not server.received:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        tap.process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        start = time.monotonic()
        tap.process.send_signal(signal.SIGINT)
        assert tap.process.wait(10) == 0
        assert time.monotonic() - start < 5
    text = "\n".join(tap.lines)
    assert "Traceback" not in text
    assert "KeyboardInterrupt" not in text
    assert re.search(r"daskwire tap: stopped after 1 connection, .*decoding was cut short", text)
    assert (record / "conn-00001.c2s.bin").read_bytes() == data  # flushed all the same
