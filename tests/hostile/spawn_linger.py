"""Starts a detached child at start, then behaves: the child must not outlive the run."""

from _common import main
from _spawn import spawn_sleeper


def misbehave(request: dict) -> bool:
    if request["cmd"] == "start":
        spawn_sleeper(keep_stdio=False)
    return False


main(misbehave)
