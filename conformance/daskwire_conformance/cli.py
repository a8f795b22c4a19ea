"""The `daskwire` command: one parser whose subcommands live in the cmd_* modules."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from daskwire import PROFILE, SPEC_VERSION, __version__

__all__ = ["main"]

#: Modules that add a subcommand; each has `register(subparsers)`, which sets `func` on its
#: parser. `func(args) -> int` returns the exit code.
SUBCOMMAND_MODULES = (
    "daskwire_conformance.site.command",
    "daskwire_conformance.vectors.command",
    "daskwire_conformance.runner.command",
)

#: Exit code for a command line the parser rejects.
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand that is installed."""
    parser = argparse.ArgumentParser(
        prog="daskwire",
        description=f"Spec, vectors and conformance runner for Dask's {PROFILE} frame encoding.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"daskwire {__version__} (spec {SPEC_VERSION}, profile {PROFILE})",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    code: int = func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
