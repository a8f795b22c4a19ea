"""Regressions from the review of the shared traffic core: bounded work, one comparison."""

from __future__ import annotations

import pickle
import tracemalloc

import daskwire
import msgpack
import pytest
from daskwire.dask_2023_11 import encode, pack_bytes
from daskwire.model import Offloaded, Pickled
from daskwire_conformance.common.text import escape
from daskwire_conformance.traffic.handshakes import compare, python_text, same_python
from daskwire_conformance.traffic.pickles import COMPUTED, sketch
from daskwire_conformance.traffic.stream import Message, MessageStream
from daskwire_conformance.traffic.summary import (
    PATH_KEY_CHARS,
    HandshakeSummary,
    offloaded_summary,
    summarize,
)

pytestmark = pytest.mark.timeout(30)


def _path_bomb(depth: int, key_chars: int) -> bytes:
    """Maps nested `depth` deep, each under a `key_chars`-character key with one sibling."""
    node: object = 0
    for i in range(depth):
        node = {"k" * key_chars + str(i): node, "s": 1}
    return msgpack.packb({"op": "x", "v": node})


def test_paths_are_built_only_for_offloaded_values_and_stay_short() -> None:
    """Review #3: a path per node cost depth^2 x key length; now only offloaded values get
    one, with each key cut."""
    frame = _path_bomb(depth=120, key_chars=20_000)  # 2.4 MB; was ~150 MB of path text
    tracemalloc.start()
    try:
        summary = summarize("dask-2023.11", [memoryview(frame)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.category is None
    assert summary.ops == ("x",)
    assert peak < 40 << 20, peak
    # an offloaded value deep under long keys: its path is short
    deep: object = Offloaded({"serializer": "dask"}, [b"abc"])
    for i in range(50):
        deep = {"k" * 1000 + str(i): deep}
    value = daskwire.get_profile("dask-2023.11").decode(
        encode({"op": "y", "v": deep}), mode="forwarding"
    )
    found = summarize("dask-2023.11", encode({"op": "y", "v": deep})).offloaded
    assert value is not None
    assert len(found) == 1
    assert len(found[0].path) < 52 * (PATH_KEY_CHARS + 10)


def test_message_sizes_come_from_frame_lengths_not_repacking() -> None:
    """Lesser remark + review #4: the size is the prelude's plus the frames', per profile."""
    for name in ("dask-2023.11", "placeholder-v1"):
        profile = daskwire.get_profile(name)
        stream = MessageStream(name)
        for count in (2, 3, 40):
            frames = [b"a" * i for i in range(count)]
            wire = b"".join(bytes(memoryview(p).cast("B")) for p in profile.pack(frames))
            (message,) = (m for m in MessageStream(name).feed(wire) if isinstance(m, Message))
            assert message.size == len(wire)
            assert stream.wire_size(wire) == len(wire)
            assert stream.wire_size(wire[:10]) is None


def test_a_pickled_value_counts_its_pickle_bytes() -> None:
    """Review #14: a pickled value is counted by its size: pickle bytes plus buffers."""
    data = pickle.dumps(("a", 1))
    summary = offloaded_summary("$", Pickled({"pickled-obj": data}, [b"xyz"]))
    assert summary.nbytes == len(data) + 3


def test_globals_behind_stack_manipulation_are_named() -> None:
    """Review #6: 'os', 'x', POP, 'system', STACK_GLOBAL imports os.system."""
    hidden = b"\x80\x05\x8c\x02os\x8c\x01x0\x8c\x06system\x93)R."
    assert sketch(hidden).globals == ("os.system",)
    # both strings memoized, popped, and fetched back from the memo
    memo = b"\x80\x05\x8c\x02os\x94\x8c\x06system\x9400h\x00h\x01\x930."
    assert sketch(memo).globals == ("os.system",)
    # the module comes from a call: the sketch cannot tell, and says so
    computed = b"\x80\x05\x8c\x02os\x8c\x04path\x86\x8c\x06system\x93."
    assert sketch(computed).globals == (COMPUTED,)


def test_a_pickle_read_in_part_is_not_called_invalid() -> None:
    """Review #10: only the first 64 KiB of a 200 KB pickle are read: say that."""
    data = pickle.dumps(list(range(40_000)), protocol=5)
    found = sketch(data[: 1 << 16], total=len(data))
    assert not found.complete
    assert found.problem == f"only the first {1 << 16} of its {len(data)} bytes read"
    assert found.size == len(data)


def _shake(python: object) -> HandshakeSummary:
    return HandshakeSummary(compression=None, pickle_protocol=5, python=python)


def test_one_comparison_python_by_major_minor() -> None:
    """Review #13: inspect and tap compare alike; a patch level is no warning (tap.md)."""
    assert compare(_shake([3, 11, 7]), _shake([3, 11, 8])) == []
    (warning,) = compare(_shake([3, 11, 7]), _shake([3, 12, 0]))
    assert warning.kind == "python"
    assert "client 3.11.7, upstream 3.12.0" in warning.text
    assert not same_python("3.11", [3, 11])
    assert python_text([3, -11, 7]) == "[3, -11, 7]"
    assert python_text(None) == "not given"
    kinds = [
        w.kind
        for w in compare(
            HandshakeSummary(compression="lz4", pickle_protocol=4, python=[3, 11]),
            HandshakeSummary(compression=None, pickle_protocol=5, python=[3, 11]),
        )
    ]
    assert kinds == ["compression", "pickle-protocol"]


def test_one_escaper_fixed_width() -> None:
    """Lesser remark: one terminal escaper, unambiguous: \\u with 4 digits, \\U with 8."""
    assert escape("plain text, é") == "plain text, é"
    assert escape("\x1b[31m") == "\\u001b[31m"
    assert escape("a\u202eb") == "a\\u202eb"
    assert escape("\U000e0041") == "\\U000e0041"
    assert escape("\U0001f600") == "\U0001f600"  # printable: left as it is


def test_many_small_messages_sizes_add_up() -> None:
    """The stream's offsets follow the computed sizes exactly."""
    one = pack_bytes(encode({"op": "x"}))
    stream = MessageStream("dask-2023.11")
    messages = [m for m in stream.feed(one * 100) if isinstance(m, Message)]
    assert [m.offset for m in messages] == [i * len(one) for i in range(100)]
