"""Answers an unpack request with 200 000 frames: the verdict and reports stay small and quick."""

import json

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "unpack":
        frames = ["00"] * 200_000
        answer = {"seq": request["seq"], "outcome": "ok", "result": {"frames": frames}}
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
