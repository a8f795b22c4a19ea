"""Shared loop of the hostile testees: the reference answers, except where a script misbehaves."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from daskwire_conformance.testee import ReferenceTestee


def reply(request: dict[str, Any]) -> dict[str, Any]:
    """The reference's correct reply to a request."""
    answer = dict(ReferenceTestee().handle(request))
    answer["seq"] = request["seq"]
    return answer


def main(misbehave: Callable[[dict[str, Any]], bool]) -> None:
    """Serve stdin; `misbehave(request)` returns True when it has dealt with the request."""
    for line in sys.stdin:
        request = json.loads(line)
        if misbehave(request):
            continue
        print(json.dumps(reply(request)), flush=True)
        if request["cmd"] == "stop":
            return
