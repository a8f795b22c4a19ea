"""The pytest plugin: vectors as test items with --daskwire-target, and nothing without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "hostile" / "vectors"
REFERENCE = "python:daskwire_conformance.testee:ReferenceTestee"


def pytest_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "target",
    [REFERENCE, f"cmd:{sys.executable} {ROOT / 'examples' / 'python-testee' / 'testee.py'}"],
    ids=["python", "cmd"],
)
def test_every_vector_is_an_item_named_by_its_id(tmp_path: Path, target: str) -> None:
    proc = pytest_run(tmp_path, f"--daskwire-target={target}", f"--daskwire-vectors={FIXTURES}")
    assert proc.returncode == 0, proc.stdout
    assert "7 passed" in proc.stdout
    assert "daskwire::invalid/basic/trailing-byte" in proc.stdout


def test_a_failing_vector_fails_its_item_with_the_verdict(tmp_path: Path) -> None:
    mutant = f"cmd:{sys.executable} {ROOT / 'tests' / 'mutants' / 'ignore_trailing_bytes.py'}"
    proc = pytest_run(tmp_path, f"--daskwire-target={mutant}", f"--daskwire-vectors={FIXTURES}")
    assert proc.returncode == 1
    assert "1 failed, 6 passed" in proc.stdout
    assert "FAILED daskwire::invalid/basic/trailing-byte" in proc.stdout
    assert "accepted-invalid" in proc.stdout


def test_selection_and_baseline_options(tmp_path: Path) -> None:
    mutant = f"cmd:{sys.executable} {ROOT / 'tests' / 'mutants' / 'ignore_trailing_bytes.py'}"
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("invalid/basic/trailing-byte accepted-invalid\n")
    proc = pytest_run(
        tmp_path,
        f"--daskwire-target={mutant}",
        f"--daskwire-vectors={FIXTURES}",
        "--daskwire-run=invalid/*",
        "--daskwire-skip=*reserved*",
        f"--daskwire-baseline={baseline}",
    )
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 1 xfailed" in proc.stdout


def test_without_the_option_the_plugin_does_nothing_and_imports_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(
        "import sys\n\n"
        "def test_untouched():\n"
        "    assert 'daskwire' not in sys.modules\n"
        "    assert 'daskwire_conformance.common.suite' not in sys.modules\n"
    )
    proc = pytest_run(tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed" in proc.stdout
    assert "daskwire::" not in proc.stdout
    help_text = pytest_run(tmp_path, "--help").stdout
    assert "--daskwire-target" in help_text


@pytest.mark.parametrize(
    ("option", "write", "message"),
    [
        ("--daskwire-vectors={tmp}/nowhere", None, "does not exist"),
        ("--daskwire-vectors={tmp}/empty", "empty", "has no vector files"),
        ("--daskwire-baseline={tmp}/base.txt", b"\xff\xfe not utf-8\n", "UTF-8"),
        ("--daskwire-baseline={tmp}/base.txt", b"invalid/basic/x no-such-reason\n", "base.txt"),
    ],
    ids=["missing-vectors", "empty-vectors", "baseline-not-utf8", "baseline-bad-signature"],
)
def test_a_bad_folder_or_baseline_is_a_usage_error_not_a_traceback(
    tmp_path: Path, option: str, write: bytes | str | None, message: str
) -> None:
    if write == "empty":
        (tmp_path / "empty").mkdir()
    elif isinstance(write, bytes):
        (tmp_path / "base.txt").write_bytes(write)
    args = [f"--daskwire-target={REFERENCE}", option.format(tmp=tmp_path)]
    if "baseline" in option:
        args.append(f"--daskwire-vectors={FIXTURES}")
    proc = pytest_run(tmp_path, *args)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "INTERNALERROR" not in proc.stdout + proc.stderr
