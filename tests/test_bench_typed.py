"""bench/bench_typed.py: its counts, on inputs whose answers are derived by hand, and the
committed table against the Rust sources it describes."""

from __future__ import annotations

import importlib.util
import re
import sys
import zlib
from pathlib import Path
from types import ModuleType

import lz4.block
import msgpack
import pytest

ROOT = Path(__file__).resolve().parent.parent
LATEST = ROOT / "spec" / "bench" / "typed-latest.md"


def _load() -> ModuleType:
    """The script, loaded from its file (bench/ is not a package and nothing imports it)."""
    spec = importlib.util.spec_from_file_location("bench_typed", ROOT / "bench" / "bench_typed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_typed"] = module
    spec.loader.exec_module(module)
    return module


bt = _load()

CODE_LINES = [
    ("", 0),
    ("// a comment\n/// doc\n//! module doc\n", 0),
    ("fn a() {\n    let x = 1; // trailing\n}\n", 3),
    ("/* one\n   block */\nfn b() {}\n", 1),
    ("/* one line */\nfn b() {}\n", 1),
    ("/* c */ fn a() {}\n", 1),
    ("/* c\n c */ fn a() {}\n", 1),
    ('let s = "a // b";\n    // x\n', 1),
]


@pytest.mark.parametrize(("source", "expected"), CODE_LINES)
def test_code_lines(source: str, expected: int) -> None:
    assert bt.code_lines(source) == expected


def _dask(n: int, *, sets: int = 0) -> list[str]:
    """A dask-2023.11 message (hex frames) with n index markers, the first at the top level,
    the others two steps down, and `sets` set markers; each marker's frame a sub-header."""
    message: dict[object, object] = {"op": "x"}
    frames: list[bytes] = []
    for i in range(n):
        marker = {"__Serialized__" if i % 2 == 0 else "__Pickled__": 1 + 2 * i}
        if i == 0:
            message["a"] = marker
        else:
            message.setdefault("b", []).append(marker)  # type: ignore[union-attr]
        frames += [msgpack.packb({"serializer": "pickle", "num-sub-frames": 1}), b"data"]
    for _ in range(sets):
        message.setdefault("s", []).append({"__Set__": True, "as-list": [1, 2]})  # type: ignore[union-attr]
    message[(1, "k")] = "a tuple key"
    return [f.hex() for f in (msgpack.packb(message), *frames)]


def _placeholder(i: int, count: int = 1) -> dict[str, object]:
    return {"_$header": {"serializer": "pickle"}, "_$findex": i, "_$fcount": count}


def _v1(payload: dict[str, object], codec: str | None = None) -> list[str]:
    data = msgpack.packb(payload)
    small_header = b""
    if codec == "lz4":
        small_header, data = msgpack.packb({"compression": "lz4"}), lz4.block.compress(data)
    elif codec == "zlib":
        small_header, data = msgpack.packb({"compression": "zlib"}), zlib.compress(data)
    return [small_header.hex(), data.hex()]


def test_dask_places_are_read_from_the_frames() -> None:
    one = bt.dask_places(_dask(3, sets=2))
    assert (one.offloaded, one.marker_map, one.frame_index, one.header_elsewhere) == (3, 5, 3, 3)
    # Paths: ("a",) for the first marker, ("b", 0) and ("b", 1) for the others.
    assert (one.key_path, one.path_steps) == (3, 5)
    # A map with a reserved key and another key is still a marker map (DM-4), not an index.
    odd = [msgpack.packb({"x": {"__Set__": True, "as-list": []}}).hex()]
    assert bt.dask_places(odd).marker_map == 1
    assert bt.dask_places(odd).offloaded == 0


def test_dask_places_refuse_a_marker_whose_frame_is_no_sub_header() -> None:
    frames = [msgpack.packb({"a": {"__Serialized__": 1}}).hex(), msgpack.packb([1]).hex()]
    with pytest.raises(SystemExit, match="no sub-header"):
        bt.dask_places(frames)


@pytest.mark.parametrize("codec", [None, "lz4", "zlib"])
def test_placeholder_places_are_read_from_the_payload(codec: str | None) -> None:
    payload = {"op": "x", "a": _placeholder(0), "b": [_placeholder(1, count=0), 5]}
    one = bt.placeholder_places(_v1(payload, codec))
    assert (one.offloaded, one.marker_map, one.frame_index, one.header_elsewhere) == (2, 2, 1, 0)
    assert one.key_path == 0


