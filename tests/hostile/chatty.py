"""Logs 8 KiB to stderr for every request, and answers errored to the stream request."""

import json
import sys

from _common import main


def misbehave(request: dict) -> bool:
    sys.stderr.write(f"chatty log for {request['cmd']}: " + "." * 8192 + "\n")
    sys.stderr.flush()
    if request["cmd"] == "stream":
        answer = {"seq": request["seq"], "outcome": "errored", "message": "stream not implemented"}
        print(json.dumps(answer), flush=True)
        return True
    return False


main(misbehave)
