"""`daskwire tap` between tiny asyncio peers written here: bytes pass unchanged, whatever they are.

A corrupted stream is reported with the spec's category and requirement while every byte
still reaches the other side; a connection whose decoding falls behind stops being decoded
and keeps being forwarded; closes and signals end things cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import daskwire
import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire import placeholder_v1 as pv
from daskwire.wire import pack_bytes

from tap._tapproc import message_lines, running_tap

pytestmark = pytest.mark.timeout(60)

#: Seconds any one exchange may take.
IO_TIMEOUT = 15.0
HANDSHAKE = dw.pack_bytes(
    dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
)
#: A peer that differs in everything a handshake says.
ODD_HANDSHAKE = dw.pack_bytes(
    dw.encode({"compression": "lz4", "python": [3, 9, 1], "pickle-protocol": 4})
)
HEARTBEAT = dw.pack_bytes(dw.encode({"op": "heartbeat-client"}))
#: One frame that is no msgpack at all: a payload error, the next message still reads.
BAD_PAYLOAD = dw.pack_bytes([b"\xc1"])
#: A read hint of 3, inside the prelude: a framing error, nothing after it can be found.
BAD_FRAMING = (3).to_bytes(8, "little") + (1).to_bytes(8, "little") + (4).to_bytes(8, "little")
BAD_FRAMING += b"\x81\xa1a\x01"


def _error_of(action: Callable[[], object]) -> tuple[str, str | None]:
    """The category and requirement the reference gives for `action`."""
    with pytest.raises(daskwire.DaskwireError) as caught:
        action()
    return str(caught.value.category.value), caught.value.requirement


def _run(scenario: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(scenario, IO_TIMEOUT))


class Upstream:
    """A server that reads a connection to its end, keeps what it read, then answers `reply`
    and closes."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.received.append(await reader.read())
        writer.write(self.reply)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def _exchange(port: int, data: bytes) -> bytes:
    """Send `data` through the tap, close the sending side, read the answer to its end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_corrupted_bytes_are_reported_and_still_forwarded_unchanged(tmp_path: Path) -> None:
    sent = HANDSHAKE + HEARTBEAT + BAD_PAYLOAD + HEARTBEAT + BAD_FRAMING + HEARTBEAT
    reply = ODD_HANDSHAKE + HEARTBEAT + HEARTBEAT[:-3]  # the stream ends inside a message
    upstream = Upstream(reply)
    got: list[bytes] = []

    async def scenario() -> None:
        port = await upstream.start()
        with running_tap(tmp_path, "--upstream", f"127.0.0.1:{port}") as tap:
            got.append(await _exchange(tap.port, sent))
            await asyncio.to_thread(tap.wait_for, r"conn 1 closed")
        await upstream.stop()
        lines.extend(tap.lines)

    lines: list[str] = []
    _run(scenario())
    assert upstream.received == [sent]
    assert got == [reply]
    text = "\n".join(lines)
    payload = _error_of(lambda: dw.decode([b"\xc1"]))
    framing = _error_of(lambda: dw.FrameReader().feed(BAD_FRAMING))
    cut = dw.FrameReader()
    cut.feed(HEARTBEAT[:-3])
    truncated = _error_of(cut.close)
    offset = len(HANDSHAKE + HEARTBEAT)
    assert re.search(
        rf"conn 1 c2s #2 violation: {payload[0]} \({payload[1]}\) in the message at byte "
        rf"{offset:,}",
        text,
    ), text
    offset += len(BAD_PAYLOAD + HEARTBEAT)
    assert re.search(
        rf"conn 1 c2s #4 violation: {framing[0]} \({framing[1]}\) at byte {offset:,}: .*"
        r"Decoding of c2s stops here .*still forwarded unchanged",
        text,
    ), text
    assert re.search(rf"conn 1 s2c #2 violation: {truncated[0]} \({truncated[1]}\)", text), text
    messages = message_lines(lines)
    assert [i for i, _ in messages[(1, "c2s")]] == [0, 1, 2, 3]  # none after the framing error
    assert messages[(1, "c2s")][3][1].startswith("heartbeat-client")  # the payload error skipped
    for what in ("propose different compression", "read different pickle", "run different Py"):
        assert f"conn 1 warning: the two sides {what}" in text, what
    assert "Traceback" not in text


def test_decoding_stops_beyond_the_backlog_and_forwarding_goes_on(tmp_path: Path) -> None:
    big = dw.pack_bytes(dw.encode({"op": "big", "blob": b"x" * 65536}))
    sent = HANDSHAKE + big + HEARTBEAT
    upstream = Upstream(HANDSHAKE)
    lines: list[str] = []

    async def scenario() -> None:
        port = await upstream.start()
        with running_tap(tmp_path, "--upstream", f"127.0.0.1:{port}", "--max-backlog", "4K") as tap:
            assert await _exchange(tap.port, sent) == HANDSHAKE
            await asyncio.to_thread(tap.wait_for, r"conn 1 decoding stops")
        await upstream.stop()
        lines.extend(tap.lines)

    _run(scenario())
    assert upstream.received == [sent]
    text = "\n".join(lines)
    assert re.search(
        r"conn 1 decoding stops: it is [\d,]+ B behind, more than --max-backlog "
        r"4,096 B; forwarding goes on unchanged",
        text,
    ), text
    assert " big " not in text


def test_a_placeholder_v1_stream_is_detected_and_read(tmp_path: Path) -> None:
    sent = b"".join(pack_bytes(pv.encode({"op": f"op-{i}", "i": i})) for i in range(3))
    upstream = Upstream()
    lines: list[str] = []

    async def scenario() -> None:
        port = await upstream.start()
        with running_tap(tmp_path, "--upstream", f"127.0.0.1:{port}") as tap:
            assert await _exchange(tap.port, sent) == b""
            await asyncio.to_thread(tap.wait_for, r"conn 1 closed")
        await upstream.stop()
        lines.extend(tap.lines)

    _run(scenario())
    assert upstream.received == [sent]
    assert "conn 1 c2s profile placeholder-v1:" in "\n".join(lines)
    ops = [rest.split()[0] for _, rest in message_lines(lines)[(1, "c2s")]]
    assert ops == ["op-0", "op-1", "op-2"]


#: Upstreams the tap cannot reach, and what its lines say of each, in words (no Python
#: repr, no "Unknown error"): refused, and a name that never resolves (.invalid, RFC 2606)
#: given as Dask prints an address.
UNREACHABLE = [
    ("refused", lambda: f"127.0.0.1:{_free_port()}", [": connection refused"]),
    (
        "unresolved",
        lambda: "tcp://scheduler.invalid:8786",
        [
            "forwarding to scheduler.invalid:8786",
            "cannot reach upstream scheduler.invalid:8786: cannot resolve scheduler.invalid",
        ],
    ),
]


@pytest.mark.parametrize(
    ("upstream", "said"), [c[1:] for c in UNREACHABLE], ids=[c[0] for c in UNREACHABLE]
)
def test_an_unreachable_upstream_closes_the_client_and_says_why(
    tmp_path: Path, upstream: Callable[[], str], said: list[str]
) -> None:
    lines: list[str] = []

    async def scenario() -> None:
        with running_tap(tmp_path, "--upstream", upstream()) as tap:
            reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            writer.write(HANDSHAKE)
            # closed, not hung: a reset, since the tap never read what was sent
            with contextlib.suppress(ConnectionResetError):
                assert await reader.read() == b""
            writer.close()
            await asyncio.to_thread(tap.wait_for, r"conn 1 cannot reach upstream")
        lines.extend(tap.lines)

    _run(scenario())
    text = "\n".join(lines)
    assert all(words in text for words in said), text
    assert "Unknown error" not in text
    assert "(" not in text.split("cannot reach upstream", 1)[1].splitlines()[0]  # no repr


def test_a_recording_is_on_disk_while_the_tap_runs(tmp_path: Path) -> None:
    record = tmp_path / "rec"
    on_disk: list[int] = []

    async def scenario() -> None:
        upstream = Upstream()
        port = await upstream.start()
        args = ("--upstream", f"127.0.0.1:{port}", "--record", str(record))
        with running_tap(tmp_path, *args) as tap:
            _, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            writer.write(HANDSHAKE + HEARTBEAT)  # a few dozen bytes: less than any buffer
            await writer.drain()
            for _ in range(60):  # up to 6 s; the tap flushes every second
                await asyncio.sleep(0.1)
                on_disk[:] = [(record / "conn-00001.c2s.bin").stat().st_size]
                if on_disk[0]:
                    break
            writer.close()
            await writer.wait_closed()
        await upstream.stop()

    _run(scenario())
    assert on_disk == [len(HANDSHAKE + HEARTBEAT)]


def test_an_upstream_that_drops_the_connection_closes_the_client(tmp_path: Path) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(HANDSHAKE))
        linger = struct.pack("ii", 1, 0)  # close with a reset, not a clean close
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        writer.transport.abort()

    async def scenario() -> None:
        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with running_tap(tmp_path, "--upstream", f"127.0.0.1:{port}") as tap:
            reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            writer.write(HANDSHAKE)
            assert await reader.read() == b""  # closed, not hung
            writer.close()
            await asyncio.to_thread(tap.wait_for, r"conn 1 closed")
        server.close()
        await server.wait_closed()
        lines.extend(tap.lines)

    lines: list[str] = []
    _run(scenario())
    assert "conn 1 the upstream ended the connection: Connection reset by peer" in "\n".join(lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_tap_with_connections_open(tmp_path: Path, sig: int) -> None:
    upstream = Upstream()
    record = tmp_path / "rec"

    async def scenario() -> None:
        port = await upstream.start()
        with running_tap(
            tmp_path, "--upstream", f"127.0.0.1:{port}", "--record", str(record)
        ) as tap:
            reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            writer.write(HANDSHAKE + HEARTBEAT)
            await writer.drain()
            await asyncio.to_thread(tap.wait_for, r"conn 1 c2s #1 heartbeat-client")
            tap.process.send_signal(sig)
            assert await reader.read() == b""  # the tap closed the connection on its way out
            writer.close()
            await asyncio.to_thread(tap.process.wait, 20)
            assert tap.process.returncode == 0
        await upstream.stop()

    _run(scenario())
    assert (record / "conn-00001.c2s.bin").read_bytes() == HANDSHAKE + HEARTBEAT
    assert upstream.received == [HANDSHAKE + HEARTBEAT]
