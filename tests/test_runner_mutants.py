"""The suite checks itself: every mutant is caught, and the reference passes every vector."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "tests" / "mutants"

# mutant module, how it runs, vectors it runs on (a subset keeps the external ones quick), and
# requirement IDs of which at least one failing vector must cite one: the fault is caught
# where it lives, not by accident.
CASES = [
    ("big_endian_prelude", "command", ["wire/*", "stream/*"], {"WF-1", "WF-8"}),
    ("findex_from_frame0", "python", ["*"], {"PH-5", "PH-12"}),
    ("trust_fcount", "python", ["*"], {"PH-10"}),
    ("accept_overlap", "python", ["*"], {"PH-8"}),
    ("drop_zero_frame_values", "command", ["encode/*"], {"PH-13"}),
    ("no_merge_split_frames", "python", ["*"], {"CP-6", "CP-7"}),
    ("reorder_map_keys", "command", ["encode/*"], {"PL-8", "CE-2"}),
    ("ignore_trailing_bytes", "command", ["wire/*", "invalid/*"], {"WF-3"}),
    ("wrong_lz4_prefix", "command", ["encode/*"], {"CP-1"}),
    ("float32_widened", "python", ["*"], {"PL-5"}),
    ("str_bin_confused", "python", ["*"], {"PL-3"}),
    ("no_depth_limit", "python", ["*"], {"PL-11", "LM-4"}),
    ("no_placeholder_check_in_arrays", "python", ["*"], {"PH-7", "PH-1"}),
    ("ext_as_invalid_msgpack", "python", ["*"], {"PL-9"}),
    ("stream_whole_chunks", "command", ["stream/*"], {"WF-5"}),
    ("unknown_codec_passthrough", "python", ["*"], {"CP-2"}),
    ("allow_reserved_keys", "python", ["*"], {"PH-11"}),
    ("lengths_unchecked", "python", ["*"], {"CP-6"}),
    ("prelude_cut_before_lengths", "python", ["*"], {"WF-9"}),
    ("stream_lengths_after_prelude", "python", ["*"], {"WF-7", "WF-9"}),
    ("lz4_lenient_blocks", "command", ["*/compression/*"], {"CP-12", "CP-13"}),
    ("forwarding_checks_offloaded", "python", ["invalid/*"], {"RX-3"}),
    ("ratio_limit_off_by_one", "python", ["decode/limits/*"], {"LM-6"}),
    ("encoder_ignores_depth_limit", "python", ["invalid/limits/*"], {"LM-8"}),
    ("encode_unknown_codec_uncompressed", "command", ["invalid/encoder/*"], {"CE-14"}),
    ("pack_big_endian", "command", ["wire/*"], {"WF-1"}),
    ("stream_error_drops_messages", "python", ["stream/*"], {"WF-5", "WF-6"}),
    ("default_shard_size_1mib", "python", ["encode/canonical/*"], {"CE-7"}),
    ("shared_codec_bug", "python", ["encode/compression/*"], {"CP-1"}),
    ("lone_surrogate_replaced", "python", ["invalid/encoder/*"], {"CE-11"}),
    ("offloaded_lengths_unchecked", "python", ["invalid/encoder/*"], {"CE-12"}),
    ("count_below_fcount", "python", ["invalid/placeholder/*"], {"PH-10"}),
    ("all_nil_skips_lengths", "python", ["invalid/compression/*"], {"CP-11"}),
    ("sizes_mod_256", "python", ["decode/*"], {"PL-1", "PL-3", "RX-1", "CP-7"}),
    ("zlib_limits_ignored", "python", ["invalid/limits/*"], {"LM-5", "LM-6"}),
    ("zlib_limits_exclusive", "python", ["decode/limits/*"], {"LM-5", "LM-6"}),
    ("float32_array_widened", "python", ["encode/payload/*"], {"PL-5", "CE-10"}),
    ("float32_bin_as_str", "python", ["encode/payload/*"], {"PL-3"}),
    ("key_int_min_refused", "python", ["encode/payload/*"], {"PL-4"}),
    ("frame0_first_key_only", "python", ["invalid/small-header/*"], {"SH-1"}),
    ("frame0_compression_nil", "python", ["encode/compression/*"], {"SH-4"}),
    ("stream_rest_of_chunk_dropped", "python", ["stream/sequence/*"], {"WF-5"}),
    ("stream_empty_last_frame", "python", ["stream/sequence/*"], {"WF-5", "WF-6"}),
]


def test_every_mutant_file_is_in_the_table() -> None:
    files = {p.stem for p in MUTANTS.glob("*.py") if not p.stem.startswith("_")}
    assert files == {c[0] for c in CASES}
    assert len(files) >= 15
    assert {c[1] for c in CASES} == {"python", "command"}


def run_check(tmp_path: Path, target: list[str], globs: list[str]) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    runs = [a for g in globs for a in ("--run", g)]
    # The mutants are of the placeholder-v1 reference, which also serves dask-2023.11.
    code = main(
        ["check", "--profile", "placeholder-v1", "--json-report", str(report), *runs, *target]
    )
    return code, json.loads(report.read_text())


@pytest.mark.parametrize(("name", "how", "globs", "requirements"), CASES, ids=[c[0] for c in CASES])
def test_mutant_is_caught(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    how: str,
    globs: list[str],
    requirements: set[str],
) -> None:
    if how == "python":
        monkeypatch.syspath_prepend(str(MUTANTS))
        target = ["--python", f"{name}:Mutant"]
    else:
        target = ["--", sys.executable, str(MUTANTS / f"{name}.py")]
    code, doc = run_check(tmp_path, target, globs)
    assert code == 1, f"mutant {name} was not caught (exit {code})"
    assert doc["run"]["complete"] is True
    blocking = [r for r in doc["results"] if r["blocking"]]
    cited = {req for r in blocking for req in r["requirements"]}
    assert cited & requirements, f"{name} caught only by {sorted(cited)}"


@pytest.mark.parametrize(
    "target",
    [
        ["--python", "daskwire_conformance.testee:ReferenceTestee"],
        [],  # `daskwire serve` over the stdio harness
    ],
    ids=["in-process", "stdio"],
)
def test_the_reference_passes_every_vector(tmp_path: Path, target: list[str]) -> None:
    code, doc = run_check(tmp_path, target, [])
    summary = doc["summary"]
    assert code == 0
    assert summary["total"] > 0
    assert summary["passed"] == summary["total"]
    assert doc["suite"]["manifest_sha256"]
