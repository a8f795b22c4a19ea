"""Answers start claiming harness protocol 3, which the runner did not offer."""

import json

from _common import main, reply


def misbehave(request: dict) -> bool:
    if request["cmd"] == "start":
        answer = reply(request)
        answer["result"]["protocol"] = 3
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
