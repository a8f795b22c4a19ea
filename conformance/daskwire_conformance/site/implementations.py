"""The implementations page of the site, rendered from `daskwire check --json-report` files."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

__all__ = ["IMPLEMENTATIONS_PAGE", "implementations_page", "load_reports", "reports_dir"]

#: Where the page goes, relative to the docs folder.
IMPLEMENTATIONS_PAGE: Final = "generated/implementations.md"
#: The folder of JSON reports: $DASKWIRE_REPORTS, else `reports/` beside the spec folder.
REPORTS_ENV: Final = "DASKWIRE_REPORTS"


def reports_dir(spec_dir: Path) -> Path:
    """The folder the test command writes its conformance reports into."""
    override = os.environ.get(REPORTS_ENV)
    return Path(override) if override else spec_dir.parent / "reports"


def load_reports(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every `*.json` report in `folder`, by file name; unreadable files are skipped loudly."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict) or "summary" not in report:
            msg = f"{path} is not a `daskwire check --json-report` file"
            raise ValueError(msg)
        found.append((path.stem, report))
    return found


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def implementations_page(reports: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """A table of the implementations the test command checked, with their pass counts."""
    lines = [
        "# Implementations",
        "",
        "The implementations below are checked against the golden vectors by the project's",
        "test command on every change. This page is rendered from the JSON reports that",
        "`daskwire check --json-report` wrote in that run (see [harness](../harness.md));",
        "nothing on it is written by hand.",
        "",
    ]
    if not reports:
        lines += [
            "!!! note",
            "    No reports were found when this site was built. The test command",
            "    (`bash scripts/test.sh`) writes them to `reports/` before it builds the site.",
            "",
        ]
        return "\n".join(lines)
    lines += [
        (
            "| Report | Implementation | Language | Target | Passed | Failed | Errored"
            " | Skipped | Total | Suite | Exit |"
        ),
        "|---|---|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, report in reports:
        impl = report.get("implementation") or {}
        summary = report["summary"]
        suite = report.get("suite") or {}
        row = [
            name,
            f"{impl.get('name', '?')} {impl.get('version', '')}".strip(),
            impl.get("language", "?"),
            f"`{_cell(report.get('target', '?'))}`",
            summary["passed"],
            summary["failed"],
            summary["errored"],
            summary["skipped"],
            summary["total"],
            f"{suite.get('profile', '?')} {suite.get('suite_version', '?')}",
            summary["exit_code"],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
    return "\n".join(lines)
