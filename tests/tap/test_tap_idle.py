"""What an idle connection holds: after a burst each way and a few small messages, a quiet
connection holds no read buffer (arena), so the tap's memory per connection stays small."""

from __future__ import annotations

import contextlib
import re
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw

from tap._tapproc import running_tap

pytestmark = pytest.mark.timeout(90)

CONNECTIONS = 300
HANDSHAKE = dw.pack_bytes(
    dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
)
BURST = HANDSHAKE + dw.pack_bytes([msgpack.packb({"op": "burst", "blob": b"\1" * (200 << 10)})])
SMALL = dw.pack_bytes([msgpack.packb({"op": "heartbeat"})])
#: The most a quiet connection may add to the tap's memory: its sockets, transports and
#: decoding state, and its share of the pool's free arenas (up to 16 MiB over all), but not
#: a 1 MiB read buffer a side (some 2.2 MiB a connection when arenas were kept), nor the
#: freed arenas the C allocator kept when they were bytearrays (some 680 KiB a connection
#: at 300 connections; some 80 KiB since they are memory maps).
PER_CONNECTION = 256 << 10
#: File descriptors a process needs besides the connections' sockets.
SPARE_DESCRIPTORS = 200


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert found
    return int(found[1]) << 10


def _drain(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while sock.recv(1 << 20):
            pass


@pytest.fixture
def connections() -> Iterator[int]:
    """How many connections the test makes: `CONNECTIONS`, or fewer when the hard limit on
    file descriptors leaves less room (each takes two sockets in the test and two in the
    tap). The soft limit is raised to fit, for the tap to inherit, and restored after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = 4 * CONNECTIONS + SPARE_DESCRIPTORS if hard == resource.RLIM_INFINITY else hard
    count = min(CONNECTIONS, (room - SPARE_DESCRIPTORS) // 2)
    assert count >= CONNECTIONS // 3, f"a hard limit of {hard} file descriptors is too low"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2 * count + SPARE_DESCRIPTORS), hard))
    try:
        yield count
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_quiet_connection_holds_no_read_buffer(tmp_path: Path, connections: int) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=connections)
    upstreams: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while len(upstreams) < connections:
                conn, _ = listener.accept()
                upstreams.append(conn)
                conn.sendall(BURST)
                threading.Thread(target=_drain, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    clients: list[socket.socket] = []
    try:
        with running_tap(tmp_path, "--upstream", f"127.0.0.1:{port}") as tap:
            time.sleep(0.3)
            before = _rss(tap.process.pid)
            for _ in range(connections):
                client = socket.create_connection((tap.host, tap.port), timeout=20)
                client.sendall(BURST)
                threading.Thread(target=_drain, args=(client,), daemon=True).start()
                clients.append(client)
            deadline = time.monotonic() + 30
            while len(upstreams) < connections:  # every upstream side accepted, its burst sent
                assert time.monotonic() < deadline, f"{len(upstreams)} of {connections} accepted"
                time.sleep(0.02)
            time.sleep(0.5)
            for _ in range(3):  # then small messages, both ways, and quiet
                for client in clients:
                    client.sendall(SMALL)
                for upstream in list(upstreams):
                    upstream.sendall(SMALL)
                time.sleep(0.05)
            tap.wait_for(rf"conn {connections} s2c #3 ", timeout=30)
            time.sleep(1.5)
            after = _rss(tap.process.pid)
            per = (after - before) // connections
            assert per < PER_CONNECTION, f"{per >> 10} KiB a connection"
    finally:
        for sock in clients + upstreams:
            sock.close()
        listener.close()
