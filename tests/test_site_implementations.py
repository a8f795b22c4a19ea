"""The Implementations page: results recorded in spec/implementations/, fresh for the suite."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, BuiltSite, daskwire_command
from daskwire_conformance.site.implementations import (
    REFRESH_COMMANDS,
    RESULTS_DIR,
    SuiteState,
    implementations_page,
    load_results,
    record_results,
    results_from_report,
    stale_reasons,
    suite_state,
)

#: The implementations of the kit whose results the repository keeps, one file each.
KIT_IMPLEMENTATIONS = ("reference-stdio", "rust-example")
SUITE = SuiteState(version="0.1.0", fingerprint="ab" * 32, areas={"decode/x": 2, "invalid/y": 1})


def _report(outcomes: dict[str, str], *, fingerprint: str = "ab" * 32) -> dict[str, Any]:
    """A `daskwire check --json-report` document with one result per vector id."""
    return {
        "format": "daskwire-report/1",
        "created": "2026-12-06T10:00:00+00:00",
        "suite": {
            "manifest_sha256": fingerprint,
            "suite_version": "0.1.0",
            "profile": "placeholder-v1",
        },
        "target": "example-cmd",
        "implementation": {"name": "example", "version": "1.2.3", "language": "rust"},
        "run": {"complete": True, "harness_error": None},
        "results": [{"id": i, "outcome": o} for i, o in outcomes.items()],
    }


PASSING = {"decode/x/a": "passed", "decode/x/b": "passed", "invalid/y/c": "passed"}


# --- the results the repository keeps ---------------------------------------------------------


def test_committed_results_match_the_vector_suite() -> None:
    """Recorded results describe the vectors in the repository, or this says how to refresh."""
    suite = suite_state(ROOT / "vectors" / "placeholder-v1")
    results = dict(load_results(ROOT / "spec" / RESULTS_DIR))
    problems = {
        name: stale_reasons(results[name], suite) if name in results else ["no results file"]
        for name in KIT_IMPLEMENTATIONS
    }
    problems = {name: reasons for name, reasons in problems.items() if reasons}
    commands = "\n".join(f"    .venv/bin/{command}" for command in REFRESH_COMMANDS)
    assert problems == {}, (
        f"spec/{RESULTS_DIR}/ does not describe the vectors in vectors/. Refresh it with "
        f"`bash scripts/test.sh`, or with:\n{commands}\nthen review and commit "
        f"spec/{RESULTS_DIR}/."
    )


def test_committed_results_carry_when_they_were_measured() -> None:
    for name, results in load_results(ROOT / "spec" / RESULTS_DIR):
        measured = results["measured"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", measured["date"]), name
        assert re.fullmatch(r"[0-9a-f]{40}", measured["commit"]), name


def test_a_site_built_alone_shows_the_matrix(built_site: BuiltSite) -> None:
    """`daskwire spec build`, as a reader or a docs host runs it, with no reports/ folder."""
    assert built_site.returncode == 0, built_site.output
    assert not (built_site.copy.root / "reports").exists()
    page = (built_site.site / "generated" / "implementations" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "No reports were found" not in page
    assert "No results are recorded" not in page
    assert "Out of date" not in page
    for name in KIT_IMPLEMENTATIONS:
        assert f"<code>{name}</code>" in page
    assert 'href="../vectors/decode-placeholder/"' in page


# --- recording results --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "areas"),
    [
        (
            PASSING,
            {
                "decode/x": {"passed": 2, "failed": 0, "errored": 0, "skipped": 0, "xfailed": 0},
                "invalid/y": {"passed": 1, "failed": 0, "errored": 0, "skipped": 0, "xfailed": 0},
            },
        ),
        (
            {"invalid/y/c": "skipped", "decode/x/a": "failed", "decode/x/b": "xfailed"},
            {
                "decode/x": {"passed": 0, "failed": 1, "errored": 0, "skipped": 0, "xfailed": 1},
                "invalid/y": {"passed": 0, "failed": 0, "errored": 0, "skipped": 1, "xfailed": 0},
            },
        ),
    ],
)
def test_results_count_outcomes_per_area(
    outcomes: dict[str, str], areas: dict[str, dict[str, int]]
) -> None:
    results = results_from_report(_report(outcomes))
    assert results["areas"] == areas
    assert list(results["areas"]) == ["decode/x", "invalid/y"]
    assert sum(results["totals"].values()) == len(outcomes)
    assert results["suite"] == {"version": "0.1.0", "fingerprint": "ab" * 32}


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ([], "not a `daskwire check --json-report` file"),
        ({**_report(PASSING), "format": "other"}, "not a `daskwire check --json-report` file"),
        ({**_report(PASSING), "run": {"complete": False}}, "did not complete"),
        ({**_report(PASSING), "run": {"complete": True, "harness_error": "x"}}, "did not complete"),
    ],
)
def test_an_unusable_report_is_refused(report: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        results_from_report(report)


def test_a_file_is_rewritten_only_when_its_results_change(tmp_path: Path) -> None:
    report = tmp_path / "example.json"
    folder = tmp_path / "implementations"
    report.write_text(json.dumps(_report(PASSING)), encoding="utf-8")
    assert record_results([report], folder) == [(folder / "example.json", True)]
    first = (folder / "example.json").read_text(encoding="utf-8")
    recorded = json.loads(first)
    assert recorded["measured"]["date"] == "2026-12-06"
    assert load_results(folder) == [("example", recorded)]

    later = {**_report(PASSING), "created": "2027-01-01T00:00:00+00:00"}
    report.write_text(json.dumps(later), encoding="utf-8")
    assert record_results([report], folder) == [(folder / "example.json", False)]
    assert (folder / "example.json").read_text(encoding="utf-8") == first

    failing = {
        **later,
        "results": [*later["results"][:2], {"id": "invalid/y/c", "outcome": "failed"}],
    }
    report.write_text(json.dumps(failing), encoding="utf-8")
    assert record_results([report], folder) == [(folder / "example.json", True)]
    recorded = json.loads((folder / "example.json").read_text(encoding="utf-8"))
    assert recorded["measured"]["date"] == "2027-01-01"
    assert recorded["totals"]["failed"] == 1


def test_a_file_that_is_not_results_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="not a results file"):
        load_results(tmp_path)


def test_results_command(tmp_path: Path) -> None:
    """Runs of `daskwire spec results` into one folder, in turn: (flags, outcomes, exit, says)."""
    failing = {**PASSING, "invalid/y/c": "failed"}
    steps = [
        (["--fail-on-change"], PASSING, 1, "updated"),
        (["--fail-on-change"], PASSING, 0, "unchanged"),
        ([], failing, 0, "updated"),
        (["--fail-on-change"], failing, 0, "unchanged"),
    ]
    report = tmp_path / "example.json"
    for flags, outcomes, returncode, says in steps:
        report.write_text(json.dumps(_report(outcomes)), encoding="utf-8")
        into = ["--into", str(tmp_path / "out")]
        done = subprocess.run(
            [*daskwire_command(), "spec", "results", *into, *flags, str(report)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, says in done.stderr) == (returncode, True), done.stderr
    assert load_results(tmp_path / "out")[0][1]["totals"]["failed"] == 1


def test_results_command_refuses_a_missing_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [*daskwire_command(), "spec", "results", "--into", str(tmp_path), "nope.json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "no such report" in done.stderr


# --- the page --------------------------------------------------------------------------------


def _recorded(outcomes: dict[str, str], *, fingerprint: str = "ab" * 32) -> dict[str, Any]:
    results = results_from_report(_report(outcomes, fingerprint=fingerprint))
    results["measured"] = {"date": "2026-12-06", "commit": "0123456789" * 4, "local_changes": False}
    return results


def test_page_shows_a_summary_and_a_matrix() -> None:
    failing = {**PASSING, "invalid/y/c": "failed"}
    page = implementations_page(
        [("a-ref", _recorded(PASSING)), ("b-rust", _recorded(failing))], SUITE
    )
    lines = page.splitlines()
    assert "## Profile `placeholder-v1`" in lines
    assert (
        "| `a-ref` | example 1.2.3 (rust) | 3 of 3 | none | 0.1.0 | 2026-12-06, `0123456789` |"
        in lines
    )
    assert (
        "| `b-rust` | example 1.2.3 (rust) | 2 of 3 | 1 failed | 0.1.0 | 2026-12-06, `0123456789` |"
        in lines
    )
    assert "| [`decode/x`](vectors/decode-x.md) | 2/2 | 2/2 |" in lines
    assert "| [`invalid/y`](vectors/invalid-y.md) | 1/1 | 0/1 (1 failed) |" in lines
    assert "Out of date" not in page


@pytest.mark.parametrize(
    ("results", "suite", "reason"),
    [
        (_recorded(PASSING, fingerprint="cd" * 32), SUITE, "manifest sha256 cdcdcdcdcdcd"),
        (
            _recorded(PASSING),
            SuiteState(version="0.1.0", fingerprint="ab" * 32, areas={"decode/x": 3}),
            "differ from the suite's in decode/x, invalid/y",
        ),
        (_recorded(PASSING), None, "no vector suite"),
    ],
)
def test_stale_results_say_so(
    results: dict[str, Any], suite: SuiteState | None, reason: str
) -> None:
    assert any(reason in r for r in stale_reasons(results, suite))
    page = implementations_page([("a-ref", results)], suite)
    assert '!!! warning "Out of date"' in page
    assert reason in page
    assert "0.1.0, out of date" in page


def test_page_without_results_says_how_to_record_them() -> None:
    page = implementations_page([], SUITE)
    assert "No results are recorded" in page
    assert all(command in page for command in REFRESH_COMMANDS)
