"""Prints a line that is not JSON in place of a stream reply."""

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        print("debug: decoding stream now", flush=True)
        return True
    return False


main(misbehave)
