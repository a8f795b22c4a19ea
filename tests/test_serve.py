"""`daskwire serve` answers every line it cannot use as a request the way it answers garbage."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from daskwire_conformance.testee import ReferenceTestee, serve

START = {"seq": 1, "cmd": "start", "protocol": 1}
STOP = {"seq": 9, "cmd": "stop"}

# a line serve cannot use as a request, and what its note on stderr says
UNUSABLE = [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"5", "not a JSON object"),
    (b'"start"', "not a JSON object"),
    (b"null", "not a JSON object"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"seq": ' + b"[" * 100_000, "nested too deeply"),
]


def run(lines: list[bytes], testee: Any = None) -> tuple[int, list[dict[str, Any]], str]:
    source = io.BytesIO(b"".join(line + b"\n" for line in lines))
    sink = io.StringIO()
    errors = io.StringIO()
    old, sys.stderr = sys.stderr, errors
    try:
        code = serve(testee or ReferenceTestee(), source, sink)
    finally:
        sys.stderr = old
    return code, [json.loads(line) for line in sink.getvalue().splitlines()], errors.getvalue()


def jsonl(*objects: Mapping[str, Any]) -> list[bytes]:
    return [json.dumps(o).encode() for o in objects]


@pytest.mark.parametrize(("line", "note"), UNUSABLE, ids=lambda x: repr(x)[:30])
def test_an_unusable_line_is_noted_and_the_session_goes_on(line: bytes, note: str) -> None:
    code, replies, err = run([*jsonl(START), line, *jsonl(STOP)])
    assert code == 0
    assert [r["seq"] for r in replies] == [1, 9]
    assert f"daskwire serve: ignoring a request that is {note}" in err
    assert "Traceback" not in err
    assert len(err) < 500


class _Odd:
    """Answers with replies that do not serialize, or are not mappings at all."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def handle(self, request: Mapping[str, Any]) -> Any:
        if request.get("cmd") in ("start", "stop"):
            return ReferenceTestee().handle(request)
        return self.reply


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"outcome": "ok", "result": {"frames": [b"\x00"]}}, "not JSON"),
        ({"outcome": "ok", "result": {"x": float("nan")}}, "not JSON"),
        ([1, 2], "not a reply object"),
        (None, "not a reply object"),
    ],
)
def test_a_reply_that_cannot_be_sent_becomes_errored(reply: Any, message: str) -> None:
    ask = {"seq": 2, "cmd": "decode", "mode": "forwarding", "frames": []}
    code, replies, _ = run(jsonl(START, ask, STOP), _Odd(reply))
    assert code == 0
    assert [r["seq"] for r in replies] == [1, 2, 9]
    assert replies[1]["outcome"] == "errored"
    assert message in replies[1]["message"]


def test_the_command_line_never_shows_a_traceback() -> None:
    lines = [*jsonl(START), b"[1,2]", b"5", b"[" * 100_000, *jsonl(STOP)]
    proc = subprocess.run(
        [sys.executable, "-m", "daskwire_conformance.cli", "serve"],
        input=b"".join(line + b"\n" for line in lines),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert [json.loads(line)["seq"] for line in proc.stdout.splitlines()] == [1, 9]
    assert b"Traceback" not in proc.stderr
    assert proc.stderr.count(b"daskwire serve: ignoring") == 3
