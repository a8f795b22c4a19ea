"""The Rust example's corpus test on a whole LocalCluster capture, not only the committed sample.

`examples/rust/tests/corpus.rs` reads `examples/rust/tests/data/corpus-sample.jsonl` in
`cargo test`. Here the same test binary (the debug build the test command's `cargo test` step
has made already) reads the corpus of a whole capture of the installed
distributed (`bench/dask_wire.py`): the cached full capture when there is one, else the small
one, else a small capture recorded now (`bench/dask_corpus.py --wire --small`, about a minute:
two phases of 10-15 s each plus cluster start-up; bounded by RECORD_TIMEOUT). The corpus is
exported by `scripts/export-rust-corpus.py` and the Rust test runs with `DASKWIRE_CORPUS` set.

The op counts that the Rust test types are compared with the counts the reference decoder finds
(the export script's `op <name>` counts): every map with a modelled op, batch items included,
must be typed in both profiles. The ten most frequent ops of the capture by those counts must
all be modelled, and this file's list of modelled ops must be the crate's (`MODELLED` of
`src/ops.rs`, read from the Rust source).

Without distributed or cargo the test is skipped with the reason, except on CI (`CI` set),
where both are installed by the test command and a missing one is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
CRATE = ROOT / "examples" / "rust"
EXPORT = ROOT / "scripts" / "export-rust-corpus.py"
CACHE = ROOT / ".bench-cache"
RECORD_TIMEOUT = 600
CARGO_TIMEOUT = 1500

OPS_RS = CRATE / "src" / "ops.rs"
#: How many of the most frequent ops of a capture the crate must model (issue 16: "at least
#: the top ten by count").
TOP = 10

#: The ops `src/ops.rs` models (its `MODELLED`), written here again on purpose: the test
#: checks that the crate types each of them, not whatever list the crate declares, and that
#: the crate's list is this one (`test_modelled_is_the_crates_list`), so the two cannot drift.
MODELLED = (
    "task-finished",
    "compute-task",
    "free-keys",
    "release-worker-data",
    "get_data",
    "add-keys",
    "heartbeat_worker",
    "shuffle_receive",
    "set_metadata",
    "update-graph",
    "register-worker",
    "task-erred",
    "client-releases-keys",
    "key-in-memory",
    "identity",
)


def rust_modelled(source: str) -> tuple[str, ...]:
    """The names of `pub const MODELLED: [&str; N] = [...]` in ops.rs, checked against N."""
    found = re.search(r"pub const MODELLED: \[&str; (\d+)\] = \[(.*?)\];", source, flags=re.DOTALL)
    assert found, "no `pub const MODELLED: [&str; N] = [...];` in ops.rs"
    body = re.sub(r"//[^\n]*", "", found.group(2))
    names = tuple(re.findall(r'"([^"\\]*)"', body))
    leftover = re.sub(r'"[^"\\]*"|[\s,]', "", body)
    assert not leftover, f"MODELLED holds more than str literals: {leftover!r}"
    assert len(names) == int(found.group(1)), (found.group(1), names)
    return names


def top_ops(counts: dict[str, int], top: int = TOP) -> list[str]:
    """The `top` most frequent ops of the export's `op <name>` counts, and any op tied with
    the last of them (a tie at the cut is not settled by name order)."""
    ops = {name[3:]: n for name, n in counts.items() if name.startswith("op ")}
    ranked = sorted(ops.items(), key=lambda item: -item[1])
    if len(ranked) <= top:
        return [name for name, _ in ranked]
    cut = ranked[top - 1][1]
    return [name for name, n in ranked if n >= cut]


def test_modelled_is_the_crates_list() -> None:
    assert rust_modelled(OPS_RS.read_text()) == MODELLED


def test_top_ops_ranks_by_count_and_keeps_ties() -> None:
    counts = {"messages": 99, "op a": 5, "op b": 9, "op c": 1, "op d": 5, "carried": 50}
    assert top_ops(counts, 2) == ["b", "a", "d"]
    assert top_ops(counts, 1) == ["b"]
    assert sorted(top_ops(counts, 10)) == ["a", "b", "c", "d"]


def test_rust_modelled_reads_the_list_and_its_length() -> None:
    source = 'pub const MODELLED: [&str; 2] = [\n    "a-b", // a comment "x"\n    "c_d",\n];'
    assert rust_modelled(source) == ("a-b", "c_d")
    with pytest.raises(AssertionError):
        rust_modelled(source.replace("; 2]", "; 3]"))
    with pytest.raises(AssertionError):
        rust_modelled(source.replace('"c_d"', "NAME"))


def _missing(what: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI installs it: scripts/setup.sh --all)")
    pytest.skip(what)


def _capture(version: str) -> Path:
    """A cached capture of this distributed version (full first), or a small one recorded now."""
    for tag in ("full", "small"):
        path = CACHE / f"dask-wire-{version}-v1-{tag}"
        if (path / "manifest.json").is_file() and (path / "index.jsonl").is_file():
            return path
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dask_corpus.py"), "--wire", "--small"],
        cwd=ROOT,
        check=True,
        timeout=RECORD_TIMEOUT,
    )
    path = CACHE / f"dask-wire-{version}-v1-small"
    assert (path / "index.jsonl").is_file(), f"recording did not write {path}"
    return path


def _typed_counts(output: str) -> dict[str, dict[str, int]]:
    """Per profile, the `typed <op> <n>` lines of the Rust test's summary."""
    counts: dict[str, dict[str, int]] = {}
    profile = None
    for line in output.splitlines():
        head = re.match(r"(dask-2023\.11|placeholder-v1): \d+ messages", line)
        if head:
            profile = head.group(1)
            counts[profile] = {}
        typed = re.match(r"\s+typed\s+(\S+)\s+(\d+)$", line)
        if typed and profile is not None:
            counts[profile][typed.group(1)] = int(typed.group(2))
    return counts