def _entry(ops: list[str], markers: int, *, handshake: bool = False) -> dict[str, object]:
    payload = {"p": [_placeholder(i) for i in range(markers)]}
    return {
        "id": "m",
        "ops": ops,
        "handshake": handshake,
        "dask-2023.11": _dask(markers),
        "placeholder-v1": _v1(payload),
    }


def test_places_per_scheme() -> None:
    corpus = [
        _entry(["x"], 2),
        _entry(["x", "y"], 1),
        _entry(["unmodelled"], 5),  # left out: not every op is modelled
        _entry([], 0, handshake=True),
        {**_entry(["x"], 1), "placeholder-v1": None},  # not carried: left out
    ]
    counted = bt.places(corpus, {"x", "y"})
    v1, dask, keyed = counted["placeholder-v1"], counted["dask-2023.11"], counted["key-paths"]
    for scheme in (v1, dask, keyed):
        assert (scheme.messages, scheme.offloaded) == (3, 3)
    assert (v1.marker_map, v1.frame_index, v1.header_elsewhere, v1.key_path) == (3, 3, 0, 0)
    assert (dask.marker_map, dask.frame_index, dask.header_elsewhere, dask.key_path) == (
        3,
        3,
        3,
        0,
    )
    assert (keyed.marker_map, keyed.frame_index, keyed.header_elsewhere) == (0, 3, 3)
    # Paths ("a",), ("b", 0) and ("a",): 4 steps.
    assert (keyed.key_path, keyed.path_steps) == (3, 4)


def test_places_refuse_a_corpus_whose_profiles_disagree() -> None:
    entry = _entry(["x"], 2)
    entry["placeholder-v1"] = _v1({"p": [_placeholder(0)]})
    with pytest.raises(SystemExit, match="2 index markers, 1 placeholders"):
        bt.places([entry], {"x"})


def _counted(v1_paths: int, dask_paths: int, keyed_paths: int) -> dict[str, object]:
    counted = {name: bt.Places(offloaded=4) for name in ("placeholder-v1", "dask-2023.11")}
    counted["key-paths"] = bt.Places(offloaded=4, key_path=keyed_paths, path_steps=2 * keyed_paths)
    counted["placeholder-v1"].key_path = v1_paths
    counted["dask-2023.11"].key_path = dask_paths
    return counted  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("paths", "lines", "time", "words"),
    [
        (
            (0, 0, 4),
            (500, 600),
            (1.0, 0.95),
            [
                "17% smaller",
                "1.05x",
                "(about the same)",
                "claim holds",
                "a smaller decoder",
                "no speed advantage",
                "paths of 2.0 steps",
            ],
        ),
        ((0, 0, 4), (600, 500), (0.5, 1.0), ["20% larger", "0.50x", "no markedly", "faster"]),
        ((0, 0, 0), (500, 600), (1.0, 1.0), ["do not test the claim"]),
        ((1, 0, 4), (500, 600), (1.0, 1.0), ["do not test the claim"]),
    ],
)
def test_verdict_follows_the_numbers(
    paths: tuple[int, int, int],
    lines: tuple[int, int],
    time: tuple[float, float],
    words: list[str],
) -> None:
    total = dict(zip(("placeholder-v1", "dask-2023.11"), lines, strict=True))
    t = dict(zip(("placeholder-v1", "dask-2023.11"), time, strict=True))
    text = bt.verdict(total, _counted(*paths), t)
    for word in words:
        assert word in text, text


def test_committed_table_counts_the_current_sources() -> None:
    """spec/bench/typed-latest.md was made from the Rust sources as they are: rerun the bench
    (`python bench/bench_typed.py --markdown spec/bench/typed-latest.md`) when they change."""
    text = LATEST.read_text(encoding="utf-8")
    recorded = {
        name: int(n) for name, n in re.findall(r"`([a-z0-9_/]+\.rs)` (\d+)", text, flags=re.M)
    }
    counted = bt.rust_lines()
    assert recorded == {name: n for files in counted.values() for name, n in files.items()}
    row = re.search(r"^\| decoder lines beyond the shared code \| (\d+) \| (\d+) \|", text, re.M)
    assert row is not None
    assert [int(row[1]), int(row[2])] == [sum(counted[p].values()) for p in bt.PROFILES]
