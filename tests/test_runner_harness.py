"""The runner against hostile testees: deadlines, crashes, garbage, caps, stderr, failed starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance.cli import main
from daskwire_conformance.runner.harness import STDERR_KEEP_BYTES

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
FIXTURES = HOSTILE / "vectors"
BLAMED = "stream/basic/two-messages"  # every hostile script misbehaves on the stream request


def check(tmp_path: Path, script: str, *args: str) -> tuple[int, dict[str, Any], float]:
    report = tmp_path / "report.json"
    began = time.monotonic()
    code = main(
        [
            "check",
            "--vectors",
            str(FIXTURES),
            "--json-report",
            str(report),
            *args,
            "--",
            sys.executable,
            str(HOSTILE / script),
        ]
    )
    return code, json.loads(report.read_text()), time.monotonic() - began


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in doc["results"]}


# script, extra options, the failure blamed on the stream vector, text in its message or stderr,
# longest acceptable wall time
MISBEHAVIOURS = [
    ("hang.py", ["--timeout", "1"], "timeout", "no reply within 1 s", 8.0),
    ("crash.py", [], "crash", "boom: stream reader fell over", 8.0),
    ("exit_early.py", [], "crash", "exited with status 0", 8.0),
    ("garbage.py", [], "garbage", "not JSON", 8.0),
    ("wrong_seq.py", [], "wrong-seq", "does not echo", 8.0),
    (
        "huge.py",
        ["--max-reply-bytes", "1048576", "--timeout", "30"],
        "oversize",
        "longer than",
        8.0,
    ),
    ("stderr_flood.py", [], "crash", "last words", 8.0),
]


@pytest.mark.parametrize(
    ("script", "args", "failure", "text", "seconds"),
    MISBEHAVIOURS,
    ids=[m[0] for m in MISBEHAVIOURS],
)
def test_misbehaviour_blames_one_vector_and_the_run_goes_on(
    tmp_path: Path, script: str, args: list[str], failure: str, text: str, seconds: float
) -> None:
    code, doc, elapsed = check(tmp_path, script, *args)
    assert code == 1
    results = by_id(doc)
    blamed = results.pop(BLAMED)
    assert blamed["outcome"] == "errored"
    (check_doc,) = blamed["details"]["checks"]
    assert check_doc["failure"] == failure
    assert text in check_doc["message"] + check_doc.get("stderr", "")
    # every other vector passed, including the one run after the restart
    assert {r["outcome"] for r in results.values()} == {"passed"}
    assert "wire/basic/one-message" in results
    assert doc["run"]["complete"] is True
    assert doc["run"]["restarts"] == 1
    assert doc["summary"]["errored"] == 1
    assert elapsed < seconds


def test_stderr_is_captured_bounded_and_attached_to_the_vector(tmp_path: Path) -> None:
    _, doc, _ = check(tmp_path, "stderr_flood.py")
    stderr = by_id(doc)[BLAMED]["details"]["checks"][0]["stderr"]
    assert stderr.rstrip().endswith("last words")
    assert "earlier bytes dropped" in stderr
    assert len(stderr) < STDERR_KEEP_BYTES + 200
    others = [r for r in doc["results"] if r["id"] != BLAMED]
    assert all("stderr" not in c for r in others for c in r["details"].get("checks", []))


# script, extra options, text in the harness error
HARNESS_ERRORS = [
    ("never_start.py", ["--start-timeout", "1", "--timeout", "1"], "warming up forever"),
    ("bad_start.py", [], "testee speaks harness protocol 3; this runner speaks 1 and 2"),
    ("v2_no_profiles.py", [], "a protocol 2 start result needs a profiles object"),
    ("v2_other_profile.py", [], "implements the profiles 'dask-1999.1', not placeholder-v1"),
    ("protocol_switch.py", [], "testee spoke another harness protocol after a restart"),
    ("always_crash.py", ["--max-restarts", "2"], "restart budget exhausted (2 restarts)"),
    ("not_a_program.py", [], "missing configuration file"),
]


@pytest.mark.parametrize(
    ("script", "args", "text"), HARNESS_ERRORS, ids=[h[0] for h in HARNESS_ERRORS]
)
def test_harness_errors_end_the_run_with_exit_3_never_green(
    tmp_path: Path, script: str, args: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, elapsed = check(tmp_path, script, *args)
    out = capsys.readouterr().out
    assert code == 3
    assert text in doc["run"]["harness_error"]
    assert doc["run"]["complete"] is False
    assert doc["summary"]["exit_code"] == 3
    assert doc["summary"]["total"] < doc["run"]["selected"]
    assert "HARNESS ERROR" in out
    assert "INCOMPLETE RUN" in out
    assert elapsed < 10


def test_an_incomplete_run_is_an_error_in_junit(tmp_path: Path) -> None:
    from junitparser import JUnitXml

    junit = tmp_path / "r.xml"
    code, _, _ = check(tmp_path, "bad_start.py", "--junit-xml", str(junit))
    assert code == 3
    assert JUnitXml.fromfile(str(junit)).errors == 1


def test_a_command_that_does_not_exist_is_a_harness_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--vectors", str(FIXTURES), "--", str(tmp_path / "no-such-testee")])
    assert code == 3
    assert "cannot start testee" in capsys.readouterr().out


def test_restarted_testee_gets_start_again_and_jobs_shard_the_vectors(tmp_path: Path) -> None:
    code, doc, _ = check(tmp_path, "crash.py", "-j", "3")
    assert code == 1
    assert doc["run"]["jobs"] == 3
    assert doc["summary"] == {**doc["summary"], "passed": 6, "errored": 1, "total": 7}


def test_an_interrupted_run_exits_4_and_says_so(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    marker = tmp_path / "hanging"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daskwire_conformance.cli",
            "check",
            "--vectors",
            str(FIXTURES),
            "--timeout",
            "60",
            "--json-report",
            str(report),
            "--",
            sys.executable,
            str(HOSTILE / "hang.py"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DASKWIRE_HANG_MARKER": str(marker)},
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the testee never reached the stream vector"
    proc.send_signal(signal.SIGINT if os.name == "posix" else signal.CTRL_C_EVENT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 4, out
    doc = json.loads(report.read_text())
    assert doc["run"]["interrupted"] is True
    assert doc["run"]["complete"] is False
    assert "INCOMPLETE RUN" in out


@pytest.mark.parametrize(
    ("args", "outcome", "failure"),
    [([], "failed", "rejected-valid"), (["--validate-protocol"], "errored", "protocol")],
)
def test_validate_protocol_checks_replies_against_the_schema(
    tmp_path: Path, args: list[str], outcome: str, failure: str
) -> None:
    code, doc, _ = check(tmp_path, "bad_category.py", *args)
    assert code == 1
    blamed = by_id(doc)[BLAMED]
    assert (blamed["outcome"], blamed["details"]["checks"][0]["failure"]) == (outcome, failure)
    assert doc["summary"]["passed"] == 6


def test_stderr_written_before_the_first_request_is_in_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy machine sends `start` after the testee has already written why it fails and
    exited: the runner is made that slow here, by waiting for the exit before the request."""
    from daskwire_conformance.runner import harness

    started = harness._Process.__init__

    def late(self: Any, *args: Any, **kwargs: Any) -> None:
        started(self, *args, **kwargs)
        self.proc.wait(timeout=10)
        assert self.stderr.done.wait(10)

    monkeypatch.setattr(harness._Process, "__init__", late)
    code, doc, _ = check(tmp_path, "not_a_program.py")
    assert code == 3
    assert "missing configuration file" in doc["run"]["harness_error"]
