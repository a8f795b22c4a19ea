"""The decoder limits on inspect's and tap's command lines, and the memory of a message with
very many frames (bounded by the frame-count limit: about BYTES_PER_FRAME a frame)."""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daskwire.dask_2023_11 import pack_bytes
from daskwire.limits import DEFAULT_LIMITS
from daskwire.model import SetValue
from daskwire.notation import to_notation
from daskwire_conformance.cli import build_parser
from daskwire_conformance.inspect.tree import SHOWN_JSON_DEPTH, shown_notation
from daskwire_conformance.traffic.detect import detect_profile
from daskwire_conformance.traffic.limits import BYTES_PER_FRAME, TOOL_LIMITS, limits_from
from inspect_helpers import inspect

#: What `daskwire inspect` takes (peak RSS) before any message: the interpreter and imports.
BASE_RSS = 96 << 20

#: Option, value, and what the command line does with it: the limit's value, or the start of
#: the usage error that rejects it.
CASES: list[tuple[str, str, int | str]] = [
    ("--max-frames", "1000", 1000),
    ("--max-frames", "1048576", DEFAULT_LIMITS.max_frames),
    ("--max-frames", "0", "'0' is not a whole number > 0"),
    ("--max-frames", "-5", "'-5' is not a whole number > 0"),
    ("--max-frames", "1M", "'1M' is not a whole number > 0"),
    ("--max-frames", "\u0661\u0662", "'\u0661\u0662' is not a whole number > 0"),
    ("--max-frame-bytes", "64M", 64 << 20),
    ("--max-frame-bytes", "512k", 512 << 10),
    ("--max-frame-bytes", "12x", "'12x' is not a positive size in bytes (like 64M)"),
    ("--max-frame-bytes", "G", "'G' is not a positive size in bytes (like 64M)"),
    ("--max-message-bytes", "1G", 1 << 30),
    ("--max-message-bytes", "4096", 4096),
    ("--max-message-bytes", "", "'' is not a positive size in bytes (like 64M)"),
    ("--max-depth", "1024", 1024),
    ("--max-depth", "1025", "'1025' is over 1024, the deepest nesting msgpack reads"),
    ("--max-depth", "1", 1),
    ("--max-decompressed-bytes", "2G", 2 << 30),
    ("--max-decompression-ratio", "16", 16),
    ("--max-decompression-ratio", "1.5", "'1.5' is not a whole number > 0"),
]


@pytest.mark.parametrize("command", ["inspect", "tap"])
@pytest.mark.parametrize(("option", "value", "expected"), CASES)
def test_limit_options(
    capsys: Any, command: str, option: str, value: str, expected: int | str
) -> None:
    where = ["x.bin"] if command == "inspect" else ["--upstream", "127.0.0.1:1"]
    parser = build_parser()
    if isinstance(expected, int):
        args = parser.parse_args([command, *where, f"{option}={value}"])
        limits = limits_from(args)
        name = option.removeprefix("--").replace("-", "_")
        assert getattr(limits, name) == expected
        others = {f for f in ("max_frames", "max_depth", "max_frame_bytes") if f != name}
        assert all(getattr(limits, f) == getattr(TOOL_LIMITS, f) for f in others)
    else:
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args([command, *where, f"{option}={value}"])
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {option}: {expected}" in err, err


def test_the_defaults_are_the_spec() -> None:
    """LM-7: no bound lower than the spec's unless the user sets one."""
    for command in ("inspect", "tap"):
        where = ["x.bin"] if command == "inspect" else ["--upstream", "127.0.0.1:1"]
        args = build_parser().parse_args([command, *where])
        assert limits_from(args) == TOOL_LIMITS == DEFAULT_LIMITS


def _empty_frames(path: Path, count: int) -> Path:
    """One dask-2023.11 message of `count` empty frames: a hint, the count, the lengths."""
    path.write_bytes(struct.pack("<QQ", 8 + 8 * count, count) + bytes(8 * count))
    return path


def test_an_option_applies(capsys: Any, tmp_path: Path) -> None:
    path = _empty_frames(tmp_path / "many.bin", 2000)
    code, out, _ = inspect(capsys, "--profile", "dask-2023.11", "--json", path)
    assert code == 1  # read, and not msgpack
    code, out, _ = inspect(capsys, "--profile", "dask-2023.11", "--max-frames", "1999", path)
    assert code == 3
    assert "framing error limit-exceeded [WF-7]" in out
    assert "declares 2000 frames, over max_frames=1999" in out


