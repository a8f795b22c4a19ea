"""The committed Dask 2026.8.0 wire sample: TCP framing, frame 0 markers, the index; from bytes."""

from __future__ import annotations

import functools
import json
import struct
from collections import defaultdict
from pathlib import Path
from typing import Any

import lz4.block
import msgpack
import pytest

SAMPLE = Path(__file__).resolve().parent / "data" / "dask-2026.8.0"
MARKERS = ("__Serialized__", "__Pickled__")


def index() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLE / "index.jsonl").read_text().splitlines()]


def split(data: bytes) -> list[dict[str, Any]]:
    """Cut a stream by its u64 preludes (hint, count, lengths); fails unless it ends exactly."""
    out = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 16, f"truncated prelude at {pos}"
        hint, count = struct.unpack_from("<QQ", data, pos)
        assert 16 + 8 * count <= len(data) - pos, f"frame count {count} at {pos} runs past the end"
        lengths = list(struct.unpack_from(f"<{count}Q", data, pos + 16))
        start = pos + 16 + 8 * count
        end = start + sum(lengths)
        assert end <= len(data), f"frames of the message at {pos} run past the end"
        frames, at = [], start
        for n in lengths:
            frames.append(data[at : at + n])
            at += n
        out.append({"offset": pos, "size": end - pos, "hint": hint, "frames": frames})
        pos = end
    assert pos == len(data)
    return out


def unpack(frame: bytes) -> Any:
    return msgpack.unpackb(frame, raw=False, use_list=False, strict_map_key=False)


def markers(value: Any) -> list[tuple[str, int]]:
    """(kind, frame index) of every marker map, in the order msgpack meets them."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, item),) = value.items()
            if key in MARKERS:
                assert type(item) is int, f"marker {key} holds {item!r}"
                return [(key, item)]
        return [m for k, v in value.items() for m in markers(k) + markers(v)]
    if isinstance(value, tuple):
        return [m for item in value for m in markers(item)]
    return []


@functools.cache
def messages() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(index line, message cut from the bytes) for every message, the two matched by offset."""
    lines = defaultdict(list)
    for line in index():
        lines[line["file"]].append(line)
    files = sorted(p.relative_to(SAMPLE).as_posix() for p in (SAMPLE / "streams").glob("*.bin"))
    assert files == sorted(lines), "every stream has index lines and every line a stream"
    out = []
    for name in files:
        cut = split((SAMPLE / name).read_bytes())
        mine = sorted(lines[name], key=lambda m: m["offset"])
        assert [m["offset"] for m in mine] == [c["offset"] for c in cut], name
        out.extend(zip(mine, cut, strict=True))
    return out


def test_sample_is_small_and_documented() -> None:
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 2**20
    readme = (SAMPLE / "README.md").read_text()
    manifest = json.loads((SAMPLE / "manifest.json").read_text())
    assert manifest["distributed"] == "2026.8.0"
    assert f"`{manifest['command']}`" in readme
    assert "bench/dask_corpus.py" in manifest["command"]
    assert "--sample tests/data/dask-2026.8.0" in manifest["command"]
    assert manifest["recorded"] in readme


def test_index_agrees_with_the_bytes() -> None:
    for line, cut in messages():
        where = f"{line['file']}@{line['offset']}"
        assert line["size"] == cut["size"], where
        assert line["hint"] == cut["hint"], where
        assert line["frames"] == [len(f) for f in cut["frames"]], where


def test_hint_ends_on_a_frame_boundary() -> None:
    for line, cut in messages():
        lengths = line["frames"]
        prelude = 8 + 8 * len(lengths)  # the count and the lengths; the hint does not count itself
        boundaries = [prelude + sum(lengths[:k]) for k in range(len(lengths) + 1)]
        assert cut["hint"] in boundaries, f"{line['file']}@{line['offset']}"
        assert cut["hint"] <= cut["size"] - 8


def test_frame_zero_and_markers() -> None:
    for line, cut in messages():
        where = f"{line['file']}@{line['offset']}"
        frames = cut["frames"]
        found = markers(unpack(frames[0]))
        claimed = [0]
        for kind, index in sorted(found, key=lambda m: m[1]):
            assert 0 < index < len(frames), where
            sub = unpack(frames[index])
            assert isinstance(sub, dict), where
            count = sub["num-sub-frames"]
            assert index + count <= len(frames) - 1, where
            compression = sub.get("compression")
            if compression is not None:
                assert len(compression) == count, where
            if kind == "__Pickled__":
                assert isinstance(sub["pickled-obj"], bytes), where
                assert sub["pickled-obj"][:1] == b"\x80", where  # a pickle; opaque bytes here
            claimed.extend(range(index, index + count + 1))
        # Each marker's sub-header is followed by its data frames; together they are every frame.
        assert claimed == list(range(len(frames))), where


def test_handshakes() -> None:
    for line, cut in messages():
        if line["seq"] != 0:
            continue
        assert line["handshake"]
        shake = unpack(cut["frames"][0])
        assert set(shake) == {"compression", "python", "pickle-protocol"}
        assert cut["size"] == (66 if shake["compression"] is None else 66 + len("lz4"))


def test_sample_shows_every_feature() -> None:
    shown: set[str] = set()
    for line, cut in messages():
        shown.update(line["features"])
        frames = cut["frames"]
        for _kind, index in markers(unpack(frames[0])):
            sub = unpack(frames[index])
            for j, codec in enumerate(sub.get("compression") or (), start=index + 1):
                if codec == "lz4":  # 4-byte little-endian size, then the LZ4 block
                    size = int.from_bytes(frames[j][:4], "little")
                    assert size > len(frames[j]) - 4
                    assert len(lz4.block.decompress(frames[j])) == size
                else:
                    assert codec is None
    wanted = {"handshake", "compute-task", "batch", "serialized", "pickled", "compressed"}
    assert wanted | {"task-erred", "split-hint", "set", "top-level-str", "top-level-nil"} <= shown
    assert {line["source"] for line, _ in messages()} >= {"socket"}


def test_nothing_here_loads_a_pickle() -> None:
    """Neither these tests nor the bench code (its caches, its worker hand-off) load a pickle."""
    tests = Path(__file__).parent
    bench = sorted((tests.parent / "bench").glob("*.py"))
    assert len(bench) >= 5
    for path in [Path(__file__), tests / "test_dask_corpus_roundtrip.py", *bench]:
        text = path.read_text()
        for name in ("load", "Unpickler"):  # "load" covers loads too
            word = "pickle." + name
            assert word not in text, f"{path.name}: {word}"


@pytest.mark.slow
def test_distributed_reads_the_sample() -> None:
    """distributed's own reader agrees, on every message without a pickle it would load."""
    from distributed.protocol import loads
    from distributed.protocol.utils import unpack_frames

    checked = 0
    for line, cut in messages():
        frames = cut["frames"]
        data = (SAMPLE / line["file"]).read_bytes()[line["offset"] : line["offset"] + line["size"]]
        assert [bytes(f) for f in unpack_frames(data[8:])] == frames
        if any(kind == "__Pickled__" for kind, _ in markers(unpack(frames[0]))):
            continue  # loads unpickles these even with deserialize=False
        loads(frames, deserialize=False)
        checked += 1
    assert checked >= len(messages()) // 2
