"""Never answers a stream request: the runner's deadline must kill it."""

import os
import time
from pathlib import Path

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        marker = os.environ.get("DASKWIRE_HANG_MARKER")
        if marker:  # tells a test that the testee is now hanging, and which process it is
            Path(marker).write_text(str(os.getpid()))
        time.sleep(3600)
    return False


main(misbehave)
