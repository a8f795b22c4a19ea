"""The `daskwire inspect` command line: read captured traffic and say what is in it."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any, Final

from daskwire import PROFILES

from daskwire_conformance.inspect.run import EXIT_CODES, HANDSHAKE_MODES, Options, inspect_paths
from daskwire_conformance.inspect.sources import KINDS
from daskwire_conformance.traffic.limits import add_limit_options, limits_from

__all__ = ["epilog", "register"]

#: The description is wrapped here, since the help's formatter keeps the epilog's lines.
DESCRIPTION_WIDTH: Final = 78


def epilog() -> str:
    """The help text's end: the inputs and the exit codes (from `run.EXIT_CODES`)."""
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES)
    return (
        "inputs:\n"
        "  a file of the raw bytes of one direction of a connection (a capture);\n"
        "  a `daskwire tap --record` folder, or its index.jsonl: every connection and direction;\n"
        "  a .json file: a list of frames as hex strings (one message), or a list of such lists.\n"
        "pickles are never loaded: --pickles disassembles them with the standard library's\n"
        "pickletools.\n\n"
        f"exit codes (the highest that applies):\n{codes}"
    )


def _op_filter(text: str) -> str:
    key, sep, value = text.partition("=")
    if key != "op" or not sep or not value:
        msg = f"{text!r}: a filter is op=NAME"
        raise argparse.ArgumentTypeError(msg)
    return value


def register(subparsers: Any) -> None:
    """Add `inspect` to the `daskwire` parser."""
    parser = subparsers.add_parser(
        "inspect",
        help="show what captured Dask traffic holds, message by message",
        description=textwrap.fill(
            "Read captured traffic of Dask's wire protocol and show each message: its offset, "
            "sizes, op, and the message as a tree in the spec's value notation; errors with "
            "their category, requirement ID and an annotated hex dump.",
            width=DESCRIPTION_WIDTH,
        ),
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="what to read")
    parser.add_argument(
        "--profile",
        choices=["auto", *PROFILES],
        default="auto",
        help="the profile to read as (default: auto, detected from the bytes, saying how)",
    )
    parser.add_argument(
        "--input",
        dest="input_kind",
        choices=KINDS,
        default="auto",
        help="what the inputs are (default: auto: a folder or index.jsonl is a recording, "
        "a .json file a frames file, anything else raw bytes)",
    )
    parser.add_argument(
        "--handshake",
        choices=HANDSHAKE_MODES,
        default="",
        help="the first message of a dask-2023.11 stream: auto shows it as the comm handshake "
        "when it is one; expect requires one (DK-3); none reads it as any message "
        "(default: expect in a recording, auto otherwise)",
    )
    parser.add_argument(
        "--full", action="store_true", help="show long str, bin and containers whole"
    )
    parser.add_argument(
        "--pickles",
        action="store_true",
        help="show each pickle's globals and a short disassembly (never loaded)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--filter",
        dest="ops",
        action="append",
        type=_op_filter,
        default=[],
        metavar="op=NAME",
        help="only messages with this op as shown (`-`: none; `(handshake)`: the comm "
        "handshake), or a batch holding it (repeatable; errors always show; a NAME that "
        "matches no message is said on standard error)",
    )
    parser.add_argument(
        "--stats",
        action="store_true",
        help="counts, bytes and offloaded bytes per op, compression use and the largest "
        "messages, instead of each message (errors still show)",
    )
    add_limit_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `daskwire inspect`."""
    options = Options(
        profile=args.profile,
        full=args.full,
        pickles=args.pickles,
        as_json=args.json,
        ops=tuple(args.ops),
        stats=args.stats,
        handshake=args.handshake,
        input_kind=args.input_kind,
        limits=limits_from(args),
    )
    return inspect_paths(list(args.inputs), options, sys.stdout, sys.stderr)
