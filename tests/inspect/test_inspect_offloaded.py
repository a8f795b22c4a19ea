"""The one-line summary of an offloaded or pickled value."""

from __future__ import annotations

from typing import Any

import pytest
from daskwire.model import Offloaded, Pickled
from daskwire_conformance.inspect.offloaded import offloaded_line, pickle_of
from daskwire_conformance.traffic.summary import offloaded_summary

pytestmark = pytest.mark.timeout(30)

#: PROTO 2, GLOBAL 'builtins eval', EMPTY_TUPLE, REDUCE, STOP: 20 bytes, written by hand.
EVAL_P2 = b"\x80\x02cbuiltins\neval\n)R."


@pytest.mark.parametrize(
    ("node", "pickles", "line"),
    [
        (
            Offloaded({"serializer": "pickle"}, [EVAL_P2]),
            False,
            (
                "offloaded: serializer pickle, 1 frame of 20 bytes, not compressed, pickle first "
                "global builtins.eval"
            ),
        ),
        (
            Offloaded({"serializer": "pickle", "compression": ["lz4"]}, [EVAL_P2]),
            False,
            "offloaded: serializer pickle, 1 frame of 20 bytes, lz4",
        ),
        (
            Offloaded(
                {"serializer": "dask", "type": "numpy.ndarray", "compression": [None, "lz4"]},
                [b"\0" * 8, b"\1" * 4],
            ),
            False,
            (
                "offloaded: serializer dask, type numpy.ndarray, 2 frames of 8 + 4 bytes, "
                "compression none, lz4"
            ),
        ),
        (
            Offloaded({"split-num-sub-frames": [5]}, [b"x"] * 5),
            False,
            "offloaded: no serializer, 5 frames, 5 bytes in all, not compressed, shards [5]",
        ),
        (
            Pickled({"pickled-obj": EVAL_P2}, [b"ab"]),
            True,
            "pickled: 20-byte pickle (protocol 2), globals builtins.eval, 1 buffer of 2 bytes",
        ),
        (Pickled({}, []), False, "pickled: no pickle bytes in its sub-header, no buffers"),
    ],
    ids=["pickle", "pickle-lz4", "dask", "shards", "pickled", "pickled-empty"],
)
def test_offloaded_line(node: Any, pickles: bool, line: str) -> None:
    summary = offloaded_summary("$", node)
    assert offloaded_line(summary, pickle_of(summary), pickles) == line
