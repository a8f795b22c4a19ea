"""Dies on a stream request after writing to stderr: blamed, restarted, and the run goes on."""

import os
import sys

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        sys.stderr.write("boom: stream reader fell over\n")
        sys.stderr.flush()
        os._exit(3)
    return False


main(misbehave)
