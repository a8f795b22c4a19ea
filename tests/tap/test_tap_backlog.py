"""The backlog limits count what a message's frames cost decoding, not only its bytes: a few
connections each declaring 2^19 frames stop being decoded, the tap's memory stays bounded
and every byte is still forwarded."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from pathlib import Path

import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire_conformance.tap.elide import Skimmer
from daskwire_conformance.traffic.limits import BYTES_PER_FRAME

from tap._tapproc import running_tap

pytestmark = pytest.mark.timeout(90)

HANDSHAKE = dw.pack_bytes(
    dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
)
FRAMES = 1 << 19
#: A prelude declaring FRAMES frames of 1000 B each (4 MiB on the wire); the frames never come.
PRELUDE = struct.pack("<QQ", 8 + 8 * FRAMES, FRAMES) + struct.pack("<Q", 1000) * FRAMES
CONNECTIONS = 4


def _peak_rss(pid: int) -> int:
    """The most memory process `pid` held so far, in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found
    return int(found[1]) << 10


def test_a_message_counts_its_frames_in_what_decoding_holds() -> None:
    skimmer = Skimmer("dask-2023.11", lambda piece: None)
    skimmer.feed(memoryview(HANDSHAKE))
    assert skimmer.held == 0  # a whole message: nothing held
    skimmer.feed(memoryview(PRELUDE[:16]))  # the count is read
    assert skimmer.held == 16 + BYTES_PER_FRAME * FRAMES


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_many_declared_frames_stop_decoding_and_keep_memory_bounded(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=CONNECTIONS)
    listener.settimeout(20)

    def upstream() -> None:
        for _ in range(CONNECTIONS):
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while conn.recv(1 << 20):
                pass

    threading.Thread(target=upstream, daemon=True).start()
    port = listener.getsockname()[1]
    with running_tap(
        tmp_path, "--upstream", f"127.0.0.1:{port}", "--max-total-backlog", "64M"
    ) as tap:
        base = _peak_rss(tap.process.pid)
        clients = []
        for _ in range(CONNECTIONS):
            client = socket.create_connection((tap.host, tap.port), timeout=20)
            client.sendall(HANDSHAKE + PRELUDE)
            clients.append(client)
        for n in range(1, CONNECTIONS + 1):
            tap.wait_for(rf"conn {n} decoding stops: .*backlog", timeout=30)
        peak = _peak_rss(tap.process.pid)
        for client in clients:
            client.close()
        for n in range(1, CONNECTIONS + 1):
            tap.wait_for(rf"conn {n} closed:", timeout=20)
    listener.close()
    lines = tap.stop()
    assert tap.returncode == 0
    # decoding never builds the 2^19 frames of any connection (some 300 MB each)
    assert peak - base < 200 << 20, (peak >> 20, base >> 20)
    text = "\n".join(lines)
    assert text.count("decoding stops") == CONNECTIONS
    for n in range(1, CONNECTIONS + 1):  # every byte still counted as forwarded
        closed = re.search(rf"conn {n} closed: c2s .*?\(([\d,]+) B\)", text)
        assert closed, text[-2000:]
        assert int(closed[1].replace(",", "")) == len(HANDSHAKE) + len(PRELUDE)
