"""Real captures with bytes changed at random: always a report and an exit code, never a crash."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from daskwire_conformance.inspect.run import Options, inspect_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inspect_helpers import capture

STREAM = capture("handshake-lz4.c2s") + capture("compute-task") + capture("compressed-array")


@pytest.mark.timeout(120)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, len(STREAM) - 1), st.integers(0, 255)), min_size=1, max_size=4
    ),
    cut=st.integers(1, len(STREAM)),
    as_json=st.booleans(),
)
def test_changed_bytes_never_crash(changes: list[tuple[int, int]], cut: int, as_json: bool) -> None:
    data = bytearray(STREAM)
    for position, value in changes:
        data[position] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "changed.bin"
        path.write_bytes(bytes(data[:cut]))
        out = io.StringIO()
        code = inspect_paths(
            [path], Options(as_json=as_json, pickles=True, stats=as_json), out, io.StringIO()
        )
    assert code in (0, 1, 3)
    assert out.getvalue()
