"""The suite checks itself: every mutant is caught, and the reference passes every vector."""

from __future__ import annotations

import fnmatch
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.common.suite import load_suite

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "tests" / "mutants"

PLACEHOLDER = "placeholder-v1"
DASK = "dask-2023.11"
PROFILES = (PLACEHOLDER, DASK)
#: The file name prefix of every dask-2023.11 mutant (the others are placeholder-v1's).
DASK_PREFIX = "dask_"


class Case(NamedTuple):
    """One mutant: its module, how it runs, the vectors it runs on (a subset keeps the
    external ones quick), and the requirement IDs of which at least one failing vector must
    cite one: the fault is caught where it lives, not by accident."""

    profile: str
    name: str
    how: str  # "python": in process, `--python name:Mutant`; "command": over stdio
    globs: list[str]
    requirements: set[str]


# Mutants of the placeholder-v1 reference, checked with --profile placeholder-v1.
PLACEHOLDER_CASES = [
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

# Mutants of the dask-2023.11 reference, checked with --profile dask-2023.11.
DASK_CASES = [
    # comm handshake (handshake.md)
    ("dask_agree_max_protocol", "python", ["*"], {"DK-5"}),
    ("dask_agree_keeps_own_codec", "command", ["handshake/*"], {"DK-5"}),
    ("dask_handshake_keys_sorted", "python", ["*"], {"DK-2", "DK-4"}),
    ("dask_handshake_no_python", "command", ["handshake/*"], {"DK-2", "DK-4"}),
    ("dask_handshake_lax_types", "python", ["*"], {"DK-3"}),
    ("dask_handshake_requires_python", "python", ["*"], {"DK-3"}),
    # TCP framing and the no-split read hint (tcp.md)
    ("dask_hint_ignored", "command", ["wire/*", "invalid/*", "stream/*"], {"DT-4"}),
    ("dask_hint_inside_frame", "python", ["*"], {"DT-4"}),
    ("dask_hint_counts_itself", "command", ["wire/*"], {"DT-3"}),
    ("dask_zero_length_frame_rejected", "python", ["*"], {"DT-1", "DT-7"}),
    # markers and receivers (message.md, receivers.md)
    ("dask_pickled_as_serialized", "python", ["*"], {"DR-2", "DP-2"}),
    ("dask_marker_index_zero", "python", ["*"], {"DM-6", "DM-7"}),
    ("dask_claim_past_last_frame", "python", ["*"], {"DM-7"}),
    ("dask_unclaimed_frames_rejected", "command", ["decode/*"], {"DM-10"}),
    ("dask_shards_not_merged", "python", ["*"], {"DR-4", "DS-4"}),
    ("dask_markers_reversed", "command", ["encode/*"], {"DM-11"}),
]

CASES = [Case(PLACEHOLDER, *c) for c in PLACEHOLDER_CASES] + [Case(DASK, *c) for c in DASK_CASES]

#: Mutants the suite does not catch yet: a gap in the vectors, with the vector that would
#: close it. Each runs as a strict xfail, so the vector's arrival turns it into a failure
#: that asks for its entry here to be removed.
GAPS: dict[str, str] = {}


def test_every_mutant_file_is_in_the_table() -> None:
    files = {p.stem for p in MUTANTS.glob("*.py") if not p.stem.startswith("_")}
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "a mutant is in the table twice"
    assert files == set(names)
    assert set(GAPS) <= files
    for case in CASES:
        assert case.profile == (DASK if case.name.startswith(DASK_PREFIX) else PLACEHOLDER)
        assert case.how in {"python", "command"}
        assert case.globs
        assert case.requirements
    for profile, least in ((PLACEHOLDER, 15), (DASK, 12)):
        cases = [c for c in CASES if c.profile == profile]
        assert len(cases) >= least, profile
        assert {c.how for c in cases} == {"python", "command"}, profile


@pytest.mark.parametrize("profile", PROFILES)
def test_every_mutant_can_be_caught_where_it_lives(profile: str) -> None:
    """Each expected requirement ID is one the profile's vectors cite (no typo, no other
    profile's ID), and each mutant's vector subset holds a vector citing one of them."""
    vectors = load_suite(ROOT / "vectors" / profile)
    cited = {req for v in vectors for req in v.requirements}
    for case in (c for c in CASES if c.profile == profile):
        assert case.requirements <= cited, (case.name, sorted(case.requirements - cited))
        chosen = [v for v in vectors if any(fnmatch.fnmatchcase(v.id, g) for g in case.globs)]
        assert any(case.requirements & set(v.requirements) for v in chosen), case.name


def run_check(
    tmp_path: Path, target: list[str], globs: list[str], *, profile: str
) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    runs = [a for g in globs for a in ("--run", g)]
    code = main(["check", "--profile", profile, "--json-report", str(report), *runs, *target])
    return code, json.loads(report.read_text())


def _reference_namespaces() -> dict[str, dict[str, Any]]:
    """The top-level names of every loaded reference and kit module, to tell that an
    in-process mutant has undone its patches by the time it has answered `stop`."""
    return {
        name: dict(vars(module))
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in {"daskwire", "daskwire_conformance"} and module is not None
    }


def _patches_left(before: dict[str, dict[str, Any]]) -> list[str]:
    after = _reference_namespaces()
    return [
        f"{name}.{attr}"
        for name, names in before.items()
        for attr, value in names.items()
        if attr in after.get(name, {}) and after[name][attr] is not value
    ]


def _case_param(case: Case) -> Any:
    gap = GAPS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=f"suite gap: {gap}")] if gap else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_mutant_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    name = case.name
    if case.how == "python":
        monkeypatch.syspath_prepend(str(MUTANTS))
        target = ["--python", f"{name}:Mutant"]
    else:
        target = ["--", sys.executable, str(MUTANTS / f"{name}.py")]
    before = _reference_namespaces()
    code, doc = run_check(tmp_path, target, case.globs, profile=case.profile)
    assert not _patches_left(before), f"{name} left patched: {_patches_left(before)}"
    assert code == 1, f"mutant {name} was not caught (exit {code})"
    assert doc["run"]["complete"] is True
    blocking = [r for r in doc["results"] if r["blocking"]]
    cited = {req for r in blocking for req in r["requirements"]}
    assert cited & case.requirements, f"{name} caught only by {sorted(cited)}"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    "target",
    [
        ["--python", "daskwire_conformance.testee:ReferenceTestee"],
        [],  # `daskwire serve` over the stdio harness
    ],
    ids=["in-process", "stdio"],
)
def test_the_reference_passes_every_vector(tmp_path: Path, target: list[str], profile: str) -> None:
    code, doc = run_check(tmp_path, target, [], profile=profile)
    summary = doc["summary"]
    assert code == 0
    assert summary["total"] > 0
    assert summary["passed"] == summary["total"]
    assert doc["suite"]["manifest_sha256"]
