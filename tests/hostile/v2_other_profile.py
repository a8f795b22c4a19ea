"""Speaks harness protocol 2, but implements a profile other than the suite's."""

import json

from _common import main, reply


def misbehave(request: dict) -> bool:
    if request["cmd"] == "start":
        answer = reply(request)
        caps = answer["result"]["profiles"]["placeholder-v1"]
        answer["result"]["profiles"] = {"dask-1999.1": caps}
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
