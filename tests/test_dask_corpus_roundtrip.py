"""dask-2023.11 on real traffic: the committed Dask 2026.8.0 sample, unpacked, read as streams,
decoded in both receiver modes and re-encoded to the bytes distributed wrote.

Every message is accounted for: it round-trips byte for byte, or the test asserts the exact
documented difference that message shows (`DIFFERENCES`). Nothing here loads a pickle:
`__Pickled__` values stay opaque bytes (DP-1).
"""

from __future__ import annotations

import functools
import json
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import msgpack
import pytest
from daskwire import dask_2023_11
from daskwire.errors import DaskwireError
from daskwire.model import Materialized, Offloaded, Pickled, SetValue

SAMPLE = Path(__file__).resolve().parent / "data" / "dask-2026.8.0"

#: The documented differences a recorded message may show, by name: what the test asserts.
DIFFERENCES = {
    # The read hint distributed's `_add_frames_header` chose is not the whole message. The
    # re-encoded frames are identical and `pack_bytes(frames, hint=recorded)` gives the
    # recorded bytes; the canonical hint (DT-6) differs in the first 8 bytes only.
    "hint": "spec/dask-2023.11/canonical.md DC-3 row 1 (H from Python buffer identity)",
}

#: What the sample holds: messages in all, and how many show each documented difference.
EXPECTED_MESSAGES = 84
EXPECTED = Counter({"identical": 83, "hint": 1})
#: Bare replies among them (DM-3): the "OK" a worker writes after fetching data, and the nil
#: a handler that returns nothing replies.
EXPECTED_BARE_REPLIES = 2


def index() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLE / "index.jsonl").read_text().splitlines()]


@functools.cache
def recorded() -> list[tuple[dict[str, Any], bytes, list[bytes]]]:
    """(index line, the message's bytes, its frames cut by the index's lengths), in file order."""
    out = []
    streams: dict[str, bytes] = {}
    for line in sorted(index(), key=lambda m: (m["file"], m["offset"])):
        name = line["file"]
        if name not in streams:
            streams[name] = (SAMPLE / name).read_bytes()
        data = streams[name][line["offset"] : line["offset"] + line["size"]]
        at = 16 + 8 * len(line["frames"])
        frames = []
        for size in line["frames"]:
            frames.append(data[at : at + size])
            at += size
        assert at == len(data), f"{name}@{line['offset']}: index and bytes disagree"
        out.append((line, data, frames))
    return out


def where(line: dict[str, Any]) -> str:
    return f"{line['file']}@{line['offset']}"


def top_level(frames: list[bytes]) -> Any:
    return msgpack.unpackb(frames[0], raw=False, use_list=False, strict_map_key=False)


def test_unpack_gives_the_recorded_frames() -> None:
    assert len(recorded()) == EXPECTED_MESSAGES
    for line, data, frames in recorded():
        got = dask_2023_11.unpack(data)
        assert [bytes(f) for f in got] == frames, where(line)
        assert struct.unpack_from("<Q", data)[0] == line["hint"], where(line)


@pytest.mark.parametrize("chunk", [None, 1, 7, 4096])
def test_frame_reader_reads_every_stream(chunk: int | None) -> None:
    """Each stream file, fed whole or in chunks, yields all its messages and nothing more."""
    by_file: dict[str, list[list[bytes]]] = {}
    for line, _data, frames in recorded():
        by_file.setdefault(line["file"], []).append(frames)
    assert sorted(by_file) == sorted(
        p.relative_to(SAMPLE).as_posix() for p in (SAMPLE / "streams").glob("*.bin")
    )
    for name, expected in by_file.items():
        data = (SAMPLE / name).read_bytes()
        reader = dask_2023_11.FrameReader()
        step = chunk or len(data)
        got = []
        for start in range(0, len(data), step):
            got.extend(reader.feed(data[start : start + step]))
        reader.close()
        assert [[bytes(f) for f in message] for message in got] == expected, name
        assert reader.buffered == 0, name


def _values(tree: Any) -> list[Any]:
    """Every Offloaded, Materialized, Pickled and SetValue in a decoded message."""
    found = []
    pending = [tree]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            pending.extend(item.values())
        elif type(item) is tuple:
            pending.extend(item)
        elif type(item) in (Offloaded, Materialized, Pickled, SetValue):
            found.append(item)
    return found