def test_the_rust_corpus_test_passes_on_a_whole_capture() -> None:
    try:
        distributed_version = version("distributed")
    except PackageNotFoundError:
        _missing("distributed is not installed: no capture to read")
    cargo = shutil.which("cargo")
    if cargo is None:
        _missing("cargo is not on PATH")
    capture = _capture(distributed_version)

    with tempfile.TemporaryDirectory(prefix="daskwire-rust-corpus-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        export = subprocess.run(
            [sys.executable, str(EXPORT), str(capture), str(corpus)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=RECORD_TIMEOUT,
        )
        counts = json.loads(export.stdout)
        index_lines = [
            json.loads(line) for line in (capture / "index.jsonl").read_text().splitlines()
        ]
        written = [line for line in index_lines if line["source"] == "write"]
        assert counts["messages"] == len(written)
        not_carried = sum(n for name, n in counts.items() if name.startswith("not carried: "))
        assert counts["carried"] + not_carried == counts["messages"]
        expected = {op: counts.get(f"op {op}", 0) for op in MODELLED}
        # The crate models the capture's ten most frequent ops by count (issue 16).
        top = top_ops(counts)
        assert len(top) >= TOP, counts
        unmodelled = [op for op in top if op not in MODELLED]
        assert not unmodelled, (unmodelled, {op: counts[f"op {op}"] for op in top})

        run = subprocess.run(
            [
                cargo,
                "test",
                "--locked",
                "--manifest-path",
                str(CRATE / "Cargo.toml"),
                "--test",
                "corpus",
                "--",
                "--nocapture",
            ],
            cwd=ROOT,
            check=False,
            env={**os.environ, "DASKWIRE_CORPUS": str(corpus)},
            capture_output=True,
            text=True,
            timeout=CARGO_TIMEOUT,
        )
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    typed = _typed_counts(run.stdout)
    assert set(typed) == {"dask-2023.11", "placeholder-v1"}, run.stdout[-3000:]
    for profile, got in typed.items():
        for op in MODELLED:
            assert got.get(op, 0) == expected[op], (profile, op, got.get(op, 0), expected[op])
