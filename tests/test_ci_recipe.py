"""The CI recipe works: its workflow's shell steps, run here against the reference testee."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from daskwire_conformance.common.suite import load_vectors
from daskwire_conformance.runner.protocol import load_registry, schema_uri
from jsonschema import Draft202012Validator
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "spec" / "ci-recipe.md"
BIN = Path(sys.executable).parent
CHECK = (
    "daskwire check --json-report report.json --junit-xml junit.xml "
    "--markdown-summary summary.md -- ./my-testee"
)
BADGE = "daskwire report badge report.json -o badge.svg"
#: Steps that make what this test's environment has already: the kit, and a testee.
SETUP = {
    "Install the daskwire kit": "python -m pip install daskwire",
    "Build the testee": "make my-testee",
}
#: The longest one step may take; the check of every vector takes seconds.
STEP_SECONDS = 240


def fenced(language: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)


def run_steps() -> list[dict[str, Any]]:
    [block] = fenced("yaml")
    workflow = yaml.safe_load(block)
    [job] = workflow["jobs"].values()
    return [step for step in job["steps"] if "run" in step]


def test_the_page_shows_the_commands_the_workflow_runs() -> None:
    assert fenced("sh") == [CHECK + "\n", BADGE + "\n"]
    runs = [step["run"] for step in run_steps()]
    assert CHECK in runs
    assert BADGE in runs


def _testee(folder: Path) -> None:
    """`./my-testee`: the reference testee, as the build step would leave a real one of one
    profile (the recipe's commands are for a testee of one profile)."""
    script = folder / "my-testee"
    command = f'exec "{BIN / "daskwire"}" serve --profile placeholder-v1 "$@"'
    script.write_text(f"#!/bin/sh\n{command}\n", encoding="utf-8")
    script.chmod(0o755)


def _run(step: dict[str, Any], folder: Path, env: dict[str, str]) -> None:
    assert "${{" not in step["run"], step["name"]  # GitHub would expand it; bash cannot
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (step["name"], done.stdout[-3000:], done.stderr[-3000:])


@pytest.mark.timeout(STEP_SECONDS * 3)
def test_the_workflow_runs_against_the_reference_testee(tmp_path: Path) -> None:
    steps = run_steps()
    assert {s["name"]: s["run"] for s in steps if s["name"] in SETUP} == SETUP
    _testee(tmp_path)
    step_summary = tmp_path / "github-step-summary.md"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_STEP_SUMMARY": str(step_summary),
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    for step in steps:
        if step["name"] not in SETUP:
            _run(step, tmp_path, env)

    total = len(load_vectors())
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(
        {"$ref": schema_uri("report.schema.json")},
        registry=load_registry(ROOT / "spec" / "schemas"),
    )
    assert list(validator.iter_errors(report)) == []
    assert report["run"]["complete"] is True
    assert report["summary"]["exit_code"] == 0
    assert report["summary"]["passed"] == report["summary"]["total"] == total

    junit = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    assert sum(suite.tests for suite in junit) == total
    assert sum(suite.failures + suite.errors for suite in junit) == 0

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## daskwire conformance: passed")
    assert summary.rstrip().endswith(f"{total} passed, 0 failed, 0 skipped")
    assert step_summary.read_text(encoding="utf-8") == summary

    badge = ET.parse(tmp_path / "badge.svg").getroot()
    assert badge.findtext("{http://www.w3.org/2000/svg}title") == (
        f"daskwire placeholder-v1: {total}/{total}"
    )
