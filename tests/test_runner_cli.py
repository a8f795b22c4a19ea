"""`daskwire check` and `daskwire serve` from the command line: targets, options, reports, exits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner.protocol import load_registry, schema_uri
from jsonschema import Draft202012Validator
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "hostile" / "vectors"
EXAMPLE = ROOT / "examples" / "python-testee" / "testee.py"
GUIDE = ROOT / "spec" / "testee-guide.md"
REFERENCE = "daskwire_conformance.testee:ReferenceTestee"
FINAL_LINE = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")


def schema_validator(name: str) -> Draft202012Validator:
    registry = load_registry(ROOT / "spec" / "schemas")
    return Draft202012Validator({"$ref": schema_uri(name)}, registry=registry)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daskwire_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# how the target is named, on the fixtures
TARGETS = [
    ["--python", REFERENCE],
    ["--python", REFERENCE, "--validate-protocol"],
    [],
    ["-j", "2", "--validate-protocol"],
    ["--", sys.executable, "-m", "daskwire_conformance.cli", "serve"],
    ["--", sys.executable, str(EXAMPLE)],
]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: " ".join(t)[-40:] or "default")
def test_reference_and_example_pass_the_fixtures(
    tmp_path: Path, target: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--vectors", str(FIXTURES), *target])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[-1] == "7 passed, 0 failed, 0 skipped"


def test_reports_follow_their_formats(tmp_path: Path) -> None:
    json_path, junit_path, md_path = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    proc = run_cli(
        "check",
        "--vectors",
        str(FIXTURES),
        "--json-report",
        str(json_path),
        "--junit-xml",
        str(junit_path),
        "--markdown-summary",
        str(md_path),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert FINAL_LINE.match(proc.stdout.splitlines()[-1])
    doc = json.loads(json_path.read_text())
    assert list(schema_validator("report.schema.json").iter_errors(doc)) == []
    assert doc["summary"] == {
        "passed": 7, "failed": 0, "errored": 0, "skipped": 0, "xfailed": 0, "total": 7,
        "blocking": 0, "exit_code": 0,
    }  # fmt: skip
    assert doc["implementation"]["name"] == "daskwire"
    assert doc["suite"]["suite_version"] == "0.1.0"
    assert doc["runner"]["name"] == "daskwire"
    junit = JUnitXml.fromfile(str(junit_path))
    assert (junit.tests, junit.failures, junit.errors) == (7, 0, 0)
    assert md_path.read_text().rstrip().endswith("7 passed, 0 failed, 0 skipped")


def test_failures_are_reported_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "mutants"))
    json_path, junit_path, md_path = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    code = main(
        [
            "check", "--vectors", str(FIXTURES), "--python", "reorder_map_keys:Mutant",
            "--json-report", str(json_path), "--junit-xml", str(junit_path),
            "--markdown-summary", str(md_path),
        ]
    )  # fmt: skip
    assert code == 1
    doc = json.loads(json_path.read_text())
    assert list(schema_validator("report.schema.json").iter_errors(doc)) == []
    (bad,) = [r for r in doc["results"] if r["outcome"] != "passed"]
    assert bad["id"] == "encode/basic/small-map"
    assert bad["blocking"] is True
    assert bad["details"]["checks"][0]["diff"].startswith("first difference: frame 1")
    junit = JUnitXml.fromfile(str(junit_path))
    assert (junit.tests, junit.failures) == (7, 1)
    assert "`encode/basic/small-map`" in md_path.read_text()


def test_console_shows_unexpected_results_with_diff_and_requirements(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "mutants"))
    assert main(["check", "--vectors", str(FIXTURES), "--python", "reorder_map_keys:Mutant"]) == 1
    out = capsys.readouterr().out
    assert "FAIL encode/basic/small-map  [required; CE-1, CE-2]" in out
    assert "mismatch: first difference: frame 1" in out
    assert "--- expected" in out
    assert "PASS" not in out  # passes are not shown without -v
    assert "By area:" in out
    assert "By requirement:" in out
    assert out.splitlines()[-1] == "6 passed, 1 failed, 0 skipped"


def test_verbose_lists_every_vector(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "-v"]) == 0
    assert capsys.readouterr().out.count("PASS ") == 7


@pytest.mark.parametrize(
    ("run", "skip", "ids"),
    [
        (["invalid/*"], [], 3),
        (["invalid/*"], ["*trailing*"], 2),
        ([], ["invalid/*", "stream/*"], 3),
        (["*/basic/small-map", "wire/*"], [], 3),
    ],
)
def test_run_and_skip_select_by_id_glob(
    tmp_path: Path, run: list[str], skip: list[str], ids: int
) -> None:
    report = tmp_path / "r.json"
    args = [a for g in run for a in ("--run", g)] + [a for g in skip for a in ("--skip", g)]
    code = main(
        [
            "check",
            "--vectors",
            str(FIXTURES),
            "--python",
            REFERENCE,
            "--json-report",
            str(report),
            *args,
        ]
    )
    assert code == 0
    assert json.loads(report.read_text())["summary"]["total"] == ids


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--python", "no_such_module_here:X"], "cannot import"),
        (["--python", "json"], "expected MODULE:ATTR"),
        (["--python", "json:nothing"], "no attribute"),
        (["--python", "json:__version__"], "not a testee"),
        (["--python", "json:JSONDecodeError"], "cannot make a testee"),
        (["--python", REFERENCE, "--", "cat"], "not both"),
        (["--run", "nothing/*"], "no vectors selected"),
        (["--update-baseline"], "needs --baseline"),
        (["--baseline", "/nonexistent/baseline.txt"], "cannot read baseline"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--vectors", str(FIXTURES), *args]) == 2
    assert message in capsys.readouterr().err


def test_an_empty_vectors_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["check", "--vectors", str(tmp_path)]) == 2


@pytest.mark.parametrize("args", [["-j", "0"], ["--timeout", "-1"], ["--bogus"]])
def test_bad_options_exit_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", *args])
    assert exc.value.code == 2


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    for code, words in [
        (0, "passed"),
        (1, "failures"),
        (2, "usage error"),
        (3, "harness error"),
        (4, "incomplete run"),
    ]:
        assert re.search(rf"^\s+{code}\s+.*{words}", out, re.MULTILINE), (code, out)


def test_exit_codes_are_documented_on_the_site() -> None:
    text = (ROOT / "spec" / "harness.md").read_text()
    for code in range(5):
        assert re.search(rf"^\| {code} \| ", text, re.MULTILINE)


def test_serve_speaks_the_protocol() -> None:
    lines = [
        {"seq": 1, "cmd": "start", "protocol": 1},
        {"seq": 2, "cmd": "decode", "mode": "forwarding", "frames": ["", "c1"]},
        {"seq": 3, "cmd": "stop"},
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "daskwire_conformance.cli", "serve"],
        input="".join(json.dumps(x) + "\n" for x in lines),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["seq"] for r in replies] == [1, 2, 3]
    caps = replies[0]["result"]["capabilities"]
    assert caps == {
        "directions": ["encode", "decode-forwarding", "decode-consuming", "wire"],
        "codecs": ["lz4", "zlib"],
        "canonical": True,
        "limits": True,
        "encode-limits": True,
        "pack": True,
        "default-shard-size": True,
        "str-utf16": True,
    }
    assert replies[1]["outcome"] == "rejected"
    assert replies[1]["category"] == "invalid-msgpack"
    assert replies[2] == {"seq": 3, "outcome": "ok", "result": {}}
    validator = schema_validator("harness-reply.schema.json")
    for reply in replies:
        assert list(validator.iter_errors(reply)) == []
    requests = schema_validator("harness-request.schema.json")
    for request in lines:
        assert list(requests.iter_errors(request)) == []


def test_the_example_testee_is_under_50_lines_of_code() -> None:
    code = [
        line
        for line in EXAMPLE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert len(code) <= 50


def test_the_guide_shows_the_example_testee_byte_for_byte() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", guide, re.DOTALL | re.MULTILINE)
    assert EXAMPLE.read_text(encoding="utf-8") in blocks


def test_the_example_testee_passes_every_vector_of_the_suite(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "daskwire_conformance.cli", "check", "--json-report", str(report),
         "--", sys.executable, str(EXAMPLE)],
        capture_output=True, text=True, timeout=170, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    doc = json.loads(report.read_text())
    summary: dict[str, Any] = doc["summary"]
    assert summary["total"] > 0
    # It was written before the optional capabilities encode-limits and default-shard-size:
    # their vectors are skipped, naming the capability, and nothing else is.
    skipped = [r for r in doc["results"] if r["outcome"] == "skipped"]
    assert skipped
    assert all(not r["blocking"] and r["details"]["optional_capability"] for r in skipped)
    assert {r["details"]["reason"] for r in skipped} == {
        "capability 'encode-limits' not declared",
        "capability 'default-shard-size' not declared",
        "capability 'str-utf16' not declared",
    }
    assert summary["passed"] + len(skipped) == summary["total"]


def test_the_fixture_vectors_follow_the_vector_schema() -> None:
    from daskwire_conformance.common.suite import load_vectors

    assert len(load_vectors(FIXTURES, validate=True)) == 7


# -- nothing that did not run is called a pass; bad paths fail before the run ---------------


@pytest.mark.parametrize(
    "target",
    [["--", "false"], ["--python", "json:loads"], ["--", "/nonexistent/testee"]],
    ids=["false", "python-not-a-testee", "missing-command"],
)
def test_a_harness_error_never_prints_a_pass_line(
    target: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--vectors", str(FIXTURES), *target]) == 3
    out = capsys.readouterr().out
    assert "HARNESS ERROR" in out
    assert "passed." not in out
    assert "Every vector" not in out


@pytest.mark.parametrize("flag", ["--json-report", "--junit-xml", "--markdown-summary"])
@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_an_unwritable_report_path_is_a_usage_error_before_the_run(
    tmp_path: Path, flag: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path if where == "folder" else tmp_path / "a-file" / "report"
    assert main(["check", "--vectors", str(FIXTURES), flag, str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert f"{flag} {path}" in captured.err
    assert ("is a folder" if where == "folder" else "is not a folder") in captured.err


def test_one_path_for_two_reports_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "r.out")
    args = ["check", "--vectors", str(FIXTURES), "--json-report", path, "--junit-xml", path]
    assert main(args) == 2
    assert "same file" in capsys.readouterr().err


def test_an_unwritable_baseline_to_update_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    baseline = tmp_path / "a-file" / "baseline.txt"
    args = ["check", "--vectors", str(FIXTURES), "--baseline", str(baseline), "--update-baseline"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not a folder" in captured.err


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing", "does not exist"),
        ("file", "is not a folder"),
        ("empty", "has no vector files"),
    ],
)
def test_a_bad_vectors_folder_is_named_as_such(
    tmp_path: Path, where: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = {"missing": tmp_path / "nope", "file": tmp_path / "f", "empty": tmp_path}[where]
    (tmp_path / "f").write_text("")
    assert main(["check", "--vectors", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "--run" not in err


@pytest.mark.parametrize(
    "args",
    [["--timeout", "inf"], ["--start-timeout", "nan"], ["--max-restarts", "-1"]],
)
def test_numbers_out_of_range_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--vectors", str(FIXTURES), *args])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_python_target_whose_import_fails_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken_testee_module.py").write_text('raise RuntimeError("boom at import")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["check", "--vectors", str(FIXTURES), "--python", "broken_testee_module:T"]) == 2
    err = capsys.readouterr().err
    assert "importing 'broken_testee_module' raised RuntimeError: boom at import" in err
    assert "Traceback" not in err


def test_a_report_over_the_baseline_it_reads_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"format": "daskwire-baseline/1", "entries": []}\n')
    args = ["check", "--vectors", str(FIXTURES), "--baseline", str(baseline)]
    assert main([*args, "--json-report", str(baseline)]) == 2
    assert "the same file as --baseline" in capsys.readouterr().err
    assert json.loads(baseline.read_text())["entries"] == []  # untouched
