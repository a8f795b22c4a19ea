"""The `daskwire check` and `daskwire serve` subcommands: run the suite, serve the reference."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from daskwire_conformance.runner.run import (
    EXIT_FAILED,
    EXIT_HARNESS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
)

if TYPE_CHECKING:
    from daskwire_conformance.common.suite import Vector
    from daskwire_conformance.runner.baseline import Baseline
    from daskwire_conformance.runner.report import ConsoleReporter
    from daskwire_conformance.runner.run import Run

__all__ = ["EXIT_CODES_HELP", "register", "run_check", "run_serve"]

#: The exit-code table printed by `daskwire check --help` (and documented in spec/harness.md).
EXIT_CODES_HELP: Final = f"""\
exit codes:
  {EXIT_OK}  every selected required vector passed or matched the baseline, which held exactly
  {EXIT_FAILED}  failures: a required vector failed, errored or was skipped (not in the
     baseline), or the baseline did not hold (unexpected pass, changed signature, stale entry)
  {EXIT_USAGE}  usage error: bad option, target, vectors folder or baseline; nothing selected
  {EXIT_HARNESS}  harness error: the testee could not start, failed the start handshake, or
     exhausted its restart budget
  {EXIT_INCOMPLETE}  incomplete run: interrupted before every selected vector had a verdict
