"""The tap's read buffers when a reader is slow: the transport keeps what it cannot send at
once (uncopied on Python >= 3.12) while decoding has long let go of its own view. Every byte
must still arrive, in order, both ways.

Run by hand under another Python (for example 3.12) with
`DASKWIRE_TAP_PYTHON=/path/to/python3.12` and the project on its PYTHONPATH."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import socket
import threading
import time
from pathlib import Path

import msgpack
import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire_conformance.tap.buffers import in_use
from daskwire_conformance.tap.proxy import Tap, TapConfig, _Half, _Link
from daskwire_conformance.tap.session import Event

from tap._tapproc import running_tap

pytestmark = pytest.mark.timeout(60)

HANDSHAKE = dw.pack_bytes(
    dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
)


def _stream(rng: random.Random, total: int) -> bytes:
    """A dask-2023.11 stream of about `total` bytes: messages of 10 B to 1.5 MB."""
    out = bytearray(HANDSHAKE)
    i = 0
    while len(out) < total:
        size = rng.choice([10, 1000, 70_000, 300_000, 1_500_000])
        blob = rng.randbytes(size)
        out += dw.pack_bytes([msgpack.packb({"op": "stress", "i": i, "blob": blob})])
        i += 1
    return bytes(out)


def _send_in_chunks(sock: socket.socket, data: bytes, rng: random.Random) -> None:
    """Send `data` in random chunks of 1 B to 3 MiB (many more than 64 KiB)."""
    i = 0
    with contextlib.suppress(OSError):
        while i < len(data):
            n = rng.randint(1, 3 << 20)
            sock.sendall(data[i : i + n])
            i += n


def test_a_slow_reader_gets_every_byte_both_ways(tmp_path: Path) -> None:
    rng = random.Random(15)
    down = _stream(rng, 24 << 20)  # upstream to client, read slowly
    up = _stream(rng, 6 << 20)  # client to upstream
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    received = {"upstream": bytearray(), "client": bytearray()}

    def upstream() -> None:
        conn, _ = listener.accept()
        conn.settimeout(30)
        sender = threading.Thread(
            target=_send_in_chunks, args=(conn, down, random.Random(1)), daemon=True
        )
        sender.start()
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(1 << 20):
                received["upstream"] += data
        sender.join(30)

    with running_tap(tmp_path, "--upstream", f"127.0.0.1:{listener.getsockname()[1]}") as tap:
        server = threading.Thread(target=upstream, daemon=True)
        server.start()
        client = socket.create_connection((tap.host, tap.port), timeout=30)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sender = threading.Thread(
            target=_send_in_chunks, args=(client, up, random.Random(2)), daemon=True
        )
        sender.start()
        slow = random.Random(3)
        deadline = time.monotonic() + 40
        with client:
            while len(received["client"]) < len(down) and time.monotonic() < deadline:
                data = client.recv(slow.choice([512, 4096, 65536]))
                if not data:
                    break
                received["client"] += data
                if slow.random() < 0.3:
                    time.sleep(0.001)  # the tap's writes to this client back up
            sender.join(30)
            client.shutdown(socket.SHUT_WR)
            server.join(30)
        listener.close()
        tap.wait_for(r"conn 1 closed:")
    lines = tap.stop()
    text = "\n".join(lines)
    assert "memoryview" not in text, text[-3000:]
    assert "ended the connection" not in text, text[-3000:]
    assert len(received["client"]) == len(down)
    assert hashlib.sha256(received["client"]).digest() == hashlib.sha256(down).digest()
    assert hashlib.sha256(received["upstream"]).digest() == hashlib.sha256(up).digest()
    assert tap.returncode == 0
    assert " 0 violations" in lines[-1]


class _KeepingTransport:
    """A transport that keeps what it is given uncopied, as Python 3.12's does when it cannot
    send at once."""

    def __init__(self) -> None:
        self.kept: list[bytes | memoryview] = []

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes | memoryview) -> None:
        self.kept.append(data)


class _Quiet:
    def say(self, line: str) -> None:
        pass

    def emit(self, line: str) -> None:
        pass


def test_what_a_transport_keeps_outlives_decoding() -> None:
    asyncio.run(_keeps())


async def _keeps() -> None:
    tap = Tap(TapConfig(upstream_host="127.0.0.1", upstream_port=1), _Quiet())
    tap.worker.start()
    link = _Link(tap, 1)
    link.open = True
    sink = _KeepingTransport()
    link.upstream.transport = sink  # type: ignore[assignment]
    tap.worker.put(Event(1, "open", 1.0, client="c", upstream="u"))
    half: _Half = link.client
    chunk = HANDSHAKE + bytes(range(256)) * 400  # more than a small read: not copied out
    buffer = half.get_buffer(-1)
    buffer[: len(chunk)] = chunk
    arena = half._arena
    assert arena is not None
    half.buffer_updated(len(chunk))
    tap.worker.put(Event(1, "close", 2.0))
    assert tap.worker.stop(10.0)
    [kept] = sink.kept
    assert bytes(kept) == chunk  # still readable after decoding let go of its own view
    assert in_use(arena)  # so the arena is not reused while the transport holds it
    assert tap.buffers.take() is not arena
