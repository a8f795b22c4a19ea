"""Starts a child that keeps stdout open, then dies on a stream request: a crash, not a hang."""

import os

from _common import main
from _spawn import spawn_sleeper


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        spawn_sleeper(keep_stdio=True)
        os._exit(3)
    return False


main(misbehave)
