"""Answers a stream request with an enormous, unprintable text: every output must cut it.

argv[1] says where the text goes: `errored` (the message), `rejected` (the category and the
message), `skipped` (the reason), `start` (the implementation name), `stderr` (standard error,
with an errored reply).
"""

import json
import os
import sys

from _common import main, reply

WHERE = sys.argv[1]
SIZE = int(os.environ.get("DASKWIRE_LOUD_BYTES", str(20 * 2**20)))
# control characters, an escape sequence and a lone surrogate, then bulk
TEXT = "loud\x00\x1b[2J\ud800\r" + "x" * SIZE


def misbehave(request: dict) -> bool:
    answer = None
    if request["cmd"] == "start" and WHERE == "start":
        answer = reply(request)
        answer["result"]["implementation"]["name"] = TEXT
    elif request["cmd"] == "stream":
        answer = {"seq": request["seq"]}
        if WHERE == "errored":
            answer.update(outcome="errored", message=TEXT)
        elif WHERE == "rejected":
            answer.update(outcome="rejected", category=TEXT, message=TEXT)
        elif WHERE == "skipped":
            answer.update(outcome="skipped", reason=TEXT)
        elif WHERE == "stderr":
            sys.stderr.write(TEXT[:16000] + "\n")
            sys.stderr.flush()
            answer.update(outcome="errored", message="see stderr")
        else:
            answer = None
    if answer is None:
        return False
    print(json.dumps(answer), flush=True)
    return True


main(misbehave)
