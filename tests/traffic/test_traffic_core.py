"""Detection, the message stream and summaries, over real captures and broken bytes."""

from __future__ import annotations

import struct
import tracemalloc

import daskwire
import pytest
from daskwire.dask_2023_11 import encode, pack_bytes
from daskwire_conformance.traffic.detect import detect_frames, detect_profile
from daskwire_conformance.traffic.stream import Failure, Message, MessageStream
from daskwire_conformance.traffic.summary import ops_of, summarize

from ._captures import capture

pytestmark = pytest.mark.timeout(60)

# A placeholder-v1 message, as the pull request's example G1 lays it out on the wire: count 2,
# lengths 0 and 3, an empty small header, then the payload {"a": 1} in msgpack (81 a1 61 01
# would be 4 bytes; here the 3-byte payload is fixmap 1 with key "" and value 1: 81 a0 01).
PLACEHOLDER_G = struct.pack("<3Q", 2, 0, 3) + bytes.fromhex("81a001")


def _stream() -> bytes:
    return capture("handshake-lz4.c2s") + capture("compute-task") + capture("batch")


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "profile", "sure"),
    [
        (capture("handshake-lz4.c2s"), "dask-2023.11", True),
        (capture("two-arrays"), "dask-2023.11", True),
        (PLACEHOLDER_G, "placeholder-v1", True),
        (b"garbage garbage garbage!", "dask-2023.11", False),
        (b"\x01\x02", "dask-2023.11", False),
        (b"", "dask-2023.11", False),
    ],
    ids=["handshake", "two-arrays", "placeholder-v1", "garbage", "two-bytes", "empty"],
)
def test_detect_profile(head: bytes, profile: str, sure: bool) -> None:
    found = detect_profile(head)
    assert (found.profile, found.sure) == (profile, sure)
    assert found.reason


@pytest.mark.parametrize(
    ("frames", "profile", "sure"),
    [
        ((bytes.fromhex("81a26f7001"),), "dask-2023.11", True),  # {"op": 1}: one frame
        ((b"", bytes.fromhex("81a26f7001")), "placeholder-v1", True),  # small header + payload
        ((b"\xc1",), "dask-2023.11", False),
    ],
    ids=["dask", "placeholder", "neither"],
)
def test_detect_frames(frames: tuple[bytes, ...], profile: str, sure: bool) -> None:
    found = detect_frames(frames)
    assert (found.profile, found.sure) == (profile, sure)


# --- the stream ---------------------------------------------------------------------------

#: (index, offset, size, frame sizes) of each message of _stream(), from the captures' README
#: table: 69 bytes, then 461, then 159.
EXPECTED = [(0, 0, 69, [45]), (1, 69, 461, [259, 170]), (2, 530, 159, [135])]


def _read(data: bytes, size: int) -> list[Message | Failure]:
    stream = MessageStream("dask-2023.11")
    out: list[Message | Failure] = []
    for start in range(0, len(data), size):
        out.extend(stream.feed(data[start : start + size]))
    out.extend(stream.close())
    return out


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20], ids=lambda n: f"chunks-of-{n}")
def test_messages_and_offsets_whatever_the_chunks(size: int) -> None:
    items = _read(_stream(), size)
    assert all(isinstance(i, Message) for i in items)
    got = [(m.index, m.offset, m.size, [len(f) for f in m.frames]) for m in items]  # type: ignore[union-attr]
    assert got == EXPECTED


@pytest.mark.parametrize(
    ("data", "index", "offset", "category", "requirement"),
    [
        # the last message cut one byte short: it ends inside a message
        (_stream()[:-1], 2, 530, "truncated-input", "WF-6"),
        # a hint of 17: inside the prelude of a two-frame message (count and two lengths: 24)
        (struct.pack("<4Q", 17, 2, 2, 1) + b"\x80" * 3, 0, 0, "invalid-read-hint", "DT-4"),
        # zero frames: dask-2023.11 needs one at least
        (struct.pack("<2Q", 16, 0), 0, 0, "too-few-frames", "DT-2"),
        # a frame of 2**40 bytes declared: over max_frame_bytes, found before any wait
        (struct.pack("<3Q", 24 + 2**40, 1, 2**40), 0, 0, "limit-exceeded", None),
    ],
    ids=["truncated", "hint-in-prelude", "no-frames", "huge-length"],
)
def test_framing_failures(
    data: bytes, index: int, offset: int, category: str, requirement: str | None
) -> None:
    items = _read(data, 5)
    failure = items[-1]
    assert isinstance(failure, Failure)
    assert (failure.index, failure.offset, failure.category) == (index, offset, category)
    if requirement is not None:
        assert failure.requirement == requirement
    assert "cannot be found" in failure.why_stop
    assert sum(isinstance(i, Failure) for i in items) == 1


