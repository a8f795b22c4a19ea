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
    from daskwire_conformance.runner.targets import ChannelOptions, Target

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
        help="the profile whose vectors run (default: every profile the testee declares, "
        "one after another; with harness protocol 1, placeholder-v1 only). With several, "
        "a {profile} in a report or baseline path names each profile's file",
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
    serve.add_argument(
        "--profile",
        metavar="NAME",
        action="append",
        help="declare only this profile (repeatable): the reference as a testee of fewer "
        "profiles (default: every profile of the registry)",
    )
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """`daskwire serve`."""
    from daskwire import PROFILES

    from daskwire_conformance.runner.targets import TargetError, load_python_testee
    from daskwire_conformance.testee import ReferenceTestee, Testee, serve

    testee: Testee
    unknown = [p for p in args.profile or () if p not in PROFILES]
    if unknown:
        known = ", ".join(PROFILES)
        print(
            f"daskwire serve: unknown profile {unknown[0]!r}; the profiles are: {known}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.python:
        if args.profile:
            print("daskwire serve: --profile applies to the reference testee only", file=sys.stderr)
            return EXIT_USAGE
        try:
            testee = load_python_testee(args.python)
        except TargetError as exc:
            print(f"daskwire serve: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        reference = ReferenceTestee()
        if args.profile:
            reference.only = tuple(args.profile)
        testee = reference
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
    """`daskwire check`: one profile's suite, or every profile the testee implements."""
    from daskwire_conformance.common.data import vectors_dir
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
    if args.vectors is not None or args.profile is not None:
        root = args.vectors or vectors_dir(args.profile)
        from daskwire_conformance.common.suite import VectorFileError, suite_profile

        try:
            profile = args.profile or suite_profile(root)
        except VectorFileError as exc:
            return _usage(str(exc))
        problem = _profile_paths_problem(outputs, inputs, [profile])
        if problem is not None:
            return _usage(problem)
        code = _check_suite(args, target, root, options, validate)
        if code is None:
            return _usage(f"no vectors selected in {root}; check --run/--skip")
        return code
    # A testee that cannot start, or implements none of the kit's profiles, is checked as a
    # placeholder-v1 testee: that run then reports the harness error, in every report.
    profiles = _declared(target, options, validate) or [PROFILE]
    if len(profiles) > 1:
        given = [*outputs, ("--baseline", args.baseline)]
        clash = [f for f, path in given if path is not None and "{profile}" not in str(path)]
        if clash:
            return _usage(
                f"the testee implements {len(profiles)} profiles ({', '.join(profiles)}): give "
                f"--profile NAME, or put {{profile}} in the path of "
                f"{', '.join(dict.fromkeys(clash))}"
            )
    problem = _profile_paths_problem(outputs, inputs, profiles)
    if problem is not None:
        return _usage(problem)
    codes = []
    for profile in profiles:
        if len(profiles) > 1:
            print(f"== profile {profile}")
        code = _check_suite(args, target, vectors_dir(profile), options, validate)
        if code is None:
            print(f"no vectors of {profile} selected (--run/--skip): not run")
            continue
        codes.append(code)
        if code in (EXIT_USAGE, EXIT_INCOMPLETE):
            break
    if not codes:
        return _usage("no vectors selected in any profile's suite; check --run/--skip")
    return _worst(codes)


def _profile_paths_problem(
    outputs: Sequence[tuple[str, Path | None]],
    inputs: Sequence[tuple[str, Path | None]],
    profiles: Sequence[str],
) -> str | None:
    """Why the report and baseline paths, with `{profile}` made each profile's name, cannot
    be written (two the same file, a report over the baseline it reads), or None."""
    concrete = [(flag, _for_profile(path, p)) for p in profiles for flag, path in outputs]
    read = [(flag, _for_profile(path, p)) for p in profiles for flag, path in inputs]
    return _output_problems(concrete, inputs=read)


#: Exit codes from best to worst, for a run of several profiles.
_EXIT_ORDER: Final = (EXIT_OK, EXIT_FAILED, EXIT_HARNESS, EXIT_USAGE, EXIT_INCOMPLETE)


def _worst(codes: Sequence[int]) -> int:
    """The exit code of a run of several profiles: the worst of theirs."""
    return max(codes, key=_EXIT_ORDER.index, default=EXIT_OK)


def _declared(target: Target, options: ChannelOptions, validate: Any) -> list[str]:
    """The profiles the target implements that the kit has vectors for, in registry order,
    read from one `start` of the target; none when it does not start."""
    from daskwire import PROFILES

    from daskwire_conformance.common.data import vectors_dir
    from daskwire_conformance.runner.harness import HarnessError, declared_profiles

    channel = target.open(options, validate)
    try:
        declared = declared_profiles(channel.start())
    except HarnessError:
        return []
    finally:
        channel.close()
    return [p for p in PROFILES if p in declared and vectors_dir(p).is_dir()]


def _check_suite(
    args: argparse.Namespace,
    target: Target,
    root: Path,
    options: ChannelOptions,
    validate: Any,
) -> int | None:
    """Run one suite folder against the target, then report it; None when --run/--skip
    select none of its vectors."""
    from daskwire_conformance.common.suite import VectorFileError, load_suite, suite_profile
    from daskwire_conformance.runner.baseline import BaselineError, load_baseline
    from daskwire_conformance.runner.report import ConsoleReporter
    from daskwire_conformance.runner.run import SignalGuard, run_vectors, select

    try:
        vectors = load_suite(root)
    except VectorFileError as exc:
        return _usage(str(exc))
    profile = args.profile or suite_profile(root)
    chosen = select(vectors, args.run, args.skip)
    if not chosen:
        return None

    baseline = None
    baseline_path = _for_profile(args.baseline, profile)
    if baseline_path and not (args.update_baseline and not baseline_path.exists()):
        try:
            baseline = load_baseline(baseline_path)
        except BaselineError as exc:
            return _usage(str(exc))

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
        return _finish(
            args,
            run,
            vectors=vectors,
            baseline=baseline,
            console=console,
            root=root,
            profile=profile,
        )


def _for_profile(path: Path | None, profile: str) -> Path | None:
    """A report or baseline path with `{profile}` replaced by the profile's name."""
    if path is None or "{profile}" not in str(path):
        return path
    return Path(str(path).replace("{profile}", profile))


def _finish(
    args: argparse.Namespace,
    run: Run,
    *,
    vectors: Sequence[Vector],
    baseline: Baseline | None,
    console: ConsoleReporter,
    root: Path,
    profile: str,
) -> int:
    """Apply the baseline, print the console report and write the report files (a `{profile}`
    in their paths names the run's profile)."""
    baseline_path = _for_profile(args.baseline, profile)
    json_report = _for_profile(args.json_report, profile)
    junit = _for_profile(args.junit_xml, profile)
    markdown = _for_profile(args.markdown_summary, profile)
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

    if baseline_path is not None and args.update_baseline and run.complete:
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
                baseline_path,
                {**kept, **fresh}.items(),
                notes=baseline.notes if baseline else None,
            )
            baseline = load_baseline(baseline_path)
        except OSError as exc:
            return _usage(f"cannot write --baseline {baseline_path}: {exc.strerror or exc}")
        except BaselineError as exc:
            return _usage(str(exc))
        summary = summarize(run, baseline=baseline, all_ids=all_ids)
        print(f"baseline written: {baseline_path} ({len(baseline.entries)} entries)")
    elif args.update_baseline:
        print("baseline not written: the run is incomplete", file=sys.stderr)

    console.report(summary)
    suite = suite_provenance(Path(root))
    failures = []
    if json_report:
        doc = report_document(summary, suite=suite)
        failures.append(_write(json_report, json.dumps(doc, indent=1) + "\n", "--json-report"))
    if junit:
        failures.append(_write(junit, junit_xml(summary), "--junit-xml"))
    if markdown:
        path = markdown
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
