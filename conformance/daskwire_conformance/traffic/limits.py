"""The decoder limits `inspect` and `tap` read traffic with, and their command-line options."""

from __future__ import annotations

import argparse
from typing import Any, Final

from daskwire.limits import DEFAULT_LIMITS, MSGPACK_MAX_DEPTH, Limits

__all__ = [
    "BYTES_PER_FRAME",
    "LIMIT_OPTIONS",
    "TOOL_LIMITS",
    "add_limit_options",
    "limit_value",
    "limits_from",
]

#: About what one frame of a message costs `inspect` and `tap` in memory, in bytes, as
#: measured for a message of empty frames (tests/inspect/test_inspect_limits.py): the
#: reference reader keeps one memoryview per frame, and the summary walks them. At the spec's
#: default `max_frames` (LM-1, 2**20) one message may cost some 600 MB; --max-frames lowers it.
BYTES_PER_FRAME: Final = 600
#: The limits the tools decode with by default: the spec's (LM-7: a decoder SHOULD NOT use a
#: lower bound unless its user configures one), so that the tools read every message a
#: conforming peer accepts.
TOOL_LIMITS: Final = DEFAULT_LIMITS

#: What --max-depth bounds: the nesting of what is parsed as msgpack.
_DEPTH_HELP: Final = (
    f"deepest msgpack nesting, LM-4, up to {MSGPACK_MAX_DEPTH}: in dask-2023.11's frame 0 "
    "and each sub-header (DL-2), in placeholder-v1's frames 0 and 1"
)
#: The decompression limits bound only what the tools decompress.
_DECOMPRESSED_HELP: Final = (
    "largest frame once decompressed, LM-5: placeholder-v1's payload and hex dumps; "
    "dask-2023.11 data frames are never decompressed"
)
_RATIO_HELP: Final = (
    "largest ratio of decompressed to compressed size, LM-6: as --max-decompressed-bytes"
)
#: Per limit (a field of `Limits`, spec/limits.md): its option's metavar and what it bounds.
#: An option is the field's name with dashes: `max_frame_bytes` is `--max-frame-bytes`.
LIMIT_OPTIONS: Final = (
    ("max_frames", "N", "most frames in one message, LM-1"),
    ("max_frame_bytes", "BYTES", "largest frame, LM-2"),
    ("max_message_bytes", "BYTES", "largest message, prelude and frames, LM-3"),
    ("max_depth", "N", _DEPTH_HELP),
    ("max_decompressed_bytes", "BYTES", _DECOMPRESSED_HELP),
    ("max_decompression_ratio", "N", _RATIO_HELP),
)
#: The options' group description, wrapped here: `inspect`'s help keeps it as written.
_GROUP_HELP: Final = (
    "what a message may hold before it is a limit-exceeded error\n"
    "(spec/limits.md); sizes take K, M and G suffixes (powers of 1024)"
)
_UNITS: Final = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _human(value: int) -> str:
    """A default as the options accept it: 2147483648 is 2G."""
    for suffix, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value >= scale and value % scale == 0:
            return f"{value // scale}{suffix}"
    return str(value)


def limit_value(name: str, metavar: str, text: str) -> int:
    """The value of the option for limit `name`: a positive whole number, for a size in bytes
    with an optional K, M or G suffix (powers of 1024). Raises ArgumentTypeError saying why."""
    digits, scale = text.strip(), 1
    if metavar == "BYTES" and digits[-1:].lower() in _UNITS:
        digits, scale = digits[:-1], _UNITS[digits[-1].lower()]
    if not digits.isascii() or not digits.isdigit() or int(digits) < 1:
        like = "a positive size in bytes (like 64M)" if metavar == "BYTES" else "a whole number > 0"
        msg = f"{text!r} is not {like}"
        raise argparse.ArgumentTypeError(msg)
    value = int(digits) * scale
    if name == "max_depth" and value > MSGPACK_MAX_DEPTH:
        msg = f"{text!r} is over {MSGPACK_MAX_DEPTH}, the deepest nesting msgpack reads"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """Add an option per decoder limit to `parser`, in a group of their own."""
    group = parser.add_argument_group("decoder limits", _GROUP_HELP)
    for name, metavar, what in LIMIT_OPTIONS:
        default = getattr(TOOL_LIMITS, name)
        shown = _human(default) if metavar == "BYTES" else f"{default:,}"
        spec = getattr(DEFAULT_LIMITS, name)
        note = "" if default == spec else f"; the spec's: {spec:,}"

        def parse(text: str, name: str = name, metavar: str = metavar) -> int:
            return limit_value(name, metavar, text)

        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            metavar=metavar,
            type=parse,
            default=default,
            help=f"{what} (default {shown}{note})",
        )


def limits_from(args: Any) -> Limits:
    """The limits the parsed options give."""
    return Limits(**{name: getattr(args, name) for name, _, _ in LIMIT_OPTIONS})
