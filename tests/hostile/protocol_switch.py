"""Starts on harness protocol 1, dies on the stream request, and restarts speaking protocol 2."""

import json
import os
import tempfile
from pathlib import Path

from _common import main, reply

# One marker per run: the runner is this process's parent.
MARKER = Path(tempfile.gettempdir()) / f"daskwire-protocol-switch-{os.getppid()}"


def misbehave(request: dict) -> bool:
    if request["cmd"] == "start":
        if MARKER.exists():  # restarted: now speak protocol 2
            MARKER.unlink()
            print(json.dumps(reply(request)), flush=True)
        else:
            old = {k: v for k, v in request.items() if k != "protocols"}
            print(json.dumps(reply(old)), flush=True)
        return True
    if request["cmd"] == "stream":
        MARKER.touch()
        os._exit(3)
    return False


main(misbehave)
