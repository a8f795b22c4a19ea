"""Interrupting `daskwire check`: SIGINT, SIGTERM and SIGHUP end the run as incomplete (exit 4),
kill the testee's process group and still write every report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
FIXTURES = HOSTILE / "vectors"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def interrupt_while_hanging(
    tmp_path: Path, sig: signal.Signals, script: str, *args: str
) -> tuple[subprocess.Popen[str], str, int]:
    """Start a check, wait until the testee hangs, send `sig` to the runner; return the
    finished runner, its stdout and the testee's pid."""
    marker = tmp_path / "hanging"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "daskwire_conformance.cli", "check",
            "--vectors", str(FIXTURES), "--timeout", "60", "--start-timeout", "60",
            "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "r.xml"),
            "--markdown-summary", str(tmp_path / "r.md"), *args,
            "--", sys.executable, str(HOSTILE / script),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DASKWIRE_HANG_MARKER": str(marker)},
    )  # fmt: skip
    testee = 0
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the testee never started hanging"
        testee = int(marker.read_text())
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if testee and not wait_gone(testee, 5.0):
            os.kill(testee, signal.SIGKILL)  # leave no process behind, even when failing
    return proc, out, testee


CASES = [
    (signal.SIGTERM, "hang.py", []),
    (signal.SIGTERM, "hang.py", ["-j", "2"]),
    (signal.SIGHUP, "hang.py", []),
    (signal.SIGINT, "hang.py", []),
    (signal.SIGTERM, "never_start.py", []),
]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("sig", "script", "args"), CASES, ids=[f"{c[0].name}-{c[1]}-{''.join(c[2])}" for c in CASES]
)
def test_a_signal_ends_the_run_as_incomplete_and_kills_the_testee(
    tmp_path: Path, sig: signal.Signals, script: str, args: list[str]
) -> None:
    proc, out, testee = interrupt_while_hanging(tmp_path, sig, script, *args)
    assert proc.returncode == 4, out
    assert "INCOMPLETE RUN" in out
    assert "passed." not in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["run"]["interrupted"] is True
    assert doc["run"]["complete"] is False
    assert doc["run"]["harness_error"] is None
    assert f"interrupted by {sig.name}" in doc["run"]["notes"]
    assert doc["summary"]["exit_code"] == 4
    assert doc["summary"]["errored"] == 0  # the vector in flight is not blamed on the testee
    assert "incomplete run" in (tmp_path / "r.xml").read_text()
    assert "Incomplete run" in (tmp_path / "r.md").read_text()
    assert wait_gone(testee), "the testee outlived the interrupted run"


HANGING_OBJECT = """
import os, time
from pathlib import Path
from daskwire_conformance.testee import ReferenceTestee


class Hanging(ReferenceTestee):
    def stream(self, *args, **kwargs):
        Path(os.environ["DASKWIRE_HANG_MARKER"]).write_text(str(os.getpid()))
        time.sleep(3600)
"""


@pytest.mark.timeout(90)
def test_sigterm_interrupts_an_in_process_target_too(tmp_path: Path) -> None:
    (tmp_path / "hanging_object.py").write_text(HANGING_OBJECT)
    marker = tmp_path / "hanging"
    proc = subprocess.Popen(
        [sys.executable, "-m", "daskwire_conformance.cli", "check", "--vectors", str(FIXTURES),
         "--json-report", str(tmp_path / "r.json"), "--python", "hanging_object:Hanging"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={
            **os.environ,
            "DASKWIRE_HANG_MARKER": str(marker),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.getenv("PYTHONPATH")])),
        },
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the object never started hanging"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 4, out + err
    assert "Traceback" not in err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["run"]["interrupted"] is True
    assert "interrupted by SIGTERM" in doc["run"]["notes"]


NOHUP_MAIN = (
    "import signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
    "from daskwire_conformance.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.timeout(60)
def test_an_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    """Under nohup a run goes on through SIGHUP."""
    marker = tmp_path / "hanging"
    proc = subprocess.Popen(
        [sys.executable, "-c", NOHUP_MAIN,
         "check", "--vectors", str(FIXTURES), "--timeout", "3",
         "--json-report", str(tmp_path / "r.json"),
         "--", sys.executable, str(HOSTILE / "hang.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DASKWIRE_HANG_MARKER": str(marker)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, out  # the hang is blamed after its deadline; the run completes
    assert json.loads((tmp_path / "r.json").read_text())["run"]["complete"] is True
