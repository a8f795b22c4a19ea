"""The `daskwire` command as a whole: every subcommand exits quietly when its reader goes away."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from daskwire_conformance import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "hostile" / "vectors"
REFERENCE = "daskwire_conformance.testee:ReferenceTestee"
START = json.dumps({"seq": 1, "cmd": "start", "protocol": 1}) + "\n"


def run_into_a_closed_pipe(args: list[str], stdin: str = "") -> tuple[int, str]:
    """Run `daskwire ARGS` with a standard output nobody reads: its first write fails."""
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daskwire_conformance.cli", *args],
            stdin=subprocess.PIPE,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
        os.close(read_end)  # before the child can write: a broken pipe every time
    _, err = proc.communicate(stdin.encode(), timeout=120)
    return proc.returncode, err.decode(errors="replace")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.json"
    args = ["check", "--vectors", str(FIXTURES), "--python", REFERENCE, "--json-report", str(path)]
    assert cli.main(args) == 0
    return path


#: Python's exit status on a broken pipe (its `signal` documentation's SIGPIPE note).
BROKEN = 1
#: argparse writes --help and --version itself and ignores a failed write: status 0.
ARGPARSE = 0

# every subcommand that writes to standard output, the global options that do, and the exit
BROKEN_PIPE_CASES = [
    (["--help"], ARGPARSE),
    (["--version"], ARGPARSE),
    (["check", "--help"], ARGPARSE),
    (["vectors", "generate", "--help"], ARGPARSE),
    (["vectors", "list"], BROKEN),
    (["vectors", "list", "--long", "--requirement", "PH-4"], BROKEN),
    (["vectors", "list", "--summary"], BROKEN),
    (["vectors", "show", "encode/pr-examples/g1"], BROKEN),
    (["vectors", "show", "--json", "stream/chunking/g1/byte-by-byte"], BROKEN),
    (["check", "--vectors", str(FIXTURES), "--python", REFERENCE], BROKEN),
    (["serve"], BROKEN),
    (["report", "badge", "REPORT"], BROKEN),
]


@pytest.mark.parametrize(("args", "code"), BROKEN_PIPE_CASES, ids=lambda x: str(x)[-50:])
def test_a_closed_standard_output_ends_the_command_quietly(
    args: list[str], code: int, report: Path
) -> None:
    args = [str(report) if a == "REPORT" else a for a in args]
    got, err = run_into_a_closed_pipe(args, stdin=START if args == ["serve"] else "")
    assert err == ""
    assert got == code


def test_the_subcommands_are_the_ones_listed() -> None:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(commands.choices) == [
        "check",
        "inspect",
        "report",
        "serve",
        "spec",
        "tap",
        "vectors",
    ]
