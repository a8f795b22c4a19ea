"""Exits with status 0 on a stream request without replying (an early exit, not a crash)."""

import sys

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        sys.exit(0)
    return False


main(misbehave)
