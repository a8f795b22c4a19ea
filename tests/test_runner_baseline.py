"""Baselines are strict both ways: unexpected passes, changed signatures and stale entries fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner.baseline import (
    BASELINE_FORMAT,
    REASONS,
    BaselineError,
    load_baseline,
    write_baseline,
)

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


@pytest.mark.parametrize("name", ["b.txt", "b.json"])
def test_a_baseline_that_is_not_utf8_is_a_usage_error(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xff\xfeinvalid/basic/trailing-byte accepted-invalid\n")
    with pytest.raises(BaselineError, match="not UTF-8"):
        load_baseline(path)
    code = main(
        ["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "--baseline", str(path)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"daskwire check: baseline {path} is not UTF-8 text" in err
    assert "Traceback" not in err


# signatures `[MODE:]REASON[:CATEGORY]` (spec/harness.md, Baselines) that no run can produce
MALFORMED = [
    "bogus",
    "passed",
    "unexpected-pass",
    "sideways:mismatch",
    "consuming:bogus",
    "forwarding:consuming:mismatch",
    ":mismatch",
    "consuming:",
    "mismatch:invalid-header",
    "timeout:crash",
    "wrong-category:",
    "Consuming:mismatch",
]
WELL_FORMED = [
    "consuming:wrong-category:invalid-header",
    "forwarding:rejected-valid:truncated-input",
    "wrong-category:stream-broken",
    "wrong-category",
    "accepted-invalid",
    "forwarding:mismatch",
    "timeout",
    "skipped",
    "testee-errored",
    "runner-error",
    "errored",
]


@pytest.mark.parametrize("suffix", [".txt", ".json"])
@pytest.mark.parametrize("signature", MALFORMED)
def test_a_malformed_signature_is_a_usage_error(
    tmp_path: Path, suffix: str, signature: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / f"baseline{suffix}", {FAILING: signature})
    with pytest.raises(BaselineError, match="not a signature"):
        load_baseline(path)
    code = main(
        ["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "--baseline", str(path)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{FAILING}: {signature!r} is not a signature" in err


@pytest.mark.parametrize("suffix", [".txt", ".json"])
@pytest.mark.parametrize("signature", WELL_FORMED)
def test_every_signature_a_run_can_produce_is_accepted(
    tmp_path: Path, suffix: str, signature: str
) -> None:
    path = write(tmp_path / f"baseline{suffix}", {FAILING: signature})
    assert load_baseline(path).entries == {FAILING: signature}


@pytest.mark.parametrize(
    "signature", ["", "wrong-category:stream broken", "wrong-category:a#b", "mis match"]
)
def test_json_signatures_the_text_format_cannot_hold_are_malformed(
    tmp_path: Path, signature: str
) -> None:
    path = tmp_path / "b.json"
    entry = {"id": FAILING, "signature": signature}
    path.write_text(json.dumps({"format": BASELINE_FORMAT, "entries": [entry]}))
    with pytest.raises(BaselineError, match="not a signature"):
        load_baseline(path)


def test_the_reasons_are_the_report_schemas_failures() -> None:
    schema = json.loads((ROOT / "spec" / "schemas" / "report.schema.json").read_text())
    failures = set(schema["$defs"]["failure"]["enum"])
    after_the_fact = {"unexpected-pass", "baseline-changed"}  # set by the baseline, never in it
    assert set(REASONS) == failures - after_the_fact | {"failed", "errored"}


@pytest.mark.parametrize("suffix", [".txt", ".json"])
def test_update_writes_an_unwritable_signature_as_any_non_pass(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"baseline{suffix}"
    write_baseline(
        path, [(FAILING, "wrong-category:stream broken"), ("decode/a/b", "forwarding:mismatch")]
    )
    baseline = load_baseline(path)
    assert baseline.entries == {FAILING: None, "decode/a/b": "forwarding:mismatch"}
    assert "wrong-category:stream broken" in baseline.notes[FAILING]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"format": BASELINE_FORMAT, "entries": 5}),
        json.dumps({"format": BASELINE_FORMAT, "entries": {"id": FAILING}}),
        json.dumps({"format": BASELINE_FORMAT, "entries": [{"id": FAILING, "note": 5}]}),
        '{"format": "daskwire-baseline/1", "entries": ' + "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["entries-int", "entries-object", "note-int", "deep-entries", "deep-document"],
)
def test_malformed_json_baselines_are_usage_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError):
        load_baseline(path)


def test_a_folder_given_as_baseline_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "--baseline", str(tmp_path)]
    )
    assert code == 2
    assert "cannot read baseline" in capsys.readouterr().err