@functools.cache
def decoded() -> dict[int, tuple[Any, Any] | DaskwireError]:
    """Position in `recorded()` -> (forwarding, consuming) decode, or the first error."""
    out: dict[int, tuple[Any, Any] | DaskwireError] = {}
    for position, (_line, _data, frames) in enumerate(recorded()):
        try:
            out[position] = tuple(
                dask_2023_11.decode(frames, mode=mode) for mode in ("forwarding", "consuming")
            )
        except DaskwireError as exc:
            out[position] = exc
    return out


def test_decodes_in_both_modes() -> None:
    """Every recorded message decodes in both modes (100%), bare replies included (DM-3)."""
    bare = 0
    kinds: Counter[str] = Counter()
    for position, (line, _data, frames) in enumerate(recorded()):
        result = decoded()[position]
        assert not isinstance(result, DaskwireError), f"{where(line)}: {result}"
        value = top_level(frames)
        forwarding, consuming = result
        if type(value) not in (dict, tuple):
            # a bare reply: exactly the "OK" and the nil of the sample, yielded as they are
            assert value == "OK" or value is None, where(line)
            assert {"top-level-str", "top-level-nil"} & set(line["features"]), where(line)
            assert forwarding == value, where(line)
            assert consuming == value, where(line)
            bare += 1
            continue
        for value in _values(forwarding):
            kinds[type(value).__name__] += 1
        for value in _values(consuming):
            assert type(value) is not Offloaded, where(line)
            if type(value) is Materialized:
                assert "num-sub-frames" not in value.header, where(line)
                assert "compression" not in value.header, where(line)
    assert bare == EXPECTED_BARE_REPLIES
    # The sample shows every kind of value dask-2023.11 carries that Dask sends.
    assert {"Offloaded", "Pickled", "SetValue"} <= set(kinds)


def test_consuming_decompresses_lz4() -> None:
    """lz4 data frames are kept in forwarding mode and decompressed in consuming mode."""
    seen = 0
    for position, (line, _data, _frames) in enumerate(recorded()):
        result = decoded()[position]
        if "compressed" not in line["features"]:
            continue
        forwarding, consuming = result
        wire = [v for v in _values(forwarding) if type(v) is Offloaded]
        plain = [v for v in _values(consuming) if type(v) is Materialized]
        for before, after in zip(wire, plain, strict=True):
            for codec, frame, original in zip(
                before.header["compression"], before.frames, after.frames, strict=True
            ):
                if codec == "lz4":
                    assert len(original) == int.from_bytes(frame[:4], "little") > len(frame) - 4
                    seen += 1
    assert seen >= 1


def difference(line: dict[str, Any], data: bytes, frames: list[bytes], again: list[Any]) -> str:
    """'identical', or the name of the documented difference of this message's re-encoding."""
    assert [bytes(f) for f in again] == frames, f"{where(line)}: re-encoded frames differ"
    assert dask_2023_11.pack_bytes(again, hint=line["hint"]) == data, where(line)
    canonical = dask_2023_11.pack_bytes(again)
    if canonical == data:
        return "identical"
    # DIFFERENCES["hint"]: only the first 8 bytes differ; there H is the whole message.
    assert canonical[8:] == data[8:], where(line)
    assert struct.unpack_from("<Q", canonical)[0] == len(data) - 8, where(line)
    assert line["hint"] < len(data) - 8, where(line)
    assert "split-hint" in line["features"], where(line)
    return "hint"


def test_reencoding_the_forwarding_decode_gives_the_recorded_bytes() -> None:
    found: Counter[str] = Counter()
    for position, (line, data, frames) in enumerate(recorded()):
        result = decoded()[position]
        assert not isinstance(result, DaskwireError), f"{where(line)}: {result}"
        found[difference(line, data, frames, dask_2023_11.encode(result[0]))] += 1
    assert set(found) <= {"identical", *DIFFERENCES}
    assert found == EXPECTED
    assert sum(found.values()) == EXPECTED_MESSAGES


def test_reencoding_keeps_set_order_and_pickles() -> None:
    """Sets keep their wire order (DC-3 row 4 does not show when forwarding) and `__Pickled__`
    values are re-sent as the same bytes (DC-3 row 7): both are among the identical ones."""
    shown = set()
    for position, (line, data, _frames) in enumerate(recorded()):
        result = decoded()[position]
        assert not isinstance(result, DaskwireError), f"{where(line)}: {result}"
        kinds = {type(v) for v in _values(result[0])}
        if kinds & {SetValue, Pickled}:
            again = dask_2023_11.pack_bytes(dask_2023_11.encode(result[0]), hint=line["hint"])
            assert again == data, where(line)
            shown |= kinds & {SetValue, Pickled}
    assert shown == {SetValue, Pickled}
