"""Reports of a run: console text (progress on a TTY), JSON with provenance, JUnit XML, Markdown."""

from __future__ import annotations

import hashlib
import html
import json
import platform
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from daskwire_conformance.common.requirements import requirement_sort_key
from daskwire_conformance.runner.harness import SHORT_LIMIT, clean_text
from daskwire_conformance.runner.judge import Result, bounded, show_command
from daskwire_conformance.runner.run import Summary

__all__ = [
    "PROGRESS_SECONDS",
    "REPORT_FORMAT",
    "ConsoleReporter",
    "cause_of",
    "causes",
    "junit_xml",
    "markdown_summary",
    "report_document",
    "suite_provenance",
    "write_text",
]

#: The `format` value of a JSON report (spec/schemas/report.schema.json).
REPORT_FORMAT: Final = "daskwire-report/1"
#: Causes listed in a Markdown summary and on the console, most vectors first.
MAX_CAUSES: Final = 20
#: Vector ids named as examples of one cause.
CAUSE_EXAMPLES: Final = 3
#: Areas listed in a Markdown summary (those with results that do not pass, most first).
MARKDOWN_MAX_AREAS: Final = 40
#: Without a terminal, a progress line goes to stderr this often while a run goes (seconds).
PROGRESS_SECONDS: Final = 10.0
#: Characters of a vector's input shown inline on the console.
CONSOLE_INPUT_CHARS: Final = 300
#: Characters of a request's stderr shown on the console (the end of it).
CONSOLE_STDERR_CHARS: Final = 2000
_OUTCOMES: Final = ("passed", "failed", "errored", "skipped", "xfailed")
#: Failures whose message says what the testee lacks, rather than where a vector differs: the
#: message is part of their cause.
_MESSAGE_IN_CAUSE: Final = ("skipped", "testee-errored")
_BASELINE_FAILURES: Final = ("unexpected-pass", "baseline-changed")


def _requirement_key(requirement_id: str) -> tuple[int, str, int]:
    try:
        prefix, number = requirement_sort_key(requirement_id)
    except ValueError:
        return (1, requirement_id, 0)
    return (0, prefix, number)


