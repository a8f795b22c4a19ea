"""The testee's processes: the whole group ends with the run, deadlines are the ones given,
and the testee's standard input is closed after `stop`."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from test_runner_signals import alive, wait_gone

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
FIXTURES = HOSTILE / "vectors"
BLAMED = "stream/basic/two-messages"


def check(tmp_path: Path, script: str, *args: str) -> tuple[int, dict[str, Any], float]:
    report = tmp_path / "report.json"
    began = time.monotonic()
    code = main(
        ["check", "--vectors", str(FIXTURES), "--json-report", str(report), *args,
         "--", sys.executable, str(HOSTILE / script)]
    )  # fmt: skip
    return code, json.loads(report.read_text()), time.monotonic() - began


@pytest.fixture
def children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The pids of the children hostile testees start; any left alive are killed afterwards."""
    record = tmp_path / "children"
    monkeypatch.setenv("DASKWIRE_CHILD_PID_FILE", str(record))

    def pids() -> list[int]:
        return [int(p) for p in record.read_text().split()] if record.exists() else []

    yield pids
    for pid in pids():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_a_testee_that_dies_leaving_a_child_is_a_crash_and_the_child_is_killed(
    tmp_path: Path, children: Any
) -> None:
    code, doc, elapsed = check(tmp_path, "spawn_crash.py")
    assert code == 1
    blamed = next(r for r in doc["results"] if r["id"] == BLAMED)
    (check_doc,) = blamed["details"]["checks"]
    assert check_doc["failure"] == "crash", check_doc
    assert "exited with status 3" in check_doc["message"]
    assert elapsed < 6  # not the 10 s deadline
    assert doc["summary"]["passed"] == 6
    (child,) = children()
    assert wait_gone(child), "the testee's child outlived the run"


@pytest.mark.timeout(60)
def test_a_clean_stop_still_ends_the_testees_children(tmp_path: Path, children: Any) -> None:
    code, doc, _ = check(tmp_path, "spawn_linger.py")
    assert code == 0
    assert doc["run"]["notes"] == []
    (child,) = children()
    assert wait_gone(child), "the testee's child outlived the run"


@pytest.mark.timeout(60)
def test_stdin_is_closed_after_stop(tmp_path: Path) -> None:
    code, doc, elapsed = check(tmp_path, "wait_eof.py")
    assert code == 0
    assert doc["run"]["notes"] == []  # not "still running 2 s after stop; killed"
    assert elapsed < 5


@pytest.mark.timeout(60)
def test_the_start_deadline_is_the_one_given(tmp_path: Path) -> None:
    code, doc, elapsed = check(tmp_path, "never_start.py", "--start-timeout", "1")
    assert code == 3
    assert "no reply within 1 s" in doc["run"]["harness_error"]
    assert elapsed < 6  # not max(--start-timeout, --timeout) = 10 s


@pytest.mark.timeout(60)
def test_a_testee_that_fails_on_stop_is_noted(tmp_path: Path) -> None:
    code, doc, _ = check(tmp_path, "bad_stop.py")
    assert code == 0
    assert doc["run"]["notes"] == ["testee exited with status 5 after stop"]
