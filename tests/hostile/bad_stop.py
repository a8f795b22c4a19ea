"""Exits with status 5 on stop, without replying: the run notes it."""

import os

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stop":
        os._exit(5)
    return False


main(misbehave)
