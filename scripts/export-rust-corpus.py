"""Export a Dask wire capture as the Rust example's corpus: every message in both profiles.

    .venv/bin/python scripts/export-rust-corpus.py CAPTURE_DIR OUT.jsonl

CAPTURE_DIR is the committed sample (`tests/data/dask-2026.8.0`) or a capture that
`bench/dask_corpus.py --wire` records (`.bench-cache/dask-wire-<version>-v1-<full|small>/`);
both have the same `index.jsonl` layout. OUT.jsonl gets one JSON line per message:

    {"id", "ops", "batch", "handshake", "compression",
     "dask-2023.11": [hex frames, exactly as recorded],
     "placeholder-v1": [hex frames] or null, "placeholder-v1-reason": null or why not,
     "conversions": [what the carrying changed]}

Which messages: every line of a sample (its messages were chosen one by one); in a full capture
the `source: write` lines, which hold every message a process wrote. The `source: socket` lines
of a capture repeat the proxied connections' messages byte for byte, so they are left out there
(`--sources all` keeps them). `--extra CAPTURE` adds, for each op that CAPTURE shows and the
input does not, the smallest message of CAPTURE with that op (how the Rust crate's committed
corpus covers every op of the full capture while staying small).

How a message is carried into placeholder-v1, by the reference alone:
- decoded by `daskwire.dask_2023_11` as a *consuming* receiver. A `__Serialized__` value is then
  in original form (`Materialized`: its serializer keys, its frames decompressed and merged,
  DR-4), which the placeholder-v1 encoder splits, compresses and gives fresh placeholder-v1
  transport keys (CE-5, CE-7, CE-8): the message a placeholder-v1 sender of the same values would
  write. The forwarding decode would keep dask-2023.11 transport keys (`num-sub-frames`,
  `split-offsets`) inside a placeholder-v1 header as opaque serializer keys, and its compressed
  frames carry no original `lengths`, so it is not a faithful carrier;
- a `__Pickled__` value (`Pickled`, wire form in both modes, DR-2) has no placeholder-v1
  counterpart. It is carried the way a `__Serialized__` value is: an offloaded value in original
  form whose header is the sub-header without its transport keys (`"pickled-obj"`, the pickle's
  bytes, stays a bin in the header) and whose frames are its buffers, decompressed
  (conversion `pickled->offloaded`). The pickle is copied, never loaded;
- a set (`SetValue`) becomes an array of its elements in wire order (`set->array`):
  placeholder-v1 has no set type;
- the placeholder-v1 encoder compresses with the codec the recorded connection agreed
  (`compression` of the index line) when the reference supports it.

A message that cannot be carried (a bare reply such as `"OK"` or nil, which placeholder-v1 does
not allow as a message; an enum marker; anything the encoder rejects) gets `"placeholder-v1":
null` and the reason. Nothing is dropped silently, and nothing is ever unpickled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daskwire import dask_2023_11, placeholder_v1
from daskwire.codecs import SUPPORTED_CODECS, decompress
from daskwire.errors import DaskwireError
from daskwire.limits import DEFAULT_LIMITS
from daskwire.model import EnumValue, Materialized, Offloaded, Pickled, SetValue

#: The transport keys of a `__Pickled__` sub-header (DS-6); every other key is carried.
PICKLED_TRANSPORT = frozenset({"num-sub-frames", "compression"})


class CannotCarry(Exception):
    """The message has no placeholder-v1 form; the text says why."""


def read_index(capture: Path, sources: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in (capture / "index.jsonl").read_text().splitlines()]
    if sources == "auto":
        sample = all("chosen_for" in line for line in lines)
        sources = "all" if sample else "write"
    if sources != "all":
        lines = [line for line in lines if line["source"] == sources]
    return lines


def messages(
    capture: Path, lines: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
    """(index line, its frames) in index order, cut by the index's frame lengths."""
    streams: dict[str, bytes] = {}
    for line in lines:
        name = line["file"]
        if name not in streams:
            streams[name] = (capture / name).read_bytes()
        data = streams[name][line["offset"] : line["offset"] + line["size"]]
        at = 16 + 8 * len(line["frames"])
        frames = []
        for size in line["frames"]:
            frames.append(data[at : at + size])
            at += size
        if at != len(data):
            msg = f"{name}@{line['offset']}: the index and the bytes disagree"
            raise ValueError(msg)
        yield line, frames