"""

_DESCRIPTION: Final = """\
Run the conformance vectors against an implementation. With no target, check the built-in
reference over the real stdio harness (`daskwire serve` as a subprocess). `-- COMMAND ...`
checks an external program speaking harness protocol v1; `--python MODULE:ATTR` checks a
Python object in process (see spec/harness.md and spec/testee-guide.md)."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        msg = f"must be a positive number of seconds, not {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        msg = f"must be 0 or more, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def register(subparsers: Any) -> None:
    """Add `check` and `serve` to the `daskwire` parser."""
    from daskwire_conformance.runner.harness import (
        DEFAULT_MAX_REPLY_BYTES,
        DEFAULT_MAX_RESTARTS,
        DEFAULT_START_TIMEOUT,
        DEFAULT_TIMEOUT,
    )

    check = subparsers.add_parser(
        "check",
        help="run the conformance vectors against an implementation",
        description=_DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND [ARGS...]",
        help="an external testee speaking harness protocol v1 on stdin/stdout",
    )
    check.add_argument("--python", metavar="MODULE:ATTR", help="an in-process testee object")
    suite = check.add_mutually_exclusive_group()
    suite.add_argument(
        "--vectors",
        metavar="DIR",
        type=Path,
        help="one suite folder, such as vectors/placeholder-v1 (default: the kit's)",
    )
    suite.add_argument(
        "--profile",
        metavar="NAME",
        help="the profile whose vectors run (default and, with harness protocol 1, only: "
        "placeholder-v1)",
    )
    sel = check.add_argument_group("selection")
    sel.add_argument(
        "--run",
        metavar="GLOB",
        action="append",
        default=[],
        help="run only matching ids (repeatable)",
    )
    sel.add_argument(
        "--skip", metavar="GLOB", action="append", default=[], help="skip matching ids (repeatable)"
    )
    out = check.add_argument_group("reports")
    out.add_argument("--json-report", metavar="PATH", type=Path, help="write the JSON report")
    out.add_argument("--junit-xml", metavar="PATH", type=Path, help="write JUnit XML")
    out.add_argument(
        "--markdown-summary", metavar="PATH", type=Path, help="write a Markdown summary"
    )
    out.add_argument(
        "-v", "--verbose", action="store_true", help="show every result, not only unexpected ones"
    )
    base = check.add_argument_group("baseline")
    base.add_argument(
        "--baseline", metavar="PATH", type=Path, help="expected failures (.json or text)"
    )
    base.add_argument(
        "--update-baseline", action="store_true", help="rewrite --baseline from this run"
    )
    harness = check.add_argument_group("harness")
    harness.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        help=f"deadline per request; the testee is killed past it (default {DEFAULT_TIMEOUT:g})",
    )
    harness.add_argument(
        "--start-timeout",
        metavar="SECONDS",
        type=_positive_float,
        default=DEFAULT_START_TIMEOUT,
        help=f"deadline for the start handshake (default {DEFAULT_START_TIMEOUT:g})",
    )
    harness.add_argument(
        "--max-restarts",
        metavar="N",
        type=_count,
        default=DEFAULT_MAX_RESTARTS,
        help=f"restarts allowed per testee process slot (default {DEFAULT_MAX_RESTARTS})",
    )
    harness.add_argument(
        "--max-reply-bytes",
        metavar="N",
        type=_positive_int,
        default=DEFAULT_MAX_REPLY_BYTES,
        help="longest reply line accepted (default 256 MiB)",
    )
    harness.add_argument(
        "-j",
        "--jobs",
        metavar="N",
        type=_positive_int,
        default=1,
        help="testee processes, vectors sharded",
    )
    harness.add_argument(
        "--validate-protocol",
        action="store_true",
        help="check every harness message against its JSON Schema",
    )
    check.set_defaults(func=run_check)

    serve = subparsers.add_parser(
        "serve",
        help="serve the reference codec as a harness testee on stdin/stdout",
        description="Answer harness protocol v1 requests on stdin/stdout with the reference "
        "codec (or with the in-process testee named by --python).",
    )
    serve.add_argument("--python", metavar="MODULE:ATTR", help="serve this testee object instead")
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """`daskwire serve`."""
    from daskwire_conformance.runner.targets import TargetError, load_python_testee
    from daskwire_conformance.testee import ReferenceTestee, Testee, serve

    testee: Testee
    if args.python:
        try:
            testee = load_python_testee(args.python)
        except TargetError as exc:
            print(f"daskwire serve: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        testee = ReferenceTestee()
    return serve(testee)


def _usage(message: str) -> int:
    print(f"daskwire check: {message}", file=sys.stderr)
    return EXIT_USAGE


def _output_problems(
    paths: Sequence[tuple[str, Path | None]], *, inputs: Sequence[tuple[str, Path | None]] = ()
) -> str | None:
    """Why a report (or baseline) path cannot be written, checked before the run, or None.

    A path may name neither another output nor one of the `inputs` (a baseline that is read).
    """
    seen: dict[Path, str] = {}
    for flag, path in inputs:
        if path is not None:
            seen[path.resolve()] = flag
    for flag, path in paths:
        if path is None:
            continue
        where = f"{flag} {path}"
        if path.is_dir():
            return f"{where} is a folder; give a file path"
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return f"{where}: {ancestor} is not a folder"
        if not os.access(ancestor, os.W_OK | os.X_OK) or (
            path.exists() and not os.access(path, os.W_OK)
        ):
            return f"{where} cannot be written (permission denied)"
        key = path.resolve()
        if key in seen:
            return f"{where}: the same file as {seen[key]}"
        seen[key] = flag
    return None


def _write(path: Path, text: str, flag: str, *, append: bool = False) -> str | None:
    from daskwire_conformance.runner.report import write_text

    try:
        write_text(path, text, append=append)
    except OSError as exc:
        return f"cannot write {flag} {path}: {exc.strerror or exc}"
    return None


def _is_step_summary(path: Path) -> bool:
    """True for the file GitHub Actions names in $GITHUB_STEP_SUMMARY (appended to, not
    overwritten, so that other output of the same step stays)."""
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if not step:
        return False
    try:
        return path.resolve() == Path(step).resolve()
    except OSError:
        return False


def run_check(args: argparse.Namespace) -> int:
    """`daskwire check`."""
    from daskwire_conformance.common.data import vectors_dir
    from daskwire_conformance.runner.baseline import BaselineError, load_baseline
    from daskwire_conformance.runner.report import ConsoleReporter
    from daskwire_conformance.runner.run import SignalGuard, run_vectors, select
    from daskwire_conformance.runner.targets import (
        ChannelOptions,
        TargetError,
        command_target,
        python_target,
        reference_target,
    )

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if command and args.python:
        return _usage("give either --python MODULE:ATTR or -- COMMAND, not both")
    if args.update_baseline and not args.baseline:
        return _usage("--update-baseline needs --baseline PATH")
    outputs = [
        ("--json-report", args.json_report),
        ("--junit-xml", args.junit_xml),
        ("--markdown-summary", args.markdown_summary),
        ("--baseline", args.baseline if args.update_baseline else None),
    ]
    inputs = [("--baseline", None if args.update_baseline else args.baseline)]
    problem = _output_problems(outputs, inputs=inputs)
    if problem is not None:
        return _usage(problem)
    try:
        if args.python:
            target = python_target(args.python)
        elif command:
            target = command_target(command)
        else:
            target = reference_target()
    except TargetError as exc:
        return _usage(str(exc))

    from daskwire import PROFILE, PROFILES

    if args.profile is not None and args.profile not in PROFILES:
        return _usage(f"unknown profile {args.profile!r}; the profiles are: {', '.join(PROFILES)}")
    root = args.vectors or vectors_dir(args.profile or PROFILE)
    from daskwire_conformance.common.suite import VectorFileError, load_suite, suite_profile

    try:
        vectors = load_suite(root)
    except VectorFileError as exc:
        return _usage(str(exc))
    profile = args.profile or suite_profile(root)
    chosen = select(vectors, args.run, args.skip)
    if not chosen:
        return _usage(f"no vectors selected ({len(vectors)} in {root}; check --run/--skip)")

    baseline = None
    if args.baseline and not (args.update_baseline and not args.baseline.exists()):
        try:
            baseline = load_baseline(args.baseline)
        except BaselineError as exc:
            return _usage(str(exc))

    validate = None
    if args.validate_protocol:
        try:
            from daskwire_conformance.runner.protocol import make_validator

            validate = make_validator()
        except Exception as exc:
            return _usage(f"cannot load the harness schemas: {exc}")

    options = ChannelOptions(
        timeout=args.timeout,
        start_timeout=args.start_timeout,
        max_restarts=max(0, args.max_restarts),
        max_reply_bytes=args.max_reply_bytes,
    )
    guard = SignalGuard()
    with guard.installed():
        console = ConsoleReporter(verbose=args.verbose, total=len(chosen))
        try:
            run = run_vectors(
                target,
                chosen,
                options=options,
                jobs=args.jobs,
                validate=validate,
                on_result=console.on_result,
                profile=profile,
            )
        finally:
            guard.calm()  # a signal from here on is noted: the reports are still written
            console.close()
        return _finish(args, run, vectors=vectors, baseline=baseline, console=console, root=root)


def _finish(
    args: argparse.Namespace,
    run: Run,
    *,
    vectors: Sequence[Vector],
    baseline: Baseline | None,
    console: ConsoleReporter,
    root: Path,
) -> int:
    """Apply the baseline, print the console report and write the report files."""
    from daskwire_conformance.runner.baseline import BaselineError, load_baseline, write_baseline
    from daskwire_conformance.runner.report import (
        junit_xml,
        markdown_summary,
        report_document,
        suite_provenance,
    )
    from daskwire_conformance.runner.run import summarize

    all_ids = [v.id for v in vectors]
    summary = summarize(run, baseline=baseline, all_ids=all_ids)

    if args.update_baseline and run.complete:
        kept = {
            i: s
            for i, s in (baseline.entries.items() if baseline else ())
            if i in set(all_ids) and i not in {r.id for r in run.results} and s is not None
        }
        fresh = {
            r.id: r.signature()
            for r in run.results
            if r.outcome != "passed" and r.level == "required" and not r.optional_skip
        }
        try:
            write_baseline(
                args.baseline,
                {**kept, **fresh}.items(),
                notes=baseline.notes if baseline else None,
            )
            baseline = load_baseline(args.baseline)
        except OSError as exc:
            return _usage(f"cannot write --baseline {args.baseline}: {exc.strerror or exc}")
        except BaselineError as exc:
            return _usage(str(exc))
        summary = summarize(run, baseline=baseline, all_ids=all_ids)
        print(f"baseline written: {args.baseline} ({len(baseline.entries)} entries)")
    elif args.update_baseline:
        print("baseline not written: the run is incomplete", file=sys.stderr)

    console.report(summary)
    suite = suite_provenance(Path(root))
    failures = []
    if args.json_report:
        doc = report_document(summary, suite=suite)
        failures.append(_write(args.json_report, json.dumps(doc, indent=1) + "\n", "--json-report"))
    if args.junit_xml:
        failures.append(_write(args.junit_xml, junit_xml(summary), "--junit-xml"))
    if args.markdown_summary:
        path = args.markdown_summary
        append = _is_step_summary(path)
        failures.append(
            _write(path, markdown_summary(summary), "--markdown-summary", append=append)
        )
    problems = [f for f in failures if f is not None]
    if problems:
        for problem in problems:
            print(f"daskwire check: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if summary.exit_code not in (EXIT_OK, EXIT_FAILED, EXIT_HARNESS, EXIT_INCOMPLETE):
        return EXIT_FAILED
    return summary.exit_code
