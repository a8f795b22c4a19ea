"""The `daskwire` command: one parser whose subcommands live in the cmd_* modules."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from daskwire import PROFILES, SPEC_VERSION, __version__

__all__ = ["main"]

#: Modules that add a subcommand; each has `register(subparsers)`, which sets `func` on its
#: parser. `func(args) -> int` returns the exit code.
SUBCOMMAND_MODULES = (
    "daskwire_conformance.site.command",
    "daskwire_conformance.vectors.command",
    "daskwire_conformance.runner.command",
    "daskwire_conformance.runner.report_command",
    "daskwire_conformance.inspect.command",
    "daskwire_conformance.tap.command",
)

#: Exit code for a command line the parser rejects.
EXIT_USAGE = 2
#: Exit code when standard output is closed before the command is done (as Python's own).
EXIT_BROKEN_PIPE = 1


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand that is installed."""
    parser = argparse.ArgumentParser(
        prog="daskwire",
        description="Spec, vectors and conformance runner for Dask's wire protocol "
        f"(profiles: {', '.join(PROFILES)}).",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"daskwire {__version__} (spec {SPEC_VERSION}, profiles {', '.join(PROFILES)})",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # a product that is not installed (the module or its package); any other
            # missing module is a real error
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            continue
        module.register(subparsers)
    return parser


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    code: int = func(args)
    return code


def _discard_stdout() -> None:
    """Point standard output at the null device, so the flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no file descriptor
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    When the reader of standard output goes away (`daskwire vectors list | head -1`), every
    subcommand stops quietly, as the SIGPIPE note of Python's `signal` documentation shows.
    """
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # inside the try: a broken pipe shows here, not at exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    raise SystemExit(main())
