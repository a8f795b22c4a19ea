"""Answers a stream request with a seq that is not the request's."""

import json

from _common import main, reply


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        answer = reply(request)
        answer["seq"] = request["seq"] + 100
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