def carry(value: Any, done: Counter[str]) -> Any:
    """The consuming decode, with the values placeholder-v1 lacks converted (module docstring)."""
    kind = type(value)
    if kind is dict:
        return {carry(k, done): carry(v, done) for k, v in value.items()}
    if kind is tuple:  # tuples stay tuples: they may be map keys; both encode as arrays
        return tuple(carry(item, done) for item in value)
    if kind is list:
        return [carry(item, done) for item in value]
    if kind is SetValue:
        done["set->array"] += 1
        return tuple(carry(item, done) for item in value.items)
    if kind is Pickled:
        done["pickled->offloaded"] += 1
        header = {k: v for k, v in value.header.items() if k not in PICKLED_TRANSPORT}
        codecs = value.header.get("compression") or [None] * len(value.frames)
        frames = [
            bytes(frame) if codec is None else decompress(codec, frame, DEFAULT_LIMITS)
            for codec, frame in zip(codecs, value.frames, strict=True)
        ]
        return Materialized(header, frames)
    if kind is EnumValue:
        msg = "an enum marker: placeholder-v1 has no enum value"
        raise CannotCarry(msg)
    if kind is Offloaded:  # a consuming decode yields none; kept in case the reference changes
        msg = "an offloaded value in wire form after a consuming decode"
        raise CannotCarry(msg)
    return value


def op_names(message: Any) -> Iterator[str]:
    """The `op` of the message, or of each item of a batch, item by item."""
    items = message if type(message) in (list, tuple) else [message]
    for item in items:
        if type(item) is dict and type(item.get("op")) is str:
            yield item["op"]


def placeholder_frames(message: Any, compression: str | None) -> tuple[list[bytes], list[str]]:
    if type(message) not in (dict, list, tuple):
        kind = type(message).__name__
        msg = f"a bare {kind} reply: a placeholder-v1 message is a map or an array"
        raise CannotCarry(msg)
    done: Counter[str] = Counter()
    carried = carry(message, done)
    codec = compression if compression in SUPPORTED_CODECS else None
    out = placeholder_v1.encode(carried, compression=codec)
    return [bytes(frame) for frame in out], sorted(done)


def smallest_per_missing_op(capture: Path, have: set[str], sources: str) -> list[dict[str, Any]]:
    """Of each op in `capture` that no message of `have` shows, the smallest message."""
    best: dict[str, dict[str, Any]] = {}
    for line in read_index(capture, sources):
        for op in line["ops"]:
            if op not in have and (op not in best or line["size"] < best[op]["size"]):
                best[op] = line
    chosen = {id(line): line for line in best.values()}
    return sorted(chosen.values(), key=lambda line: (line["file"], line["offset"]))


def export(
    capture: Path, out: Path, sources: str = "auto", extra: Path | None = None
) -> Counter[str]:
    """Write the corpus; returns counts: messages, carried, each reason and conversion, and
    each op (`op <name>`: how many maps with that op the messages hold, batch items included,
    as the reference decodes them)."""
    counts: Counter[str] = Counter()
    lines = read_index(capture, sources)
    parts = [(capture, "", lines)]
    if extra is not None:
        have = {op for line in lines for op in line["ops"]}
        parts.append((extra, f"{extra.name}/", smallest_per_missing_op(extra, have, "auto")))
    with out.open("w") as sink:
        for line, frames, prefix in (
            (line, frames, prefix)
            for where, prefix, chosen in parts
            for line, frames in messages(where, chosen)
        ):
            record: dict[str, Any] = {
                "id": f"{prefix}{line['file']}@{line['offset']}",
                "ops": line["ops"],
                "batch": line["batch"],
                "handshake": line["handshake"],
                "compression": line["compression"],
                "dask-2023.11": [frame.hex() for frame in frames],
                "placeholder-v1": None,
                "placeholder-v1-reason": None,
                "conversions": [],
            }
            try:
                message = dask_2023_11.decode(frames, mode="consuming")
                if not line["handshake"]:
                    counts.update(f"op {name}" for name in op_names(message))
                carried, done = placeholder_frames(message, line["compression"])
            except (CannotCarry, DaskwireError) as exc:
                reason = str(exc)
                record["placeholder-v1-reason"] = reason
                counts[f"not carried: {reason}"] += 1
            else:
                record["placeholder-v1"] = [frame.hex() for frame in carried]
                record["conversions"] = done
                counts["carried"] += 1
                counts.update(f"conversion {name}" for name in done)
            counts["messages"] += 1
            sink.write(json.dumps(record, separators=(",", ":")) + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path, help="a capture or sample directory (index.jsonl)")
    parser.add_argument("out", type=Path, help="the corpus file to write (JSON lines)")
    parser.add_argument(
        "--sources",
        choices=("auto", "write", "socket", "all"),
        default="auto",
        help="which index lines (auto: all of a sample, the write lines of a capture)",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        metavar="CAPTURE",
        help="also take, of each op CAPTURE shows and the input does not, its smallest message",
    )
    args = parser.parse_args(argv)
    counts = export(args.capture, args.out, args.sources, args.extra)
    sys.stdout.write(json.dumps(dict(sorted(counts.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