_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=100)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(done.returncode, peak)
sys.stdout.write(done.stdout.decode("utf-8", "replace")[:4000])
"""


def _peak_rss(*args: str) -> tuple[int, int, str]:
    """Run `daskwire ARGS` in a process of its own; its exit code, peak RSS and output. The
    measuring process in between has no other child, so RUSAGE_CHILDREN is the command's."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "daskwire_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=110,
        check=True,
    )
    head, _, out = done.stdout.partition("\n")
    code, peak = map(int, head.split())
    return code, peak, out


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("frames", "options", "code", "says"),
    [
        # The spec's limit: read, then frame 0 (empty) is no msgpack; about 600 B a frame.
        (1 << 20, [], 1, "invalid-msgpack"),
        # Lowered by the user: refused from its prelude, before its lengths are held.
        (1 << 20, ["--max-frames", "65536"], 3, "limit-exceeded"),
        (1 << 16, [], 1, "invalid-msgpack"),
    ],
    ids=["2**20-frames", "2**20-frames-lowered", "2**16-frames"],
)
def test_very_many_frames_in_bounded_memory(
    tmp_path: Path, frames: int, options: list[str], code: int, says: str
) -> None:
    """spec/tools/inspect.md: peak memory is bounded by the frames one message may hold."""
    path = _empty_frames(tmp_path / "many.bin", frames)
    got, peak, out = _peak_rss("inspect", "--profile", "dask-2023.11", *options, str(path))
    assert got == code, out
    assert "message 0 at byte 0: " in out
    assert says in out, out
    held = frames if code != 3 else 0
    bound = BASE_RSS + held * BYTES_PER_FRAME
    assert peak < bound, f"peak RSS {peak / 2**20:.0f} MiB over {bound / 2**20:.0f} MiB"


#: A message whose frame 0 is 1023 arrays, one in the other, around a nil: the deepest the
#: largest --max-depth reads.
DEEP = pack_bytes([b"\x91" * 1023 + b"\xc0"])


def test_the_deepest_message_the_options_allow_is_shown(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.bin"
    path.write_bytes(DEEP)
    code, out, err = inspect(capsys, "--max-depth", "1024", path)
    assert (code, err) == (0, "")
    assert "Traceback" not in out
    assert "1 message read" in out
    code, out, err = inspect(capsys, "--json", "--max-depth", "1024", path)
    assert (code, err) == (0, "")
    [message] = [r for r in map(json.loads, out.splitlines()) if r["kind"] == "message"]
    assert message["error"] is None
    node, depth = message["value"], 0
    while isinstance(node, list):
        [node] = node
        depth += 1
    assert depth == SHOWN_JSON_DEPTH  # then the rest, cut, says how deep it goes
    assert node == {"cut": {"levels": 1023 - SHOWN_JSON_DEPTH}}
    # --full is exact up to the same depth
    code, out, err = inspect(capsys, "--json", "--full", "--max-depth", "1024", path)
    assert (code, err) == (0, "")
    assert '{"cut": {"levels": 623}}' in out


def test_shown_notation_is_the_notation_up_to_its_depth() -> None:
    value = {"a": [1, ("x" * 200, b"\0" * 40)], "s": SetValue((1, 2))}
    assert shown_notation(value, True) == to_notation(value)
    assert shown_notation(value, False)["map"][0][1][1][0] == {
        "cut": {"str": "x" * 120, "length": 200}
    }
    assert shown_notation([[[1]]], True, max_depth=2) == [[{"cut": {"levels": 1}}]]


def test_detection_reads_with_the_users_limits(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep300.bin"
    data = pack_bytes([b"\x91" * 300 + b"\xc0"])  # deeper than the default 256
    path.write_bytes(data)
    deep = dataclasses.replace(TOOL_LIMITS, max_depth=1024)
    assert detect_profile(data, deep).sure
    assert not detect_profile(data).sure
    for args, sure in ((("--max-depth", "1024"), True), ((), False)):
        code, out, _ = inspect(capsys, "--json", *args, path)
        [stream] = [r for r in map(json.loads, out.splitlines()) if r["kind"] == "stream"]
        assert stream["sure"] is sure, stream
        if sure:
            assert code == 0
