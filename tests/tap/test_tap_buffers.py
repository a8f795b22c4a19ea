"""The tap's read buffers: reused only when nothing refers to them, given back by decoding."""

from __future__ import annotations

import mmap
import struct
import sys

import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire.limits import DEFAULT_LIMITS
from daskwire_conformance.tap.buffers import MAPPED, BufferPool, in_use
from daskwire_conformance.tap.decoder import DirectionDecoder
from daskwire_conformance.tap.session import Event
from daskwire_conformance.tap.worker import DecodeWorker
from daskwire_conformance.traffic.stream import Failure


def _arena(content: bytes) -> mmap.mmap:
    arena = mmap.mmap(-1, len(content))
    arena[:] = content
    return arena


#: Both kinds of read buffer: a memory map (where `MAPPED`) and a bytearray (elsewhere).
KINDS = {"map": _arena, "bytearray": bytearray}


@pytest.mark.parametrize("kind", KINDS)
def test_a_buffer_with_a_live_view_is_in_use(kind: str) -> None:
    buffer = KINDS[kind](b"abc")
    view = memoryview(buffer)[1:]
    assert in_use(buffer)
    view.release()
    assert not in_use(buffer)
    assert buffer[:] == b"abc"  # the check leaves it as it was
    assert len(buffer) == 3


def test_a_buffer_that_cannot_be_checked_counts_as_in_use() -> None:
    closed = _arena(b"abc")
    closed.close()
    assert in_use(closed)  # never reused


def test_arenas_are_maps_where_a_map_can_tell_its_views() -> None:
    assert (sys.platform == "linux") == MAPPED  # CPython has mremap() on Linux
    assert isinstance(BufferPool(size=16).take(), mmap.mmap if MAPPED else bytearray)


def test_the_pool_reuses_only_free_buffers_of_its_size() -> None:
    pool = BufferPool(size=16, keep=2)
    first = pool.take()
    assert len(first) == 16
    view = memoryview(first)[:4]
    pool.give(first)  # a view is alive: not reused
    assert pool.take() is not first
    view.release()
    pool.give(first)
    assert pool.take() is first
    pool.give(mmap.mmap(-1, 8))  # not its size: left to be freed
    assert len(pool.take()) == 16
    for _ in range(3):
        pool.give(mmap.mmap(-1, 16))
    assert len(pool._free) == 2


def test_decoding_gives_a_buffer_back_once_decoded() -> None:
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    )
    given: list[mmap.mmap] = []
    worker = DecodeWorker(lambda line: None, recycle=given.append)
    arena = _arena(handshake + bytes(100))
    view = memoryview(arena)[: len(handshake)]
    sent = memoryview(view)  # the transport's own view, as the tap writes it
    worker.start()
    worker.put(Event(1, "open", 1.0, client="c", upstream="u"))
    assert worker.put(Event(1, "data", 1.0, "c2s", view, buffer=arena, spare=100))
    worker.put(Event(1, "close", 2.0))
    assert worker.stop(5.0)
    assert given == [arena]
    assert worker.session.messages == 1
    # decoding let go of its own view only: what the transport may still have to send is
    # intact, and the arena is not reused until that is let go too
    assert bytes(sent) == handshake
    assert in_use(arena)
    sent.release()
    assert not in_use(arena)


def test_a_chunk_not_decoded_stays_the_callers() -> None:
    worker = DecodeWorker(lambda line: None, max_backlog=10)  # not started
    worker.put(Event(1, "open", 1.0, client="c", upstream="u"))
    arena = _arena(bytes(64))
    assert not worker.put(Event(1, "data", 1.0, "c2s", memoryview(arena), buffer=arena))
    assert not worker.put(Event(9, "data", 1.0, "c2s", b"x"))  # a connection never opened


def test_the_tap_refuses_more_frames_than_the_limit() -> None:
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression=None, pickle_protocol=5))
    )
    count = DEFAULT_LIMITS.max_frames + 1
    decoder = DirectionDecoder()
    reports = decoder.feed(handshake + struct.pack("<QQ", 8 + 8 * count, count))
    [failure] = [r for r in reports if isinstance(r, Failure)]
    assert failure.category == "limit-exceeded"
    assert f"over max_frames={DEFAULT_LIMITS.max_frames}" in failure.message
