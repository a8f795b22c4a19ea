"""`daskwire report badge`: an SVG badge from a JSON report, and clear errors for anything else."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner.badge import GREEN, GREY, RED, Badge, render_svg

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "hostile" / "vectors"
REFERENCE = "daskwire_conformance.testee:ReferenceTestee"
MUTANT = "ignore_trailing_bytes:Mutant"  # fails one fixture vector
SVG = "{http://www.w3.org/2000/svg}"


def run_check(folder: Path, target: str, *args: str) -> dict[str, Any]:
    path = folder / "report.json"
    main(
        ["check", "--vectors", str(FIXTURES), "--python", target, "--json-report", str(path), *args]
    )
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(ROOT / "tests" / "mutants"))
    folder = tmp_path_factory.mktemp("reports")
    baseline = folder / "baseline.txt"
    baseline.write_text("invalid/basic/trailing-byte accepted-invalid\n")
    passed = run_check(folder, REFERENCE)
    found = {
        "passed": passed,
        "failed": run_check(folder, MUTANT),
        "xfailed": run_check(folder, MUTANT, "--baseline", str(baseline)),
        "stale": run_check(folder, REFERENCE, "--baseline", str(baseline)),
    }
    mp.undo()
    incomplete = copy.deepcopy(passed)
    incomplete["run"].update(complete=False, interrupted=True, selected=9)
    incomplete["summary"]["exit_code"] = 4
    found["incomplete"] = incomplete
    return found


def write(folder: Path, doc: Any) -> Path:
    path = folder / "in.json"
    path.write_text(json.dumps(doc))
    return path


def parse(svg: str) -> tuple[str, str]:
    """The title and the message's background colour of a badge."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text is not None
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    return title.text, str(fills[2])


# which run, the badge's title and colour
BADGES = [
    ("passed", "daskwire placeholder-v1: 7/7", GREEN),
    ("failed", "daskwire placeholder-v1: 6/7, 1 failed", RED),
    ("xfailed", "daskwire placeholder-v1: 6/7, 1 xfailed", GREEN),
    ("stale", "daskwire placeholder-v1: 6/7, 1 failed", RED),  # an unexpected pass fails
    ("incomplete", "daskwire placeholder-v1: incomplete 7/9", GREY),
]


@pytest.mark.parametrize(("run", "title", "color"), BADGES)
def test_the_badge_says_how_the_run_went(
    tmp_path: Path,
    reports: dict[str, dict[str, Any]],
    run: str,
    title: str,
    color: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["report", "badge", str(write(tmp_path, reports[run]))]) == 0
    assert parse(capsys.readouterr().out) == (title, color)


def test_output_goes_to_a_file_in_a_new_folder(
    tmp_path: Path, reports: dict[str, dict[str, Any]]
) -> None:
    out = tmp_path / "site" / "badge.svg"
    assert main(["report", "badge", str(write(tmp_path, reports["passed"])), "-o", str(out)]) == 0
    assert parse(out.read_text())[1] == GREEN


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ('<script>alert("x")</script> & co', '<script>alert("x")</script> & co'),
        ("tab\tand\nnewline", "tab and newline"),
        ("bell\x07", "bell\ufffd"),
        ("x" * 100, "x" * 59 + "\u2026"),
    ],
)
def test_every_text_is_escaped(label: str, shown: str) -> None:
    svg = render_svg(Badge(label=label, message=label, color='red" onload="x'))
    title, color = parse(svg)
    assert title == f"{shown}: {shown}"
    assert color == GREY
    assert "<script>" not in svg


def test_a_profile_from_the_report_is_escaped(
    tmp_path: Path, reports: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = copy.deepcopy(reports["passed"])
    doc["suite"]["profile"] = "<p>&"
    assert main(["report", "badge", str(write(tmp_path, doc))]) == 0
    assert parse(capsys.readouterr().out)[0] == "daskwire <p>&: 7/7"


def _broken(tmp_path: Path, what: str, reports: dict[str, dict[str, Any]]) -> Path:
    path = tmp_path / "report.json"
    good = reports["passed"]
    contents: bytes
    if what == "missing":
        return tmp_path / "nonexistent.json"
    if what == "folder":
        return tmp_path
    if what == "not-utf8":
        contents = b"\xff\xfe{}"
    elif what == "not-json":
        contents = b'<?xml version="1.0"?><testsuites/>'
    elif what == "deep":
        contents = b"[" * 100_000
    elif what == "array":
        contents = b"[1, 2]"
    elif what == "other-format":
        contents = json.dumps({**good, "format": "daskwire-report/9"}).encode()
    elif what == "no-summary":
        contents = json.dumps({k: v for k, v in good.items() if k != "summary"}).encode()
    elif what == "bad-count":
        contents = json.dumps({**good, "summary": {**good["summary"], "passed": -1}}).encode()
    else:  # counts that do not add up
        contents = json.dumps({**good, "summary": {**good["summary"], "total": 99}}).encode()
    path.write_bytes(contents)
    return path


# a broken input, and what the error says about it
BAD_INPUTS = [
    ("missing", "cannot read report {path}: No such file or directory"),
    ("folder", "cannot read report {path}: Is a directory"),
    ("not-utf8", "report {path} is not UTF-8 text"),
    ("not-json", "report {path} is not JSON: "),
    ("deep", "report {path} is not JSON: nested too deeply to read"),
    ("array", "{path} is not a daskwire report: format 'list'"),
    ("other-format", "{path} is not a daskwire report: format 'daskwire-report/9'"),
    ("no-summary", "does not follow report.schema.json: $: 'summary' is a required property"),
    ("bad-count", "does not follow report.schema.json: $.summary.passed: -1 is less than"),
    ("sum", "summary counts do not add up to its total 99"),
]


@pytest.mark.parametrize(("what", "message"), BAD_INPUTS)
def test_what_is_not_a_report_is_a_usage_error(
    tmp_path: Path,
    reports: dict[str, dict[str, Any]],
    what: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _broken(tmp_path, what, reports)
    out = tmp_path / "badge.svg"
    assert main(["report", "badge", str(path), "-o", str(out)]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == ""
    assert err.startswith("daskwire report badge: ")
    assert message.format(path=path) in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_an_output_path_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, reports: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    report = write(tmp_path, reports["passed"])
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out in (tmp_path, blocker / "badge.svg"):
        assert main(["report", "badge", str(report), "-o", str(out)]) == 2
        assert f"daskwire report badge: cannot write {out}: " in capsys.readouterr().err


def test_report_without_an_action_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 2
    assert "badge" in capsys.readouterr().err
