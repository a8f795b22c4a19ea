"""The `daskwire vectors` command: generate, check and list the golden vectors."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Final

from daskwire_conformance.common.data import vectors_dir

__all__ = ["register"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


def register(subparsers: Any) -> None:
    """Add `vectors generate|check|list` to the `daskwire` parser."""
    parser = subparsers.add_parser(
        "vectors",
        help="generate, check or list the golden vectors",
        description="Generate the golden vectors from vectors/cases with the reference codec, "
        "check the committed files for drift, or list vector ids.",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    commands = parser.add_subparsers(dest="vectors_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--root",
            type=Path,
            default=None,
            help="the vectors folder (default: the kit's own)",
        )

    gen = commands.add_parser("generate", help="regenerate vectors/ and the manifest")
    common(gen)
    gen.add_argument(
        "--strict",
        action="store_true",
        help="exit non-zero when the reference disagrees with a case's expectation",
    )
    gen.set_defaults(func=_generate)

    chk = commands.add_parser(
        "check", help="fail when the committed vectors differ from a fresh generation"
    )
    common(chk)
    chk.set_defaults(func=_check)

    lst = commands.add_parser("list", help="print vector ids, one per line")
    common(lst)
    lst.add_argument("patterns", nargs="*", help="glob patterns on ids (default: all)")
    lst.add_argument("--kind", action="append", help="only vectors of this kind (repeatable)")
    lst.add_argument("--requirement", action="append", help="only vectors citing this ID")
    lst.add_argument("--long", action="store_true", help="also print kind, level and description")
    lst.add_argument("--summary", action="store_true", help="print counts per group and kind")
    lst.set_defaults(func=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _root(args: argparse.Namespace) -> Path:
    root: Path | None = args.root
    return vectors_dir() if root is None else root


def _report_disagreements(generated: Any) -> None:
    for item in generated.disagreements:
        print(f"reference disagrees: {item}", file=sys.stderr)


def _generate(args: argparse.Namespace) -> int:
    from daskwire_conformance.vectors.generate import generate, write

    root = _root(args)
    generated = generate(root)
    changed = write(root, generated)
    _report_disagreements(generated)
    counts = Counter(vid.split("/", 1)[0] for vid in generated.vectors)
    summary = ", ".join(f"{group} {n}" for group, n in sorted(counts.items()))
    print(f"{len(generated.vectors)} vectors ({summary}); {len(changed)} files changed")
    for rel in changed:
        print(f"  wrote {rel}")
    if args.strict and generated.disagreements:
        return EXIT_FAILED
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from daskwire_conformance.vectors.generate import check, generate

    root = _root(args)
    generated = generate(root)
    problems = check(root, generated=generated)
    problems += [f"reference disagrees: {item}" for item in generated.disagreements]
    for line in problems:
        print(line)
    if problems:
        print("vectors check failed: run `daskwire vectors generate` and review the diff")
        return EXIT_FAILED
    print(f"vectors check passed: {len(generated.vectors)} vectors match their sources")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from daskwire_conformance.common.suite import load_vectors

    vectors = load_vectors(_root(args))
    chosen = [
        v
        for v in vectors
        if (not args.patterns or any(fnmatch.fnmatchcase(v.id, p) for p in args.patterns))
        and (not args.kind or v.kind in args.kind)
        and (not args.requirement or set(args.requirement) & set(v.requirements))
    ]
    if args.summary:
        counts = Counter((v.group, v.kind) for v in chosen)
        for (group, kind), n in sorted(counts.items()):
            print(f"{group:8} {kind:14} {n}")
        print(f"{'total':23} {len(chosen)}")
        return EXIT_OK
    for v in chosen:
        if args.long:
            print(f"{v.id}\t{v.kind}\t{v.level}\t{v.description}")
        else:
            print(v.id)
    return EXIT_OK
