"""The pull request's claim, measured: the typed Rust example decodes the same real Dask
messages in both profiles, and this compares what each profile costs it.

Pull request #3809 claimed that values left in place make a statically typed decoder far
simpler than a scheme that removes them and patches them back by key path. The kit's Rust
example (`examples/rust`) decodes the recorded LocalCluster corpus into one set of strict
types (`src/ops.rs`), from either profile's frames. Three measures, side by side:

- Lines: the Rust a profile needs from frames to the typed structs, beyond the code both
  profiles share (the msgpack reader, the codecs, the limits, the value model, the serde
  bridge and the structs themselves): code lines of the profile's decoder modules, blank and
  comment lines left out (the files hold no test code). The files are listed with the table.
- Places: in the corpus's messages of the modelled ops, how often a decoder reads a marker
  map to type a field, or must look beyond the field to give it its value: frames found by
  an index into the frame list, a header read from another frame, a value put back by key
  path. Read from each profile's frames with msgpack alone, not by the code under test. The
  key-path scheme of Dask up to 2021.03.0 (spec/relationship.md) is modelled, not measured,
  on the same values: each is deleted from its map, with a path and a header in frame 2.
- Time: decoding the whole corpus to typed structs, per profile, interleaved in one run of
  `examples/rust/examples/corpus_time.rs` (release build); the ratio is what matters.

Nothing here asserts; the table goes to stdout and, with --markdown, to a file
(spec/bench/typed-latest.md, which spec/typed.md includes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import lz4.block
import msgpack

ROOT = Path(__file__).resolve().parent.parent
CRATE = ROOT / "examples" / "rust"
SRC = CRATE / "src"
SAMPLE_CORPUS = CRATE / "tests" / "data" / "corpus-sample.jsonl"
EXPORT = ROOT / "scripts" / "export-rust-corpus.py"
CACHE = ROOT / ".bench-cache"
PROFILES = ("placeholder-v1", "dask-2023.11")
#: The scheme of Dask <= 2021.03.0, modelled from spec/relationship.md, not implemented.
KEY_PATHS = "key-paths"
TIMEOUT = 1800

#: Per profile, the modules a decoder of that profile needs from frames to a message, relative
#: to examples/rust/src. Encoders, stream framing and the handshake's agreement are left out:
#: the measure is decoding the ten ops from their frames.
DECODER_FILES: dict[str, tuple[str, ...]] = {
    "placeholder-v1": (
        "placeholder_v1/decode.rs",
        "placeholder_v1/header.rs",
        "placeholder_v1/keys.rs",
    ),
    "dask-2023.11": (
        "dask_2023_11/decode.rs",
        "dask_2023_11/keys.rs",
        "dask_2023_11/markers.rs",
        "dask_2023_11/sub_header.rs",
    ),
}
#: Test code, which the counted files must not hold: `#[cfg(test)]`, `#[cfg(all(test, ..))]`.
TEST_CODE = re.compile(r"#\[cfg\([^\]]*\btest\b")
#: The code every profile shares on the way to typed structs, shown for scale.
SHARED_FILES: tuple[str, ...] = (
    "msgpack.rs",
    "value.rs",
    "codecs.rs",
    "limits.rs",
    "error.rs",
    "mode.rs",
    "typed.rs",
    "ops.rs",
)

#: The index markers of dask-2023.11 (DM-6), its reserved keys (DM-4), and the reserved keys
#: of placeholder-v1 (PH-1).
DASK_MARKERS = ("__Serialized__", "__Pickled__")
DASK_RESERVED = frozenset((*DASK_MARKERS, "__Set__", "__Enum__"))
PLACEHOLDER_KEYS = frozenset(("_$header", "_$findex", "_$fcount"))


# -- lines ------------------------------------------------------------------------------------


def code_lines(text: str) -> int:
    """Lines of Rust code: not blank, and not only a comment. The files counted hold no test
    code (`rust_lines` refuses one that does), so nothing else is left out."""
    count = 0
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_block:
            if "*/" not in line:
                continue
            in_block = False
            line = line.split("*/", 1)[1].strip()
        elif line.startswith("/*"):
            if "*/" not in line:
                in_block = True
                continue
            line = line.split("*/", 1)[1].strip()
        if line and not line.startswith("//"):
            count += 1
    return count


def rust_lines() -> dict[str, dict[str, int]]:
    """Code lines per file, for each profile's decoder files and the shared files."""
    out: dict[str, dict[str, int]] = {}
    for group, files in (*DECODER_FILES.items(), ("shared", SHARED_FILES)):
        out[group] = {}
        for name in files:
            path = SRC / name
            if not path.is_file():
                raise SystemExit(f"bench_typed: {path} is missing; update DECODER_FILES")
            text = path.read_text(encoding="utf-8")
            test = TEST_CODE.search(text)
            if test and group != "shared":
                raise SystemExit(f"bench_typed: {path} holds test code; move it to tests/")
            if test:
                # Shown for scale only: the unit tests that end a shared module are cut off.
                text = text[: test.start()]
            out[group][name] = code_lines(text)
    return out


