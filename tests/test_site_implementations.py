"""The implementations page is rendered from conformance reports, never written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from daskwire_conformance.site.implementations import implementations_page, load_reports


def _report(name: str, passed: int, failed: int) -> dict[str, object]:
    return {
        "target": f"{name}-cmd",
        "implementation": {"name": name, "version": "1.2.3", "language": "rust"},
        "suite": {"profile": "placeholder-v1", "suite_version": "0.1.0"},
        "summary": {
            "passed": passed,
            "failed": failed,
            "errored": 0,
            "skipped": 0,
            "xfailed": 0,
            "total": passed + failed,
            "blocking": failed,
            "exit_code": 1 if failed else 0,
        },
    }


def test_page_lists_each_report(tmp_path: Path) -> None:
    (tmp_path / "b-rust.json").write_text(json.dumps(_report("daskwire-rs", 10, 2)))
    (tmp_path / "a-ref.json").write_text(json.dumps(_report("daskwire", 12, 0)))
    page = implementations_page(load_reports(tmp_path))
    rows = [line for line in page.splitlines() if line.startswith(("| a-", "| b-"))]
    assert rows == [
        (
            "| a-ref | daskwire 1.2.3 | rust | `daskwire-cmd` | 12 | 0 | 0 | 0 | 12 |"
            " placeholder-v1 0.1.0 | 0 |"
        ),
        (
            "| b-rust | daskwire-rs 1.2.3 | rust | `daskwire-rs-cmd` | 10 | 2 | 0 | 0 | 12 |"
            " placeholder-v1 0.1.0 | 1 |"
        ),
    ]


def test_page_without_reports_says_so(tmp_path: Path) -> None:
    page = implementations_page(load_reports(tmp_path / "missing"))
    assert "No reports were found" in page


def test_a_file_that_is_not_a_report_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(ValueError, match="not a `daskwire check --json-report` file"):
        load_reports(tmp_path)
