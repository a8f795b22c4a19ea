"""Reports of a run: console text (progress on a TTY), JSON with provenance, JUnit XML, Markdown."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from daskwire_conformance.runner.judge import Result
from daskwire_conformance.runner.run import Summary

__all__ = [
    "REPORT_FORMAT",
    "ConsoleReporter",
    "junit_xml",
    "markdown_summary",
    "report_document",
    "suite_provenance",
    "write_text",
]

#: The `format` value of a JSON report (spec/schemas/report.schema.json).
REPORT_FORMAT: Final = "daskwire-report/1"
#: Unexpected results listed in full in a Markdown summary.
MARKDOWN_MAX_ROWS: Final = 50
_OUTCOMES: Final = ("passed", "failed", "errored", "skipped", "xfailed")


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
        "implementation": start.get("implementation"),
        "capabilities": start.get("capabilities"),
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


def write_text(path: Path, text: str) -> None:
    """Write a report file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _failure_text(result: Result) -> str:
    for check in result.checks:
        if check.outcome != "passed":
            parts = [check.message]
            if check.diff:
                parts.append(check.diff)
            if check.stderr:
                parts.append(f"stderr:\n{check.stderr}")
            return "\n".join(p for p in parts if p)
    return result.reason


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
    impl = (summary.run.start or {}).get("implementation") or {}
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


def _by_key(results: Iterable[Result], keys: Any) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        for key in keys(result):
            table[key][result.outcome] += 1
    return dict(sorted(table.items()))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(summary: Summary) -> str:
    """A Markdown summary for CI step summaries: counts, areas, unexpected results, baseline."""
    run = summary.run
    impl = (run.start or {}).get("implementation") or {}
    status = "passed" if summary.exit_code == 0 else f"failed (exit {summary.exit_code})"
    lines = [
        f"## daskwire conformance: {status}",
        "",
        f"Target: `{run.target}`  ",
        (
            f"Implementation: {impl.get('name', '?')} {impl.get('version', '')} "
            f"({impl.get('language', '?')})"
        ),
        "",
    ]
    if not run.complete:
        lines += [
            (
                f"**Incomplete run**: {run.harness_error or 'interrupted'} "
                f"({len(run.results)} of {run.selected} vectors have a verdict)."
            ),
            "",
        ]
    header = "| | " + " | ".join(_OUTCOMES) + " | total |"
    rule = "|---" * (len(_OUTCOMES) + 2) + "|"
    c = summary.counts
    lines += [
        header,
        rule,
        "| all | " + " | ".join(str(c[k]) for k in _OUTCOMES) + f" | {c['total']} |",
    ]
    for area, counter in _by_key(summary.results, lambda r: [r.area]).items():
        total = sum(counter.values())
        lines.append(
            f"| {area} | " + " | ".join(str(counter[k]) for k in _OUTCOMES) + f" | {total} |"
        )
    lines.append("")
    bad = [r for r in summary.results if r.id in set(summary.blocking)]
    if bad:
        lines += [
            "### Unexpected results",
            "",
            "| vector | outcome | requirements | reason |",
            "|---|---|---|---|",
        ]
        for result in bad[:MARKDOWN_MAX_ROWS]:
            lines.append(
                f"| `{result.id}` | {result.outcome} | {', '.join(result.requirements)} "
                f"| {_md_cell(result.reason)[:200]} |"
            )
        if len(bad) > MARKDOWN_MAX_ROWS:
            lines.append(f"| ... | {len(bad) - MARKDOWN_MAX_ROWS} more | | |")
        lines.append("")
    verdict = summary.baseline
    if verdict is not None and verdict.stale:
        lines += ["### Stale baseline entries", ""] + [f"- `{i}`" for i in verdict.stale] + [""]
    lines.append(summary.final_line)
    return "\n".join(lines) + "\n"


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


class ConsoleReporter:
    """Prints progress while a run goes and the unexpected results, summaries and final line."""

    def __init__(
        self, out: IO[str] | None = None, *, verbose: bool = False, total: int = 0
    ) -> None:
        self.out = out or sys.stdout
        self.verbose = verbose
        self.total = total
        self._done = 0
        self._closed = False
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        if not verbose and sys.stderr.isatty():
            try:
                from rich.progress import Progress
            except ImportError:
                pass
            else:
                self._progress = Progress(transient=True)
                self._task = self._progress.add_task("daskwire check", total=total)
                self._progress.start()

    def on_result(self, result: Result) -> None:
        """Called as each vector gets its verdict (from worker threads)."""
        with self._lock:
            self._done += 1
            if self._progress is not None:
                self._progress.update(self._task, advance=1)
            elif self.verbose:
                self.out.write(f"{_LABEL[result.outcome]:5} {result.id}\n")
                self.out.flush()
            elif sys.stderr.isatty() and self._done % 50 == 0:
                sys.stderr.write(f"\r{self._done}/{self.total} vectors")
                sys.stderr.flush()

    def close(self) -> None:
        """Stop the progress display."""
        if self._closed:
            return
        self._closed = True
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elif not self.verbose and sys.stderr.isatty() and self._done >= 50:
            sys.stderr.write("\r" + " " * 30 + "\r")

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
                lines.append(f"      expected: {json.dumps(check.expected)[:400]}")
                lines.append(f"      actual:   {json.dumps(check.actual)[:400]}")
            if check.stderr:
                lines.append("      stderr:")
                lines.append(_indent(check.stderr.rstrip()[-2000:], "        "))
        return "\n".join(lines)

    def report(self, summary: Summary) -> None:
        """Print the end-of-run report."""
        self.close()
        run = summary.run
        write = self.out.write
        impl = (run.start or {}).get("implementation") or {}
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
                write(f"    {vector_id}\n")
            write("\n")
        self._tables(summary)
        for note in run.notes:
            write(f"note: {note}\n")
        if run.harness_error:
            write(f"HARNESS ERROR: {run.harness_error}\n")
        if not run.complete:
            write(
                f"INCOMPLETE RUN: {len(run.results)} of {run.selected} selected vectors "
                "have a verdict; this run is not a pass.\n"
            )
        c = summary.counts
        write(
            f"target: {run.target}; implementation: {impl.get('name', '?')} "
            f"{impl.get('version', '')} ({impl.get('language', '?')}); "
            f"{run.seconds:.2f} s; {c['errored']} errored, {c['xfailed']} xfailed, "
            f"{len(blocking)} blocking; exit {summary.exit_code}\n"
        )
        write(summary.final_line + "\n")
        self.out.flush()

    def _tables(self, summary: Summary) -> None:
        write = self.out.write
        areas = _by_key(summary.results, lambda r: [r.area])
        reqs = _by_key(summary.results, lambda r: r.requirements)
        if not self.verbose:
            all_areas, all_reqs = len(areas), len(reqs)
            areas = {k: v for k, v in areas.items() if set(v) - {"passed"}}
            reqs = {k: v for k, v in reqs.items() if set(v) - {"passed"}}
            if not areas and not reqs:
                write(f"Every vector of {all_areas} areas and {all_reqs} requirements passed.\n")
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