# -- places -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Places:
    """How often the corpus's modelled messages make a decoder look beyond a field's own
    bytes, or read a marker map, to give the field its type and value."""

    messages: int = 0
    offloaded: int = 0  # offloaded values (index markers, placeholders)
    marker_map: int = 0  # a map in place of the value that decides its type
    frame_index: int = 0  # frames found by an index or an offset into the frame list
    header_elsewhere: int = 0  # the value's header read from another frame
    key_path: int = 0  # the value deleted from its map and put back by a key path
    path_steps: int = 0  # the keys and indices of those paths, all together


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every value under `value` (map keys included) with its path from the top."""
    yield value, path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(k, (*path, "<key>"))
            yield from _walk(v, (*path, k))
    elif isinstance(value, tuple):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i))


def _unpack(frame: bytes) -> Any:
    # Arrays as tuples: map keys may be arrays (Dask's tuple keys).
    return msgpack.unpackb(frame, raw=False, strict_map_key=False, use_list=False)


def _marker(value: Any) -> str | None:
    """The reserved key of a dask-2023.11 marker map (DM-4), if `value` is one."""
    if isinstance(value, dict) and len(value) >= 1:
        found = [k for k in value if k in DASK_RESERVED]
        return found[0] if found else None
    return None


def dask_places(frames: list[str]) -> Places:
    """Places in one dask-2023.11 message (hex frames), read with msgpack alone: each index
    marker (DM-6) names frame i, whose sub-header (DM-7) holds the value's header and says how
    many data frames follow; set and enum markers (DM-12, DM-13) are marker maps too. The
    key-path columns count what the scheme of Dask <= 2021.03.0 would need for the same
    values (spec/relationship.md): a path and a header in frame 2 for each."""
    out = Places(messages=1)
    for value, path in _walk(_unpack(bytes.fromhex(frames[0]))):
        marker = _marker(value)
        if marker is None:
            continue
        out.marker_map += 1
        if marker not in DASK_MARKERS:
            continue
        out.offloaded += 1
        index = value[marker]
        out.frame_index += 1
        sub_header = _unpack(bytes.fromhex(frames[index]))
        if not isinstance(sub_header, dict):
            raise SystemExit(f"bench_typed: frame {index} is no sub-header")
        out.header_elsewhere += 1
        out.key_path += 1
        out.path_steps += len(path)
    return out


def placeholder_places(frames: list[str]) -> Places:
    """Places in one placeholder-v1 message (hex frames): the payload (frame 1) is
    decompressed first when the small header (frame 0) names a codec (SH-2,
    spec/compression.md); each placeholder (PH-2) is a marker map, holds its header in place
    when `_$header` is a map (PH-3), and finds its frames by `_$findex` when `_$fcount` > 0
    (PH-5)."""
    small_header, payload = (bytes.fromhex(f) for f in frames[:2])
    codec = _unpack(small_header).get("compression") if small_header else None
    if codec == "lz4":
        payload = lz4.block.decompress(payload)
    elif codec == "zlib":
        payload = zlib.decompress(payload)
    elif codec is not None:
        raise SystemExit(f"bench_typed: a payload compressed with {codec!r}")
    out = Places(messages=1)
    for value, _ in _walk(_unpack(payload)):
        if not (isinstance(value, dict) and set(value) == PLACEHOLDER_KEYS):
            continue
        out.offloaded += 1
        out.marker_map += 1
        if not isinstance(value["_$header"], dict):
            out.header_elsewhere += 1
        if value["_$fcount"] > 0:
            out.frame_index += 1
    return out


def _add(total: Places, one: Places) -> None:
    for name in Places.__slots__:
        setattr(total, name, getattr(total, name) + getattr(one, name))


def places(corpus: Iterable[dict[str, Any]], modelled: set[str]) -> dict[str, Places]:
    """Places per scheme over the messages whose ops are all modelled (and handshakes)."""
    out = {name: Places() for name in (*PROFILES, KEY_PATHS)}
    for entry in corpus:
        ops = entry.get("ops") or []
        if not entry.get("handshake") and (not ops or not set(ops) <= modelled):
            continue
        if entry.get("placeholder-v1") is None:
            continue
        dask = dask_places(entry["dask-2023.11"])
        v1 = placeholder_places(entry["placeholder-v1"])
        if dask.offloaded != v1.offloaded:
            raise SystemExit(
                f"bench_typed: message {entry['id']}: {dask.offloaded} index markers, "
                f"{v1.offloaded} placeholders"
            )
        _add(out["placeholder-v1"], v1)
        # The key-path scheme, modelled: the same values, deleted from their maps; each has a
        # path and a header in frame 2, and its frames start at the sum of the counts before.
        keyed = Places(
            messages=1,
            offloaded=dask.offloaded,
            frame_index=dask.offloaded,
            header_elsewhere=dask.offloaded,
            key_path=dask.key_path,
            path_steps=dask.path_steps,
        )
        _add(out[KEY_PATHS], keyed)
        dask.key_path = dask.path_steps = 0
        _add(out["dask-2023.11"], dask)
    return out


# -- time -------------------------------------------------------------------------------------


def corpus_file(work: Path, full: bool) -> Path:
    """The sample corpus, or one exported from the cached full capture (bench/dask_wire.py)."""
    if not full:
        return SAMPLE_CORPUS
    captures = sorted(CACHE.glob("dask-wire-*-full"))
    if not captures:
        raise SystemExit(
            "bench_typed: no full capture; run `python bench/dask_corpus.py --wire` first"
        )
    out = work / "corpus.jsonl"
    subprocess.run(
        [sys.executable, str(EXPORT), str(captures[-1]), str(out)],
        check=True,
        timeout=TIMEOUT,
    )
    return out


def timing(corpus: Path, repeat: int) -> dict[str, Any]:
    """Runs the timing example over the corpus, both profiles interleaved in one process."""
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "--locked",
        "--manifest-path",
        str(CRATE / "Cargo.toml"),
        "--example",
        "corpus_time",
        "--",
        str(corpus),
        str(repeat),
    ]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=TIMEOUT)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- report -----------------------------------------------------------------------------------


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(
    lines: dict[str, dict[str, int]],
    counted: dict[str, Places],
    times: dict[str, Any],
    corpus_name: str,
    modelled: list[str],
) -> str:
    """The markdown spec/typed.md includes: conditions, table, verdict, files counted."""
    total = {p: sum(lines[p].values()) for p in PROFILES}
    v1, dask = PROFILES
    keyed = counted[KEY_PATHS]
    t = {p: float(times[p]["best_seconds"]) for p in PROFILES}
    conditions = (
        f"Measured {date.today().isoformat()} on nproc {os.cpu_count()}, "
        f"{platform.machine()}, by `python bench/bench_typed.py`, over {corpus_name}: "
        f"{counted[v1].messages} messages of the modelled ops and handshakes, "
        f"{counted[v1].offloaded} offloaded values in them."
    )
    timed = (
        f"Decode time: {times[v1]['messages']} messages, {times[v1]['typed']} typed ops and "
        f"handshakes, best of {times[v1]['passes']} passes per profile, interleaved in one "
        "process; it includes the typing both profiles share."
    )
    mean = keyed.path_steps / keyed.key_path if keyed.key_path else 0.0
    out = [
        conditions,
        "",
        _row("measure", v1, dask, "key paths (Dask <= 2021.03.0), modelled"),
        "|---|---|---|---|",
        _row("decoder lines beyond the shared code", total[v1], total[dask], "not implemented"),
        _row(
            "places: a marker map decides a field's type",
            counted[v1].marker_map,
            counted[dask].marker_map,
            "none: the value is deleted",
        ),
        _row(
            "places: frames found by an index into the frame list",
            counted[v1].frame_index,
            counted[dask].frame_index,
            keyed.frame_index,
        ),
        _row(
            "places: a header read from another frame",
            counted[v1].header_elsewhere,
            counted[dask].header_elsewhere,
            keyed.header_elsewhere,
        ),
        _row(
            "places: a value put back by key path",
            counted[v1].key_path,
            counted[dask].key_path,
            f"{keyed.key_path} (mean {mean:.1f} steps)",
        ),
        _row(
            "decode to typed structs, corpus (best pass)",
            f"{t[v1] * 1e3:.1f} ms",
            f"{t[dask] * 1e3:.1f} ms",
            "not implemented",
        ),
        "",
        timed,
        "",
        verdict(total, counted, t),
        "",
        "Files counted (code lines):",
        "",
    ]
    for group in (*PROFILES, "shared"):
        files = ", ".join(f"`{name}` {n}" for name, n in lines[group].items())
        out.append(f"- {group}: {files}")
    out += ["", "Modelled ops: " + ", ".join(f"`{op}`" for op in modelled) + "."]
    return "\n".join(out) + "\n"


def _same(ratio: float) -> str:
    """ " (about the same)" within 10 percent."""
    return " (about the same)" if abs(ratio - 1) < 0.1 else ""


def verdict(total: dict[str, int], counted: dict[str, Places], t: dict[str, float]) -> str:
    """The claim's verdict, in words, from the numbers of this run only: the measured
    comparison of the two profiles first, then the modelled key-path scheme."""
    v1, dask = PROFILES
    keyed = counted[KEY_PATHS]
    smaller = (total[dask] - total[v1]) / total[dask]
    time = t[v1] / t[dask]
    size = f"{abs(smaller):.0%} {'smaller' if smaller > 0 else 'larger'}"
    measured = (
        f"**Verdict.** Measured: placeholder-v1's decoder is {size} than dask-2023.11's "
        f"({total[v1]} against {total[dask]} lines beyond the shared code), and it decodes "
        f"the corpus in {time:.2f}x dask-2023.11's time{_same(time)}. Both read the same "
        f"messages into the same strict types, and neither puts a value back by key path; "
        f"dask-2023.11 reads {counted[dask].header_elsewhere} headers from other frames and "
        f"{counted[dask].marker_map} marker maps where placeholder-v1 reads "
        f"{counted[v1].header_elsewhere} and {counted[v1].marker_map}."
    )
    if not keyed.key_path or counted[v1].key_path or counted[dask].key_path:
        return f"{measured} These messages offload no value, so they do not test the claim."
    mean = keyed.path_steps / keyed.key_path
    modelled = (
        f"Modelled, not measured: the key-path scheme the pull request set out to replace "
        f"would delete all {keyed.key_path} offloaded values from their maps and put them back "
        f"by paths of {mean:.1f} steps on average before a strict type could read the message."
    )
    lean = "a smaller decoder" if smaller >= 0.1 else "no markedly smaller decoder"
    speed = "no speed advantage" if time > 0.9 else "a faster decode"
    conclusion = (
        f"So the claim holds against the scheme it replaced, and Dask's format since 2021 "
        f"delivers it too; the pull request's own format adds {lean} and {speed}."
    )
    return f"{measured} {modelled} {conclusion}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the sample corpus, one round")
    parser.add_argument("--repeat", type=int, default=20, help="rounds over the corpus")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--corpus", type=Path, help="a corpus already exported (scripts/export-rust-corpus.py)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or corpus_file(Path(tmp), full=not args.quick)
        times = timing(corpus, 1 if args.quick else args.repeat)
        modelled = sorted(times["modelled"])
        with corpus.open(encoding="utf-8") as lines:
            counted = places((json.loads(line) for line in lines if line.strip()), set(modelled))
    name = (
        f"`{args.corpus.name}`"
        if args.corpus
        else "the committed sample"
        if args.quick
        else "the full recorded corpus"
    )
    text = table(rust_lines(), counted, times, name, modelled)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
