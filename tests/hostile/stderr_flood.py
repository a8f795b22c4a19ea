"""Writes 1 MiB to stderr for a stream request, then crashes: stderr is kept, bounded."""

import os
import sys

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        sys.stderr.write("noise " * (2**20 // 6) + "\nlast words\n")
        sys.stderr.flush()
        os._exit(1)
    return False


main(misbehave)
