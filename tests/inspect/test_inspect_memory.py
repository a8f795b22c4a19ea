"""A file far larger than memory should need: read in pieces, one message at a time."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from daskwire.dask_2023_11 import encode, pack_bytes
from daskwire.model import Offloaded
from daskwire_conformance.inspect.run import Options, inspect_paths

#: The generated file's length, and the most memory reading it may take (traced by Python).
FILE_BYTES = 128 << 20
PEAK_LIMIT = 16 << 20


class _Counter:
    """A text sink that keeps nothing: it counts lines."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@pytest.mark.timeout(120)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_large_file_in_bounded_memory(tmp_path: Path, as_json: bool) -> None:
    frame = os.urandom(256 << 10)
    message = {"op": "gather", "data": Offloaded({"serializer": "dask", "type": "bytes"}, [frame])}
    wire = pack_bytes(encode(message))
    count = FILE_BYTES // len(wire)
    path = tmp_path / "large.bin"
    with path.open("wb") as handle:
        for _ in range(count):
            handle.write(wire)
    assert path.stat().st_size >= FILE_BYTES - len(wire)
    out, err = _Counter(), _Counter()
    tracemalloc.start()
    try:
        code = inspect_paths([path], Options(as_json=as_json, handshake="none"), out, err)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    assert out.lines > count  # every message was reported
    assert peak < PEAK_LIMIT, f"peak {peak} bytes for a {path.stat().st_size}-byte file"
