"""Baselines are strict both ways: unexpected passes, changed signatures and stale entries fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner.baseline import BASELINE_FORMAT, BaselineError, load_baseline

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "hostile" / "vectors"
FAILING = "invalid/basic/trailing-byte"  # the one fixture the mutant below gets wrong
MUTANT = "ignore_trailing_bytes:Mutant"
REFERENCE = "daskwire_conformance.testee:ReferenceTestee"


@pytest.fixture(autouse=True)
def _mutants_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "mutants"))


def check(tmp_path: Path, target: str, *args: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(
        [
            "check",
            "--vectors",
            str(FIXTURES),
            "--python",
            target,
            "--json-report",
            str(report),
            *args,
        ]
    )
    return code, json.loads(report.read_text())


def write(path: Path, entries: dict[str, str | None]) -> Path:
    if path.suffix == ".json":
        items = [{"id": i, **({"signature": s} if s else {})} for i, s in entries.items()]
        path.write_text(json.dumps({"format": BASELINE_FORMAT, "entries": items}))
    else:
        path.write_text("".join(f"{i} {s or ''}  # note\n" for i, s in entries.items()))
    return path


@pytest.mark.parametrize("name", ["baseline.txt", "baseline.json"])
def test_update_then_hold_then_break_both_ways(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert check(tmp_path, MUTANT)[0] == 1
    code, doc = check(tmp_path, MUTANT, "--baseline", str(path), "--update-baseline")
    assert code == 0
    assert load_baseline(path).entries == {FAILING: "accepted-invalid"}
    code, doc = check(tmp_path, MUTANT, "--baseline", str(path))
    assert (code, doc["summary"]["xfailed"], doc["baseline"]["matched"]) == (0, 1, 1)
    # the fixed implementation passes a listed vector: an unexpected pass fails the run
    code, doc = check(tmp_path, REFERENCE, "--baseline", str(path))
    assert code == 1
    assert doc["baseline"]["unexpected_passes"] == [FAILING]
    result = next(r for r in doc["results"] if r["id"] == FAILING)
    assert result["details"]["checks"][-1]["failure"] == "unexpected-pass"


# entries, exit code, what the report says
CASES = [
    ({FAILING: "accepted-invalid"}, 0, {"matched": 1}),
    ({FAILING: None}, 0, {"matched": 1}),
    (
        {FAILING: "wrong-category:truncated-input"},
        1,
        {
            "changed": [
                {
                    "id": FAILING,
                    "expected": "wrong-category:truncated-input",
                    "actual": "accepted-invalid",
                }
            ]
        },
    ),
    (
        {FAILING: "accepted-invalid", "invalid/basic/no-such-vector": None},
        1,
        {"stale": ["invalid/basic/no-such-vector"]},
    ),
]


@pytest.mark.parametrize("suffix", [".txt", ".json"])
@pytest.mark.parametrize(("entries", "code", "seen"), CASES)
def test_baseline_verdicts(
    tmp_path: Path, suffix: str, entries: dict[str, str | None], code: int, seen: dict[str, Any]
) -> None:
    path = write(tmp_path / f"baseline{suffix}", entries)
    got, doc = check(tmp_path, MUTANT, "--baseline", str(path))
    assert got == code
    for key, value in seen.items():
        assert doc["baseline"][key] == value


def test_an_entry_for_an_unselected_vector_is_not_stale(tmp_path: Path) -> None:
    path = write(tmp_path / "baseline.txt", {FAILING: "accepted-invalid"})
    code, doc = check(tmp_path, REFERENCE, "--baseline", str(path), "--skip", "invalid/*")
    assert code == 0
    assert doc["baseline"] == {"matched": 0, "unexpected_passes": [], "changed": [], "stale": []}


def test_update_keeps_entries_of_vectors_not_run_and_their_notes(tmp_path: Path) -> None:
    path = tmp_path / "baseline.txt"
    path.write_text("decode/basic/small-map  forwarding:mismatch  # issue 7\n")
    code, _ = check(
        tmp_path, MUTANT, "--baseline", str(path), "--update-baseline", "--skip", "decode/*"
    )
    assert code == 0
    baseline = load_baseline(path)
    assert baseline.entries == {
        "decode/basic/small-map": "forwarding:mismatch",
        FAILING: "accepted-invalid",
    }
    assert baseline.notes == {"decode/basic/small-map": "issue 7"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("b.txt", "a/b/c x\na/b/c y\n"),
        ("b.txt", "a/b/c too many fields\n"),
        ("b.json", "{}"),
        ("b.json", "not json"),
        ("b.json", json.dumps({"format": BASELINE_FORMAT, "entries": [{"id": 3}]})),
    ],
)
def test_unreadable_baselines_are_usage_errors(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(BaselineError):
        load_baseline(path)
    assert (
        main(["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "--baseline", str(path)])
        == 2
    )
