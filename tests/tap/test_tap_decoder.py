"""The tap's decoding of one direction: the same reports however the bytes are chunked, and
large data frames read past (never held) with the sizes the traffic core gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from daskwire import ConnectionOptions
from daskwire import dask_2023_11 as dw
from daskwire import placeholder_v1 as pv
from daskwire.model import Materialized
from daskwire.wire import pack_bytes
from daskwire_conformance.tap.decoder import DirectionDecoder, Report, Seen
from daskwire_conformance.traffic.stream import Message, MessageStream
from daskwire_conformance.traffic.summary import summarize
from distributed.protocol import dumps, to_serialize

pytestmark = pytest.mark.timeout(60)

#: Data frames above this reach the decoder as zeros in these tests.
KEEP = 64 << 10
BIG = 3 << 20


def _dask_stream() -> bytes:
    """A handshake, an 8 MiB array as distributed writes it (lz4 compressed: the data frame
    is not zeros on the wire), and a heartbeat."""
    handshake = dw.pack_bytes(
        dw.write_handshake(ConnectionOptions(compression="lz4", pickle_protocol=5))
    )
    rng = np.random.default_rng(0)
    array = rng.integers(0, 4, 1 << 20).astype("f8")  # compressible, not trivially
    frames = dumps(
        {"op": "update-data", "data": {"x": to_serialize(array)}}, context={"compression": "lz4"}
    )
    heartbeat = dw.pack_bytes(dw.encode({"op": "heartbeat-worker", "now": 1.5}))
    return handshake + dw.pack_bytes(frames) + heartbeat


def _placeholder_stream() -> bytes:
    value = Materialized({"serializer": "dask"}, [bytes(range(256)) * (BIG // 256)])
    return b"".join(pack_bytes(pv.encode({"op": op, "v": value})) for op in ("first", "second"))


def _chunks(data: bytes, sizes: tuple[int, ...]) -> Iterator[bytes]:
    at, i = 0, 0
    while at < len(data):
        size = sizes[min(i, len(sizes) - 1)]
        yield data[at : at + size]
        at += size
        i += 1


def _decode(data: bytes, sizes: tuple[int, ...], keep: int) -> tuple[list[Report], int, int]:
    decoder = DirectionDecoder(keep_bytes=keep)
    reports: list[Report] = []
    most = 0
    for chunk in _chunks(data, sizes):
        reports += decoder.feed(chunk)
        most = max(most, decoder.held)
    reports += decoder.close()
    return reports, most, decoder.messages


def _core(data: bytes, profile: str) -> list[tuple[int, int, int, object]]:
    stream = MessageStream(profile)
    out: list[tuple[int, int, int, object]] = []
    for item in [*stream.feed(data), *stream.close()]:
        assert isinstance(item, Message)
        summary = summarize(profile, item.frames, first=item.index == 0)
        out.append((item.offset, item.size, len(item.frames), summary.offloaded))
    return out


#: Whole, a byte at a time through the preludes then 64 KiB, odd sizes, 1 MiB.
CHUNKINGS = [(1 << 30,), (1,) * 300 + (65536,), (7, 13, 4093), (1 << 20,)]


@pytest.mark.parametrize(
    ("stream", "profile"),
    [(_dask_stream, "dask-2023.11"), (_placeholder_stream, "placeholder-v1")],
    ids=["dask-2023.11", "placeholder-v1"],
)
def test_reports_do_not_depend_on_chunking_and_match_the_core(
    stream: Callable[[], bytes], profile: str
) -> None:
    data = stream()
    expected = _core(data, profile)
    runs = [_decode(data, sizes, KEEP) for sizes in CHUNKINGS]
    first = runs[0][0]
    assert all(reports == first for reports, _, _ in runs)
    seen = [r for r in first if isinstance(r, Seen)]
    assert [(s.offset, s.size, s.frames, s.offloaded) for s in seen] == expected
    assert all(s.category is None for s in seen)
    assert any(o.nbytes > KEEP for s in seen for o in s.offloaded), "a frame was read past"
    for _, most, messages in runs[1:]:
        assert messages == len(expected)
        assert most < 2 * KEEP + (1 << 20), most  # never the large frame itself


def test_without_elision_the_reports_are_the_same() -> None:
    data = _dask_stream()
    assert _decode(data, (65536,), KEEP)[0] == _decode(data, (65536,), 1 << 40)[0]
