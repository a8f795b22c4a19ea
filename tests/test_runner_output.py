"""What the runner writes: testee text cut and made printable in every output, stderr only for
results that do not pass, the input of a failing vector, causes grouped, progress without a TTY."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner import report as report_module
from daskwire_conformance.runner.judge import Check, Result
from daskwire_conformance.runner.protocol import load_registry, schema_uri
from daskwire_conformance.runner.report import ConsoleReporter, junit_xml, markdown_summary
from daskwire_conformance.runner.run import Run, summarize
from jsonschema import Draft202012Validator
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
FIXTURES = HOSTILE / "vectors"
BLAMED = "stream/basic/two-messages"
LOUD_BYTES = 20 * 2**20
LOUD_CHARS = LOUD_BYTES + len("loud\x00\x1b[2J\ud800\r")
#: No output of a run over the 7 fixtures needs more than this, whatever the testee sends.
OUTPUT_CAP = 100_000


def report_errors(doc: Any) -> list[Any]:
    registry = load_registry(ROOT / "spec" / "schemas")
    validator = Draft202012Validator({"$ref": schema_uri("report.schema.json")}, registry=registry)
    return list(validator.iter_errors(doc))


def run_check(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `daskwire check` as a process with every report; return its code and stdout."""
    proc = subprocess.run(
        [
            sys.executable, "-m", "daskwire_conformance.cli", "check", "--vectors", str(FIXTURES),
            "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "r.xml"),
            "--markdown-summary", str(tmp_path / "r.md"), *args,
        ],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("where", "code"),
    [("errored", 1), ("rejected", 1), ("skipped", 1), ("start", 0)],
)
def test_testee_text_is_cut_and_printable_in_every_output(
    tmp_path: Path, where: str, code: int
) -> None:
    got, console = run_check(
        tmp_path,
        "--", sys.executable, str(HOSTILE / "loud.py"), where,
        env={"DASKWIRE_LOUD_BYTES": str(LOUD_BYTES)},
    )  # fmt: skip
    assert got == code, console[-3000:]
    outputs = {
        "console": console,
        "json": (tmp_path / "r.json").read_text(encoding="utf-8"),
        "junit": (tmp_path / "r.xml").read_text(encoding="utf-8"),
        "markdown": (tmp_path / "r.md").read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        assert len(text) < OUTPUT_CAP, (name, len(text))
        assert f"cut: {LOUD_CHARS} characters in all" in text, name
        if name != "json":  # JSON escapes them itself
            assert "\x1b" not in text, name
            assert "\x00" not in text, name
    doc = json.loads(outputs["json"])
    assert report_errors(doc) == []
    JUnitXml.fromfile(str(tmp_path / "r.xml"))  # well-formed


@pytest.mark.timeout(120)
def test_stderr_is_kept_only_for_results_that_do_not_pass(tmp_path: Path) -> None:
    got, console = run_check(tmp_path, "--", sys.executable, str(HOSTILE / "chatty.py"))
    assert got == 1, console[-3000:]
    doc = json.loads((tmp_path / "r.json").read_text())
    with_stderr = {
        r["id"] for r in doc["results"] for c in r["details"].get("checks", []) if "stderr" in c
    }
    assert with_stderr == {BLAMED}
    assert len((tmp_path / "r.json").read_text()) < 30_000


@pytest.mark.timeout(120)
def test_stderr_on_the_console_is_cut_with_a_note(tmp_path: Path) -> None:
    got, console = run_check(
        tmp_path, "--", sys.executable, str(HOSTILE / "loud.py"), "stderr",
        env={"DASKWIRE_LOUD_BYTES": "20000"},
    )  # fmt: skip
    assert got == 1
    assert "earlier characters cut" in console
    assert "\x1b" not in console
    assert len(console) < OUTPUT_CAP


@pytest.mark.timeout(120)
def test_a_failing_vector_shows_its_input_and_how_to_see_it(tmp_path: Path) -> None:
    got, console = run_check(tmp_path, "--", sys.executable, str(HOSTILE / "chatty.py"))
    assert got == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert report_errors(doc) == []
    results = {r["id"]: r for r in doc["results"]}
    details = results[BLAMED]["details"]
    assert details["input"]["chunks"][0] == "0200000000"
    assert details["show"] == f"daskwire vectors show {BLAMED}"
    assert "input" not in results["wire/basic/one-message"]["details"]  # passed
    assert f"daskwire vectors show {BLAMED}" in console
    assert '"chunks":["0200000000",' in console
    assert f"daskwire vectors show {BLAMED}" in (tmp_path / "r.xml").read_text()


# -- grouping and ordering, on hand-made results -------------------------------------------


def result(
    vector_id: str, outcome: str, *, reqs: tuple[str, ...] = ("CE-1",), **check: Any
) -> Result:
    checks = () if outcome == "skipped" else (Check(outcome=outcome, **check),)
    return Result(
        id=vector_id,
        kind="encode",
        level="required",
        requirements=reqs,
        outcome=outcome,
        checks=checks,
        reason=check.get("message", "") if outcome != "skipped" else check["message"],
    )


def summary_of(results: list[Result]) -> Any:
    run = Run(
        target="t",
        results=tuple(results),
        selected=len(results),
        start={"implementation": {"name": "x", "version": "1", "language": "c"}},
        complete=True,
    )
    return summarize(run)


def lz4_and_friends() -> list[Result]:
    results = [
        result(f"encode/lz4/v{i:03}", "errored", failure="testee-errored",
               message="lz4 not implemented", reqs=("CP-10",))
        for i in range(99)
    ]  # fmt: skip
    results += [
        result(f"decode/header/m{i}", "failed", failure="mismatch",
               message=f"frame 1, byte {i}: expected 00, got 01", reqs=("CE-2",))
        for i in range(3)
    ]  # fmt: skip
    results += [result("wire/basic/a", "errored", failure="timeout", message="no reply")]
    results += [result(f"encode/basic/p{i}", "passed", reqs=(f"CE-{i}",)) for i in range(1, 12)]
    return results


def test_failures_are_grouped_by_cause_most_vectors_first() -> None:
    summary = summary_of(lz4_and_friends())
    out = io.StringIO()
    ConsoleReporter(out).report(summary)
    text = out.getvalue()
    causes = text[text.index("by cause") :]
    first, second, third = [line for line in causes.splitlines()[1:] if line[:8].strip()][:3]
    assert first.split() == ["99", "testee-errored:", "lz4", "not", "implemented"]
    assert second.split()[:2] == ["3", "mismatch"]
    assert third.split()[:2] == ["1", "timeout"]
    md = markdown_summary(summary)
    assert md.index("lz4 not implemented") < md.index("| mismatch")


def test_requirement_ids_sort_by_number() -> None:
    summary = summary_of(lz4_and_friends())
    out = io.StringIO()
    ConsoleReporter(out, verbose=True).report(summary)
    text = out.getvalue()
    table = text[text.index("By requirement:") :]
    order = [line.split()[0] for line in table.splitlines()[2:] if line.startswith("    CE-")]
    assert order == sorted(order, key=lambda r: int(r.split("-")[1]))
    assert order[:3] == ["CE-1", "CE-2", "CE-3"]


def test_the_markdown_summary_stays_short_with_many_failures() -> None:
    results = [
        result(f"decode/area{i % 40}/v{i}", "failed", failure="mismatch",
               message=f"difference number {i} " + "y" * 5000)
        for i in range(3000)
    ]  # fmt: skip
    results += [
        result(f"encode/x/e{i}", "errored", failure="testee-errored", message=f"error {i}")
        for i in range(500)
    ]
    md = markdown_summary(summary_of(results))
    assert len(md) < 20_000
    assert "3000" in md
    assert md.rstrip().endswith("0 passed, 3500 failed, 0 skipped")
    assert junit_xml(summary_of(results[:3]))  # renders


def test_the_markdown_summary_appends_to_the_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = tmp_path / "step-summary.md"
    step.write_text("earlier step output\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    code = main(["check", "--vectors", str(FIXTURES), "--markdown-summary", str(step)])
    assert code == 0
    text = step.read_text()
    assert text.startswith("earlier step output\n")
    assert "7 passed, 0 failed, 0 skipped" in text


# -- progress without a terminal ------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_slow_run_prints_progress_lines_without_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(report_module, "PROGRESS_SECONDS", 0.5)
    began = time.monotonic()
    code = main(
        ["check", "--vectors", str(FIXTURES), "--timeout", "2.5",
         "--", sys.executable, str(HOSTILE / "hang.py")]
    )  # fmt: skip
    assert code == 1
    assert time.monotonic() - began < 20
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("progress:")]
    assert len(lines) >= 2, err
    assert "of 7 vectors" in lines[0]


@pytest.mark.timeout(120)
def test_a_reply_with_200000_frames_keeps_the_reports_small(tmp_path: Path) -> None:
    got, console = run_check(tmp_path, "--", sys.executable, str(HOSTILE / "many_frames.py"))
    assert got == 1, console[-3000:]
    doc = json.loads((tmp_path / "r.json").read_text())
    results = {r["id"]: r for r in doc["results"]}
    (accepted,) = results["invalid/basic/trailing-byte"]["details"]["checks"]
    assert accepted["failure"] == "accepted-invalid"
    assert accepted["actual"]["truncated"].startswith('{"frames":["00","00",')
    # the unpack check (a testee that declares pack gets a pack check too)
    check = results["wire/basic/one-message"]["details"]["checks"][0]
    assert check["failure"] == "mismatch"
    assert check["message"] == "frames differ from the golden frames: expected 2 frames, got 200000"
    assert check["actual"][-1] == {"more_frames": 200_000 - 64}
    for name in ("r.json", "r.xml", "r.md"):
        assert (tmp_path / name).stat().st_size < 30_000, name
    assert len(console) < 30_000