def implementation_of(start: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The `implementation` object of a start result, each field cut (it is testee text)."""
    impl = (start or {}).get("implementation")
    if not isinstance(impl, Mapping):
        return None
    return {clean_text(str(k), 50): bounded(v, SHORT_LIMIT) for k, v in list(impl.items())[:20]}


def _impl_line(start: Mapping[str, Any] | None) -> str:
    impl = implementation_of(start) or {}

    def field(key: str, default: str) -> str:
        return clean_text(str(impl.get(key, default)), 100)

    return f"{field('name', '?')} {field('version', '')} ({field('language', '?')})"


def cause_of(result: Result) -> str:
    """What a non-passing result has in common with others that fail for the same reason:
    the signature without the mode, plus the message for skips and testee errors."""
    baseline = next((c.failure for c in result.checks if c.failure in _BASELINE_FAILURES), None)
    if baseline is not None:
        return baseline
    failing = next((c for c in result.checks if c.outcome != "passed"), None)
    if failing is None:
        return f"{result.outcome}: {result.reason}" if result.reason else result.outcome
    cause = failing.failure or failing.outcome
    if failing.failure in ("wrong-category", "rejected-valid") and failing.category:
        cause += f":{failing.category}"
    first = failing.message.strip().partition("\n")[0]
    if failing.failure in _MESSAGE_IN_CAUSE and first:
        cause += f": {clean_text(first, 120)}"
    return cause


def causes(results: Iterable[Result]) -> list[tuple[str, list[Result]]]:
    """Results grouped by cause, most vectors first (then by cause)."""
    groups: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        groups[cause_of(result)].append(result)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def suite_provenance(vectors_dir: Path) -> dict[str, Any]:
    """Suite version and the sha256 of the manifest file of a vectors folder."""
    manifest = vectors_dir / "manifest.json"
    info: dict[str, Any] = {"vectors_dir": str(vectors_dir)}
    try:
        data = manifest.read_bytes()
    except OSError:
        info["manifest_sha256"] = None
        data = b""
    else:
        info["manifest_sha256"] = hashlib.sha256(data).hexdigest()
    version = None
    spec_version = None
    profile = None
    docs: Iterable[Path] = [manifest] if data else []
    docs = [*docs, *sorted(vectors_dir.glob("*/*.json"))[:1]]
    for path in docs:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            version = version or doc.get("suite_version")
            spec_version = spec_version or doc.get("spec_version")
            profile = profile or doc.get("profile")
    info.update(suite_version=version, spec_version=spec_version, profile=profile)
    return info


def _runner_info() -> dict[str, Any]:
    from daskwire import __version__

    return {
        "name": "daskwire",
        "version": __version__,
        "python": platform.python_version(),
        "platform": sys.platform,
    }


def _check_doc(check: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"outcome": check.outcome}
    for key in ("mode", "failure", "category", "message", "expected", "actual", "diff", "stderr"):
        value = getattr(check, key)
        if value not in (None, ""):
            doc[key] = value
    doc["seconds"] = round(check.seconds, 6)
    return doc


def _result_doc(result: Result, blocking: bool) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if result.reason:
        details["reason"] = result.reason
    if result.outcome != "passed":
        details["signature"] = result.signature()
        if result.input is not None:
            details["input"] = result.input
        details["show"] = show_command(result.id)
    if result.optional_skip:
        details["optional_capability"] = True
    if result.checks:
        details["checks"] = [_check_doc(c) for c in result.checks]
    return {
        "id": result.id,
        "outcome": result.outcome,
        "kind": result.kind,
        "level": result.level,
        "requirements": list(result.requirements),
        "blocking": blocking,
        "seconds": round(result.seconds, 6),
        "details": details,
    }


def report_document(summary: Summary, *, suite: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON report (spec/schemas/report.schema.json)."""
    run = summary.run
    blocking = set(summary.blocking)
    verdict = summary.baseline
    start = run.start or {}
    return {
        "format": REPORT_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "suite": dict(suite),
        "runner": _runner_info(),
        "target": run.target,
        "implementation": implementation_of(start),
        "capabilities": bounded(start["capabilities"], 4000)
        if isinstance(start.get("capabilities"), Mapping)
        else None,
        "run": {
            "selected": run.selected,
            "complete": run.complete,
            "interrupted": run.interrupted,
            "harness_error": run.harness_error,
            "restarts": run.restarts,
            "jobs": run.jobs,
            "seconds": round(run.seconds, 3),
            "notes": list(run.notes),
        },
        "summary": {
            **{k: summary.counts[k] for k in (*_OUTCOMES, "total")},
            "blocking": len(summary.blocking),
            "exit_code": summary.exit_code,
        },
        "baseline": None
        if verdict is None
        else {
            "matched": len(verdict.matched),
            "unexpected_passes": list(verdict.unexpected_passes),
            "changed": [
                {"id": i, "expected": want, "actual": got} for i, want, got in verdict.changed
            ],
            "stale": list(verdict.stale),
        },
        "results": [_result_doc(r, r.id in blocking) for r in summary.results],
    }


def write_text(path: Path, text: str, *, append: bool = False) -> None:
    """Write (or append to) a report file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as out:
        out.write(text)


def _input_text(result: Result) -> str:
    shown = json.dumps(result.input, separators=(",", ":")) if result.input is not None else ""
    lines = [f"input: {clean_text(shown, CONSOLE_INPUT_CHARS)}"] if shown else []
    return "\n".join([*lines, f"see: {show_command(result.id)}"])


def _failure_text(result: Result) -> str:
    parts = [result.reason]
    for check in result.checks:
        if check.outcome != "passed":
            parts = [check.message]
            if check.diff:
                parts.append(check.diff)
            if check.stderr:
                parts.append(f"stderr:\n{check.stderr}")
            break
    parts.append(_input_text(result))
    return "\n".join(p for p in parts if p)


def junit_xml(summary: Summary) -> str:
    """A JUnit XML document: one testcase per vector, classname `group.area`."""
    import xml.etree.ElementTree as ET

    counts = summary.counts
    failures = counts["failed"]
    errors = counts["errored"]
    skipped = counts["skipped"] + counts["xfailed"]
    attrs = {
        "name": "daskwire",
        "tests": str(counts["total"]),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": f"{summary.run.seconds:.3f}",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", {**attrs, "name": f"daskwire {summary.run.target}"})
    props = ET.SubElement(suite, "properties")
    impl = implementation_of(summary.run.start) or {}
    for key in ("name", "version", "language"):
        ET.SubElement(
            props, "property", {"name": f"implementation.{key}", "value": str(impl.get(key, ""))}
        )
    ET.SubElement(
        props, "property", {"name": "complete", "value": str(summary.run.complete).lower()}
    )
    for result in summary.results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": result.area.replace("/", "."),
                "name": result.id,
                "time": f"{result.seconds:.6f}",
            },
        )
        if result.outcome == "failed":
            node = ET.SubElement(
                case, "failure", {"message": result.reason, "type": result.signature()}
            )
            node.text = _failure_text(result)
        elif result.outcome == "errored":
            node = ET.SubElement(
                case, "error", {"message": result.reason, "type": result.signature()}
            )
            node.text = _failure_text(result)
        elif result.outcome == "skipped":
            ET.SubElement(case, "skipped", {"message": result.reason})
        elif result.outcome == "xfailed":
            ET.SubElement(
                case, "skipped", {"message": f"expected failure (baseline): {result.signature()}"}
            )
    if not summary.run.complete:
        case = ET.SubElement(suite, "testcase", {"classname": "daskwire", "name": "complete run"})
        reason = summary.run.harness_error or "interrupted"
        node = ET.SubElement(case, "error", {"message": f"incomplete run: {reason}"})
        node.text = f"{len(summary.run.results)} of {summary.run.selected} vectors have a verdict"
        root.set("errors", str(errors + 1))
        suite.set("errors", str(errors + 1))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _by_key(
    results: Iterable[Result], keys: Callable[[Result], Iterable[str]], *, natural: bool = False
) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        for key in keys(result):
            table[key][result.outcome] += 1
    order: Callable[[str], Any] = _requirement_key if natural else str
    return {k: table[k] for k in sorted(table, key=order)}


def _md_cell(text: str, limit: int = SHORT_LIMIT) -> str:
    """Testee text in a Markdown table cell: cut, printable, no HTML, no table breaks."""
    text = html.escape(clean_text(text, limit), quote=False)
    return text.replace("|", "\\|").replace("`", "\\`").replace("\n", " ")


def _md_code(text: str) -> str:
    return "`" + clean_text(text, SHORT_LIMIT).replace("`", "'").replace("\n", " ") + "`"


def _status(summary: Summary) -> str:
    code = summary.exit_code
    if code == 0:
        return "passed"
    if not summary.run.complete:
        what = "harness error" if summary.run.harness_error else "incomplete"
        return f"{what} (exit {code})"
    return f"failed (exit {code})"


def markdown_summary(summary: Summary) -> str:
    """A short Markdown summary for CI step summaries: totals, failures grouped by cause, the
    areas with results that do not pass, stale baseline entries; testee text is cut."""
    run = summary.run
    c = summary.counts
    lines = [
        f"## daskwire conformance: {_status(summary)}",
        "",
        (
            f"**{summary.final_line}** of {run.selected} selected vectors "
            f"({c['errored']} errored, {c['xfailed']} xfailed, "
            f"{len(summary.blocking)} blocking; {run.seconds:.1f} s)"
        ),
        "",
        f"Target: {_md_code(run.target)}; implementation: {_md_cell(_impl_line(run.start))}",
        "",
    ]
    if not run.complete:
        reason = _md_cell(run.harness_error or "interrupted", 500)
        lines += [
            (
                f"> **Incomplete run**: {reason} "
                f"({len(run.results)} of {run.selected} vectors have a verdict)."
            ),
            "",
        ]
    blocking = set(summary.blocking)
    grouped = causes(r for r in summary.results if r.id in blocking)
    if grouped:
        lines += [
            "### Failures by cause",
            "",
            "| vectors | cause | for example |",
            "|---:|---|---|",
        ]
        for cause, members in grouped[:MAX_CAUSES]:
            examples = ", ".join(f"`{r.id}`" for r in members[:CAUSE_EXAMPLES])
            more = ", ..." if len(members) > CAUSE_EXAMPLES else ""
            lines.append(f"| {len(members)} | {_md_cell(cause)} | {examples}{more} |")
        if len(grouped) > MAX_CAUSES:
            rest = grouped[MAX_CAUSES:]
            count = sum(len(m) for _, m in rest)
            lines.append(f"| {count} | {len(rest)} more causes | |")
        lines.append("")
    areas = _by_key(summary.results, lambda r: [r.area])
    troubled = sorted(
        ((area, counter) for area, counter in areas.items() if set(counter) - {"passed"}),
        key=lambda item: -(sum(item[1].values()) - item[1]["passed"]),
    )
    lines += [
        "### By area",
        "",
        "| area | " + " | ".join(_OUTCOMES) + " | total |",
        "|---" + "|---:" * (len(_OUTCOMES) + 1) + "|",
        "| **all** | " + " | ".join(str(c[k]) for k in _OUTCOMES) + f" | {c['total']} |",
    ]
    for area, counter in troubled[:MARKDOWN_MAX_AREAS]:
        cells = " | ".join(str(counter[k]) for k in _OUTCOMES)
        lines.append(f"| {_md_cell(area)} | {cells} | {sum(counter.values())} |")
    if len(troubled) > MARKDOWN_MAX_AREAS:
        lines.append(f"| {len(troubled) - MARKDOWN_MAX_AREAS} more areas | | | | | | |")
    clean = len(areas) - len(troubled)
    lines += ["", f"{clean} other areas: every vector passed." if troubled else "", ""]
    verdict = summary.baseline
    if verdict is not None and verdict.stale:
        stale = [f"- `{_md_cell(i)}`" for i in verdict.stale[:MAX_CAUSES]]
        if len(verdict.stale) > MAX_CAUSES:
            stale.append(f"- ... {len(verdict.stale) - MAX_CAUSES} more")
        lines += ["### Stale baseline entries", "", *stale, ""]
    lines.append(summary.final_line)
    kept = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(kept) + "\n"


# -- console -----------------------------------------------------------------------------------

_LABEL: Final = {
    "passed": "PASS",
    "failed": "FAIL",
    "errored": "ERROR",
    "skipped": "SKIP",
    "xfailed": "XFAIL",
}


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _not_passed(result: Result) -> bool:
    if result.outcome in ("failed", "errored"):
        return True
    return result.outcome == "skipped" and not result.optional_skip


class ConsoleReporter:
    """Prints progress while a run goes and the unexpected results, summaries and final line.

    On a terminal, progress is a bar (with `rich`) or a counter; without one (a CI log), a
    line every PROGRESS_SECONDS on stderr, so that a slow testee does not look like a hang.
    """

    def __init__(
        self, out: IO[str] | None = None, *, verbose: bool = False, total: int = 0
    ) -> None:
        self.out = out or sys.stdout
        self.err = sys.stderr
        self.verbose = verbose
        self.total = total
        self._done = 0
        self._not_passed = 0
        self._began = time.monotonic()
        self._closed = False
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._tty = self.err.isatty()
        self._stop_ticker = threading.Event()
        self._ticker: threading.Thread | None = None
        if not verbose and self._tty:
            try:
                from rich.progress import Progress
            except ImportError:
                pass
            else:
                self._progress = Progress(transient=True)
                self._task = self._progress.add_task("daskwire check", total=total)
                self._progress.start()
        if not self._tty and total > 0:
            self._ticker = threading.Thread(
                target=self._tick, args=(PROGRESS_SECONDS,), name="daskwire-progress", daemon=True
            )
            self._ticker.start()

    def _tick(self, seconds: float) -> None:
        while not self._stop_ticker.wait(seconds):
            with self._lock:
                if self._closed:
                    return
                done, bad = self._done, self._not_passed
                share = 100 * done // self.total if self.total else 100
                self.err.write(
                    f"progress: {done} of {self.total} vectors ({share}%), {bad} not passed, "
                    f"{time.monotonic() - self._began:.0f} s\n"
                )
                self.err.flush()

    def on_result(self, result: Result) -> None:
        """Called as each vector gets its verdict (from worker threads)."""
        with self._lock:
            self._done += 1
            self._not_passed += _not_passed(result)
            if self._progress is not None:
                self._progress.update(self._task, advance=1)
            elif self.verbose:
                self.out.write(f"{_LABEL[result.outcome]:5} {result.id}\n")
                self.out.flush()
            elif self._tty and self._done % 50 == 0:
                self.err.write(f"\r{self._done}/{self.total} vectors")
                self.err.flush()

    def close(self) -> None:
        """Stop the progress display."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop_ticker.set()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elif not self.verbose and self._tty and self._done >= 50:
            self.err.write("\r" + " " * 30 + "\r")

    def _block(self, result: Result, blocking: bool) -> str:
        level = result.level + ("" if blocking else ", warning only")
        reqs = ", ".join(result.requirements) or "no requirement"
        head = f"{_LABEL[result.outcome]} {result.id}  [{level}; {reqs}]"
        lines = [head]
        if result.outcome == "skipped":
            lines.append(f"    skipped: {result.reason}")
        for check in result.checks:
            if check.outcome == "passed":
                continue
            mode = f"({check.mode}) " if check.mode else ""
            label = check.failure or check.outcome
            message = check.message.rstrip()
            first, _, rest = message.partition("\n")
            lines.append(f"    {mode}{label}: {first}")
            if rest:
                lines.append(_indent(rest, "      "))
            if check.diff:
                diff = check.diff.partition("\n")[2] if check.diff.startswith(first) else check.diff
                lines.append(_indent(diff, "      "))
            elif check.expected is not None or check.actual is not None:
                lines.append(f"      expected: {clean_text(json.dumps(check.expected), 400)}")
                lines.append(f"      actual:   {clean_text(json.dumps(check.actual), 400)}")
            if check.stderr:
                stderr = clean_text(check.stderr.rstrip(), CONSOLE_STDERR_CHARS, keep="tail")
                lines.append("      stderr:")
                lines.append(_indent(stderr, "        "))
        if result.outcome != "passed":
            lines.append(_indent(_input_text(result)))
        return "\n".join(lines)

    def report(self, summary: Summary) -> None:
        """Print the end-of-run report."""
        self.close()
        run = summary.run
        write = self.out.write
        blocking = set(summary.blocking)
        shown = [
            r
            for r in summary.results
            if r.id in blocking
            or r.outcome in ("failed", "errored")
            or (self.verbose and r.outcome != "passed")
        ]
        for result in shown:
            write(self._block(result, result.id in blocking) + "\n\n")
        verdict = summary.baseline
        if verdict is not None and verdict.stale:
            write("Stale baseline entries (no such vector):\n")
            for vector_id in verdict.stale:
                write(f"    {clean_text(vector_id, SHORT_LIMIT)}\n")
            write("\n")
        self._tables(summary)
        self._causes(summary)
        for note in run.notes:
            write(f"note: {clean_text(note)}\n")
        if run.harness_error:
            write(f"HARNESS ERROR: {run.harness_error}\n")
        if not run.complete:
            write(
                f"INCOMPLETE RUN: {len(run.results)} of {run.selected} selected vectors "
                "have a verdict; this run is not a pass.\n"
            )
        c = summary.counts
        write(
            f"target: {run.target}; implementation: {_impl_line(run.start)}; "
            f"{run.seconds:.2f} s; {c['errored']} errored, {c['xfailed']} xfailed, "
            f"{len(blocking)} blocking; exit {summary.exit_code}\n"
        )
        write(summary.final_line + "\n")
        self.out.flush()

    def _causes(self, summary: Summary) -> None:
        blocking = set(summary.blocking)
        grouped = causes(r for r in summary.results if r.id in blocking)
        if not grouped:
            return
        write = self.out.write
        write("Blocking results by cause (most vectors first):\n")
        for cause, members in grouped[:MAX_CAUSES]:
            write(f"  {len(members):>5}  {cause}\n")
            examples = ", ".join(r.id for r in members[:CAUSE_EXAMPLES])
            more = ", ..." if len(members) > CAUSE_EXAMPLES else ""
            write(f"{'':11}e.g. {examples}{more}\n")
        if len(grouped) > MAX_CAUSES:
            rest = grouped[MAX_CAUSES:]
            write(f"  {sum(len(m) for _, m in rest):>5}  ({len(rest)} more causes)\n")
        write("\n")

    def _tables(self, summary: Summary) -> None:
        write = self.out.write
        run = summary.run
        areas = _by_key(summary.results, lambda r: [r.area])
        reqs = _by_key(summary.results, lambda r: r.requirements, natural=True)
        if not self.verbose:
            all_areas, all_reqs = len(areas), len(reqs)
            areas = {k: v for k, v in areas.items() if set(v) - {"passed"}}
            reqs = {k: v for k, v in reqs.items() if set(v) - {"passed"}}
            if not areas and not reqs:
                # a pass line only for a run that ran every selected vector
                if run.complete and summary.results:
                    write(
                        f"Every vector of {all_areas} areas and {all_reqs} requirements passed.\n"
                    )
                elif summary.results:
                    write(
                        f"No failure among the {len(summary.results)} vectors with a verdict; "
                        f"{run.selected - len(summary.results)} have none.\n"
                    )
                return
        for title, table in (("area", areas), ("requirement", reqs)):
            if not table:
                continue
            width = max(len(title), *(len(k) for k in table))
            write(f"By {title}:\n")
            write(f"    {title:<{width}}  " + "  ".join(f"{k:>7}" for k in _OUTCOMES) + "\n")
            for key, counter in table.items():
                write(
                    f"    {key:<{width}}  "
                    + "  ".join(f"{counter[k]:>7}" for k in _OUTCOMES)
                    + "\n"
                )
            write("\n")