def test_a_huge_declared_length_allocates_nothing_big() -> None:
    # within the limits, and the hint ends after frame 0 (16 + 2**31): the reader waits
    data = struct.pack("<3Q", 16 + 2**31, 1, 2**31) + b"x" * 100
    tracemalloc.start()
    try:
        items = _read(data, 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(items[-1], Failure)
    assert items[-1].category == "truncated-input"
    assert peak < 1 << 20


# --- summaries ----------------------------------------------------------------------------


def _frames(name: str) -> list[memoryview]:
    return daskwire.get_profile("dask-2023.11").unpack(capture(name))


def test_summary_of_a_compute_task() -> None:
    found = summarize("dask-2023.11", _frames("compute-task"))
    assert (found.ops, found.batch, found.category) == (("compute-task",), True, None)
    (pickled,) = found.offloaded
    assert (pickled.path, pickled.kind, pickled.frame_sizes) == ("$[0]['run_spec']", "pickled", ())
    assert pickled.pickle is not None
    assert pickled.pickle[:2] == b"\x80\x05"  # protocol 5, opaque bytes


def test_summary_of_a_compressed_array() -> None:
    found = summarize("dask-2023.11", _frames("compressed-array"))
    (value,) = found.offloaded
    assert (value.serializer, value.type_name, value.frame_sizes) == (
        "dask",
        "numpy.ndarray",
        (203,),
    )
    assert (value.compression, value.shards, value.nbytes) == (("lz4",), (1,), 203)


@pytest.mark.parametrize(
    ("name", "handshake", "category"),
    [
        ("handshake-lz4.c2s", ("lz4", 5, (3, 11, 7)), None),
        ("batch", None, "invalid-handshake"),
    ],
)
def test_first_message_as_handshake(
    name: str, handshake: tuple[str, int, tuple[int, ...]] | None, category: str | None
) -> None:
    found = summarize("dask-2023.11", _frames(name), first=True)
    got = found.handshake
    shown = None if got is None else (got.compression, got.pickle_protocol, tuple(got.python))
    assert (shown, found.category) == (handshake, category)


def test_a_payload_error_is_categorized() -> None:
    found = summarize("dask-2023.11", [memoryview(b"\x81\xa2op\xc1")])
    assert (found.category, found.requirement, found.value) == ("invalid-msgpack", "DM-1", None)


#: {"x": {"__Serialized__": 1}}, then a sub-header {"num-sub-frames": 0, "compression": [],
#: "split-num-sub-frames": ["x"]}: shards as a str, without split-offsets (msgpack by hand).
BAD_SUB_HEADER = [
    bytes.fromhex("81a17881ae5f5f53657269616c697a65645f5f01"),
    bytes.fromhex(
        "83ae6e756d2d7375622d6672616d657300ab636f6d7072657373696f6e90"
        "b473706c69742d6e756d2d7375622d6672616d657391a178"
    ),
]


def test_a_bad_sub_header_is_a_payload_error() -> None:
    frames = daskwire.get_profile("dask-2023.11").unpack(pack_bytes(BAD_SUB_HEADER))
    found = summarize("dask-2023.11", frames)
    assert (found.category, found.requirement, found.offloaded) == ("invalid-header", "DS-4", ())


#: Top-level values, and what the tools call them: a batch (with its ops) only when the
#: array can be one (DB-1: its elements are messages, maps; an element that is not has no
#: op); an array without a map is a bare reply (DM-3), such as the keys a scatter replies
#: with.
TOP_LEVEL = [
    ([{"op": "a"}, {"op": "b"}], (("a", "b"), True)),
    ([{"op": "a"}], (("a",), True)),
    ([{"no-op": 1}, {"op": "b"}], (("-", "b"), True)),
    (["key-1", "key-2"], (("-",), False)),
    ([{"op": "a"}, "OK"], (("a", "-"), True)),
    ([["nested"], "key-2"], (("-",), False)),
    ([], (("-",), False)),
    ({"op": "a"}, (("a",), False)),
    ("OK", (("-",), False)),
]


@pytest.mark.parametrize(("value", "expected"), TOP_LEVEL)
def test_a_top_level_array_is_a_batch_only_when_it_can_be_one(
    value: object, expected: tuple[tuple[str, ...], bool]
) -> None:
    assert ops_of(value) == expected
    # and as the tools see it, from the frames of a message
    profile = daskwire.get_profile("dask-2023.11")
    summary = summarize("dask-2023.11", profile.unpack(pack_bytes(encode(value))))
    assert (summary.ops, summary.batch, summary.category) == (*expected, None)
