"""Starts a long-sleeping child process of a hostile testee and records its pid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def spawn_sleeper(*, keep_stdio: bool) -> None:
    """A child in the testee's process group; with keep_stdio it holds the testee's pipes."""
    stdio = None if keep_stdio else subprocess.DEVNULL
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        stdin=subprocess.DEVNULL,
        stdout=stdio,
        stderr=stdio,
    )
    record = os.environ.get("DASKWIRE_CHILD_PID_FILE")
    if record:
        with Path(record).open("a", encoding="utf-8") as out:
            out.write(f"{child.pid}\n")
