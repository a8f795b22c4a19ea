"""`--json`: every record validates against spec/schemas/inspect.schema.json, in every mode."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from inspect_helpers import CAPTURES, bad_msgpack, capture, inspect
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.timeout(60)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "spec" / "schemas" / "inspect.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def _records(out: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        VALIDATOR.validate(record)
    return records


def test_schema_header() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] == "https://daskwire.dev/schemas/placeholder-v1/inspect.schema.json"
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "flags", [(), ("--full",), ("--pickles",), ("--stats",), ("--filter", "op=x")]
)
def test_every_record_validates(capsys: Any, tmp_path: Path, flags: tuple[str, ...]) -> None:
    broken = tmp_path / "broken.bin"
    broken.write_bytes(capture("handshake-lz4.c2s") + bad_msgpack() + capture("batch")[:-3])
    frames = tmp_path / "frames.json"
    frames.write_text('[["81a26f7001"], ["c1"]]')
    inputs = [*sorted(CAPTURES.glob("*.bin")), broken, frames, tmp_path / "missing.bin"]
    code, out, _ = inspect(capsys, "--json", *flags, *inputs)
    assert code == 4
    kinds = {r["kind"] for r in _records(out)}
    assert {"stream", "end", "failure", "input-error"} <= kinds
    assert ("stats" in kinds) == ("--stats" in flags)


def test_a_message_record_by_hand(capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--json", CAPTURES / "compressed-array.bin")
    assert code == 0
    message = _records(out)[1]
    assert message["offset"] == 0
    assert message["size"] == 533
    assert message["frame_sizes"] == [76, 214, 203]
    assert message["ops"] == ["-"]
    assert message["offloaded"] == [
        {
            "path": "$['data']['ndarray-0132c47c3d8ad920e78006f8835836a0']",
            "kind": "serialized",
            "serializer": "dask",
            "type": "numpy.ndarray",
            "frame_sizes": [203],
            "compression": ["lz4"],
            "shards": [1],
            "pickle": None,
        }
    ]
    status, data = message["value"]["map"]
    assert status == ["status", "OK"]
    ((_key, array),) = data[1]["map"]
    assert array["offloaded"]["frames"] == [{"length": 203}]


def test_full_gives_exact_notation(capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--json", "--full", CAPTURES / "two-arrays.bin")
    assert code == 0
    message = _records(out)[1]
    a = message["value"]["map"][1]
    assert a[0] == "a"
    (frame,) = a[1]["offloaded"]["frames"]
    # np.arange(128) as 1024 bytes of int64: a frame the notation writes as hex
    assert frame.startswith("0000000000000000" + "0100000000000000")


def test_a_failure_record(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "h.bin"
    path.write_bytes(struct.pack("<3Q", 8, 1, 1) + b"\x80")  # as placeholder-v1: a prelude
    code, out, _ = inspect(capsys, "--json", "--profile", "dask-2023.11", path)
    assert code == 3
    failure = next(r for r in _records(out) if r["kind"] == "failure")
    assert (failure["category"], failure["requirement"], failure["offset"]) == (
        "invalid-read-hint",
        "DT-4",
        0,
    )
    assert failure["dump"].startswith("000000  08 00 00 00 00 00 00 00  no-split hint H = 8")
