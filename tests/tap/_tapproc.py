"""A `daskwire tap` subprocess for tests: started on a free port, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds a tap may take to start listening, and to stop after SIGTERM.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
#: The Python the tap runs under: this one, or another named by hand (for example a newer
#: Python whose transports keep the objects they are given), with the project importable.
PYTHON = os.environ.get("DASKWIRE_TAP_PYTHON") or sys.executable
_LISTENING = re.compile(r"listening on (\S+):(\d+)")
#: A message line: time, connection, direction, index, then the rest.
MESSAGE_LINE = re.compile(r"^\S+ conn (\d+) (c2s|s2c) #(\d+) (?!violation)(.*)$")


@dataclass
class TapProcess:
    """A running tap: where it listens, its output so far, and its exit code once stopped."""

    process: subprocess.Popen[bytes]
    output: Path
    host: str = ""
    port: int = 0
    returncode: int | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """The first match of `pattern` in the output, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text(), re.MULTILINE)
            if found:
                return found
            if time.monotonic() > deadline or self.process.poll() is not None:
                msg = f"no {pattern!r} in the tap's output:\n{self.text()[-3000:]}"
                raise AssertionError(msg)
            time.sleep(0.02)

    def stop(self) -> list[str]:
        """SIGTERM, wait for the exit, and return every line it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self.returncode = self.process.returncode
        self.lines = self.text().splitlines()
        return self.lines


@contextmanager
def running_tap(out_dir: Path, *args: str) -> Iterator[TapProcess]:
    """`daskwire tap ARGS` in a subprocess; always stopped and reaped on exit."""
    output = out_dir / f"tap-{time.monotonic_ns()}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [PYTHON, "-m", "daskwire_conformance.cli", "tap", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    tap = TapProcess(process, output)
    try:
        found = tap.wait_for(_LISTENING.pattern, START_TIMEOUT)
        tap.host, tap.port = found[1], int(found[2])
        yield tap
    finally:
        tap.stop()


def message_lines(lines: list[str]) -> dict[tuple[int, str], list[tuple[int, str]]]:
    """The message lines of a tap's output, by connection and direction, without times."""
    out: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for line in lines:
        found = MESSAGE_LINE.match(line)
        if found:
            key = (int(found[1]), found[2])
            out.setdefault(key, []).append((int(found[3]), found[4]))
    return out
