"""Reads the start request and never answers it."""

import os
import sys
import time
from pathlib import Path

sys.stdin.readline()
sys.stderr.write("warming up forever\n")
sys.stderr.flush()
marker = os.environ.get("DASKWIRE_HANG_MARKER")
if marker:  # tells a test that the testee is now hanging, and which process it is
    Path(marker).write_text(str(os.getpid()))
time.sleep(3600)
