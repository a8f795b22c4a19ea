"""Writes 4 MiB with no newline for a stream request, then hangs: the output cap must trip."""

import sys
import time

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        sys.stdout.write("x" * (4 * 2**20))
        sys.stdout.flush()
        time.sleep(3600)
    return False


main(misbehave)
