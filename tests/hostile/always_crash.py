"""Crashes on every request after start: the restart budget must run out."""

import os

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] not in ("start", "stop"):
        os._exit(7)
    return False


main(misbehave)
