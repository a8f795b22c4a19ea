"""Answers start with harness protocol 2 but declares its capabilities as version 1 does."""

import json

from _common import main, reply


def misbehave(request: dict) -> bool:
    if request["cmd"] == "start":
        answer = reply(request)
        result = answer["result"]
        result["capabilities"] = result.pop("profiles")["placeholder-v1"]
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
