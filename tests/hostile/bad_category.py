"""Rejects a valid stream with a category outside the closed list, plus an undeclared field."""

import json

from _common import main


def misbehave(request: dict) -> bool:
    if request["cmd"] == "stream":
        reply = {
            "seq": request["seq"],
            "outcome": "rejected",
            "category": "stream-broken",
            "why": 1,
        }
        print(json.dumps(reply), flush=True)
        return True
    return False


main(misbehave)
