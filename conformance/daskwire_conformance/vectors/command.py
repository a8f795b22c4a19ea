"""The `daskwire vectors` command: generate, check, list and show the golden vectors."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from daskwire import PROFILES

from daskwire_conformance.common.data import vectors_dir
from daskwire_conformance.common.suite import KINDS, Vector, VectorFileError
from daskwire_conformance.vectors.loading import UsageError

if TYPE_CHECKING:
    from daskwire_conformance.vectors.generate import Generated

__all__ = ["register"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


def register(subparsers: Any) -> None:
    """Add `vectors generate|check|list|show` to the `daskwire` parser."""
    parser = subparsers.add_parser(
        "vectors",
        help="generate, check, list or show the golden vectors",
        description="Generate the golden vectors of each profile from vectors/<profile>/cases "
        "with the reference codec, check the committed files for drift, list vector ids, or show "
        "one vector.",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    commands = parser.add_subparsers(dest="vectors_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument(
            "--profile",
            action="append",
            choices=list(PROFILES),
            help="only this profile's suite (repeatable; default: every profile)",
        )
        where.add_argument(
            "--root",
            type=Path,
            default=None,
            help="one suite folder, such as vectors/placeholder-v1 (default: the kit's own)",
        )

    gen = commands.add_parser("generate", help="regenerate vectors/ and the manifest")
    common(gen)
    gen.add_argument(
        "--strict",
        action="store_true",
        help="exit non-zero when the reference disagrees with a case's expectation",
    )
    gen.set_defaults(func=_usage_errors("generate", _each(_generate)))

    chk = commands.add_parser(
        "check", help="fail when the committed vectors differ from a fresh generation"
    )
    common(chk)
    chk.set_defaults(func=_usage_errors("check", _each(_check)))

    lst = commands.add_parser("list", help="print vector ids, one per line")
    common(lst)
    lst.add_argument("patterns", nargs="*", help="glob patterns on ids (default: all)")
    lst.add_argument(
        "--kind", action="append", choices=KINDS, help="only vectors of this kind (repeatable)"
    )
    lst.add_argument("--requirement", action="append", help="only vectors citing this ID")
    lst.add_argument("--long", action="store_true", help="also print kind, level and description")
    lst.add_argument("--summary", action="store_true", help="print counts per group and kind")
    lst.set_defaults(func=_usage_errors("list", _each(_list)))

    show = commands.add_parser(
        "show",
        help="show one vector: notation, annotated hex dumps and the harness requests",
        description="Show one vector: its description and requirements, its input and expected "
        "outcome in typed value notation, annotated hex dumps of its bytes, and the harness "
        "requests `daskwire check` sends for it.",
    )
    common(show)
    show.add_argument("id", metavar="ID", help="the vector id, e.g. encode/pr-examples/g1")
    show.add_argument("--json", action="store_true", help="print one JSON document instead")
    show.set_defaults(func=_usage_errors("show", _show))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _suites(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The suite folders to act on, each with the name it is shown under."""
    root: Path | None = args.root
    if root is not None:
        return [(str(root), root)]
    return [(name, vectors_dir(name)) for name in args.profile or PROFILES]


def _each(run: Callable[[argparse.Namespace, Path], int]) -> Callable[[argparse.Namespace], int]:
    """Run an action on every chosen suite; with more than one, name each before its output."""

    def every(args: argparse.Namespace) -> int:
        suites = _suites(args)
        worst = EXIT_OK
        for name, root in suites:
            if len(suites) > 1:
                print(f"== {name}")
            worst = max(worst, run(args, root))
        return worst

    return every


def _usage_errors(
    action: str, run: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    """Run an action; a usage or vector file error becomes one line on stderr and exit 2."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (UsageError, VectorFileError) as exc:
            print(f"daskwire vectors {action}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return guarded


def _generation(root: Path) -> Generated:
    """Generate in memory from root/cases; bad case sources are usage errors."""
    import yaml

    from daskwire_conformance.vectors.generate import CaseError, generate
    from daskwire_conformance.vectors.generate.levels import UnknownRequirementError
    from daskwire_conformance.vectors.loading import check_cases_root, explain_cases

    check_cases_root(root)
    try:
        return generate(root)
    except (CaseError, UnknownRequirementError) as exc:
        msg = f"the case sources in {root} are broken: {exc}"
        raise UsageError(msg) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        msg = f"the case sources in {root} are broken: {explain_cases(root, exc)}"
        raise UsageError(msg) from exc


def _report_disagreements(generated: Any) -> None:
    for item in generated.disagreements:
        print(f"reference disagrees: {item}", file=sys.stderr)


def _generate(args: argparse.Namespace, root: Path) -> int:
    from daskwire_conformance.vectors.generate import write

    generated = _generation(root)
    try:
        changed = write(root, generated)
    except OSError as exc:
        msg = f"cannot write the vectors to {root}: {exc}"
        raise UsageError(msg) from exc
    _report_disagreements(generated)
    counts = Counter(vid.split("/", 1)[0] for vid in generated.vectors)
    summary = ", ".join(f"{group} {n}" for group, n in sorted(counts.items()))
    print(f"{len(generated.vectors)} vectors ({summary}); {len(changed)} files changed")
    for rel in changed:
        print(f"  wrote {rel}")
    if args.strict and generated.disagreements:
        return EXIT_FAILED
    return EXIT_OK


def _check(args: argparse.Namespace, root: Path) -> int:
    from daskwire_conformance.vectors.generate import check

    generated = _generation(root)
    problems = check(root, generated=generated)
    problems += [f"reference disagrees: {item}" for item in generated.disagreements]
    for line in problems:
        print(line)
    if problems:
        print("vectors check failed: run `daskwire vectors generate` and review the diff")
        return EXIT_FAILED
    print(f"vectors check passed: {len(generated.vectors)} vectors match their sources")
    return EXIT_OK


def _list(args: argparse.Namespace, root: Path) -> int:
    from daskwire_conformance.common.suite import load_suite
    from daskwire_conformance.vectors.loading import known_requirements

    vectors = load_suite(root)
    unknown = sorted(set(args.requirement or ()) - known_requirements(vectors))
    if unknown:
        msg = f"no requirement {', '.join(unknown)} in the spec (IDs look like PH-4)"
        raise UsageError(msg)
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


def _find(vectors: list[Vector], vector_id: str, root: Path) -> Vector:
    from daskwire_conformance.vectors.show import close_matches

    for vector in vectors:
        if vector.id == vector_id:
            return vector
    matches = close_matches(vector_id, [v.id for v in vectors])
    hint = f"; close matches: {', '.join(matches)}" if matches else ""
    msg = f"no vector {vector_id!r} in {root}{hint}"
    raise UsageError(msg)


def _show(args: argparse.Namespace) -> int:
    from daskwire_conformance.common.suite import load_suite, suite_profile
    from daskwire_conformance.vectors.show import render_text, show_document

    suites = _suites(args)
    found = [(root, v) for _, root in suites for v in load_suite(root) if v.id == args.id]
    if not found:
        _, root = suites[0]
        _find(load_suite(root), args.id, root)  # raises, with close matches
    if len(found) > 1:
        names = ", ".join(name for name, _ in suites)
        msg = f"vector {args.id!r} is in more than one suite ({names}); pick one with --profile"
        raise UsageError(msg)
    ((root, vector),) = found
    doc = show_document(vector, suite_profile(root))
    if args.json:
        print(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        print(render_text(doc), end="")
    return EXIT_OK
