"""The `daskwire report` command: work with a JSON report of `daskwire check` (a badge, so far)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

__all__ = ["ReportError", "read_report", "register"]

EXIT_OK: Final = 0
EXIT_USAGE: Final = 2
#: The `format` of the reports this command reads (spec/schemas/report.schema.json).
REPORT_FORMAT: Final = "daskwire-report/1"
_SCHEMA: Final = "report.schema.json"
#: Schema errors named in one message.
_ERRORS_SHOWN: Final = 3
_COUNTS: Final = ("passed", "failed", "errored", "skipped", "xfailed")


class ReportError(ValueError):
    """A report file cannot be read, or is not a report; the command exits 2."""


def register(subparsers: Any) -> None:
    """Add `daskwire report badge` to the `daskwire` parser."""
    parser = subparsers.add_parser(
        "report",
        help="make a status badge from a JSON report of daskwire check",
        description="Work with the JSON report that `daskwire check --json-report` writes.",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="report_action", metavar="ACTION")
    badge = actions.add_parser(
        "badge",
        help="write an SVG badge: green when the run passed, red with the failed count, "
        "grey when incomplete",
        description="Write an SVG status badge for a JSON report: `passed/total` on green when "
        "the run passed, red with the number of failed vectors, grey for an incomplete run. "
        "Exit 0 when written, 2 for a report that cannot be read.",
    )
    badge.add_argument("report", metavar="REPORT.json", type=Path, help="the JSON report")
    badge.add_argument(
        "-o", "--output", metavar="PATH", type=Path, help="write the SVG here (default: stdout)"
    )
    badge.add_argument("--label", help="the text on the left (default: daskwire PROFILE)")
    badge.set_defaults(func=_badge)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _schema_problems(doc: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    from daskwire_conformance.common.data import spec_dir
    from daskwire_conformance.runner.protocol import load_registry, schema_uri

    registry = load_registry(spec_dir() / "schemas")
    validator = Draft202012Validator({"$ref": schema_uri(_SCHEMA)}, registry=registry)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message[:200]}" for e in errors]


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        problem = f"cannot read report {path}: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        problem = f"report {path} is not UTF-8 text (byte {exc.start}: {exc.reason})"
    except RecursionError:
        problem = f"report {path} is not JSON: nested too deeply to read"
    except ValueError as exc:
        problem = f"report {path} is not JSON: {exc}"
    raise ReportError(problem)


def read_report(path: Path) -> dict[str, Any]:
    """Read a JSON report and check it against report.schema.json; ReportError says why not."""
    doc = _load(path)
    problem = _report_problem(doc, path)
    if problem is not None:
        raise ReportError(problem)
    report: dict[str, Any] = doc
    return report


def _report_problem(doc: Any, path: Path) -> str | None:
    if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        return f"{path} is not a daskwire report: format {found!r}, expected {REPORT_FORMAT!r}"
    problems = _schema_problems(doc)
    if problems:
        shown = "; ".join(problems[:_ERRORS_SHOWN])
        more = (
            f" (and {len(problems) - _ERRORS_SHOWN} more)" if len(problems) > _ERRORS_SHOWN else ""
        )
        return f"report {path} does not follow {_SCHEMA}: {shown}{more}"
    summary = doc["summary"]
    if sum(summary[k] for k in _COUNTS) != summary["total"]:
        return f"report {path}: summary counts do not add up to its total {summary['total']}"
    return None


def _badge(args: argparse.Namespace) -> int:
    from daskwire_conformance.runner.badge import badge_of, render_svg

    try:
        report = read_report(args.report)
    except ReportError as exc:
        print(f"daskwire report badge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    svg = render_svg(badge_of(report, label=args.label))
    if args.output is None:
        sys.stdout.write(svg)
        return EXIT_OK
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(svg, encoding="utf-8")
    except OSError as exc:
        print(
            f"daskwire report badge: cannot write {args.output}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_OK
