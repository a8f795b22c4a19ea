"""Conformance results kept in spec/implementations/, and the site page that shows them."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from daskwire_conformance.common.suite import MANIFEST_NAME

__all__ = [
    "IMPLEMENTATIONS_PAGE",
    "OUTCOMES",
    "REFRESH_COMMANDS",
    "RESULTS_DIR",
    "RESULTS_FORMAT",
    "SuiteState",
    "implementations_page",
    "load_results",
    "record_results",
    "results_from_report",
    "stale_reasons",
    "suite_state",
]

#: Where the page goes, relative to the docs folder.
IMPLEMENTATIONS_PAGE: Final = "generated/implementations.md"
#: The folder of recorded results, relative to the docs folder; one file per implementation.
RESULTS_DIR: Final = "implementations"
RESULTS_FORMAT: Final = "daskwire-results/1"
#: Outcomes a result counts, in the order the page shows them.
OUTCOMES: Final = ("passed", "failed", "errored", "skipped", "xfailed")
#: The commands that measure the implementations of the kit and record their results.
REFRESH_COMMANDS: Final = (
    "daskwire check --json-report reports/reference-stdio.json",
    (
        "daskwire check --json-report reports/rust-example.json -- "
        "examples/rust/target/release/daskwire-rs"
    ),
    "daskwire spec results reports/reference-stdio.json reports/rust-example.json",
)
_REPORT_FORMAT: Final = "daskwire-report/1"
_GROUP_ORDER: Final = ("encode", "decode", "wire", "stream", "invalid")


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteState:
    """The vector suite a site shows: its version, fingerprint and vectors per area."""

    version: str
    #: The sha256 of the suite's manifest file, as `daskwire check` reports it.
    fingerprint: str
    #: Vectors per "group/area", from the manifest.
    areas: Mapping[str, int]


def suite_state(vectors_dir: Path) -> SuiteState | None:
    """The state of the vector suite in `vectors_dir`, or None when it has no manifest."""
    try:
        data = (vectors_dir / MANIFEST_NAME).read_bytes()
    except OSError:
        return None
    manifest = json.loads(data)
    areas = {
        name.removesuffix(".json"): int(info["vectors"])
        for name, info in manifest.get("files", {}).items()
    }
    return SuiteState(
        version=str(manifest.get("suite_version", "?")),
        fingerprint=hashlib.sha256(data).hexdigest(),
        areas=areas,
    )


def _area_of(vector_id: str) -> str:
    group, area = vector_id.split("/")[:2]
    return f"{group}/{area}"


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _measured(report: Mapping[str, Any], repo: Path) -> dict[str, Any]:
    """When and on which commit a report was made: its date, HEAD, and whether HEAD was all."""
    commit = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return {
        "date": str(report.get("created", "?"))[:10],
        "commit": commit or "unknown",
        "local_changes": bool(status) if status is not None else None,
    }


def results_from_report(report: object) -> dict[str, Any]:
    """The compact results of a `daskwire check --json-report` document, without when measured.

    Raises ValueError for a document that is not such a report, or a run that did not complete.
    """
    if (
        not isinstance(report, Mapping)
        or report.get("format") != _REPORT_FORMAT
        or not isinstance(report.get("results"), list)
    ):
        msg = f"not a `daskwire check --json-report` file (format {_REPORT_FORMAT})"
        raise ValueError(msg)
    run = report.get("run") or {}
    if not run.get("complete") or run.get("harness_error"):
        msg = "the run did not complete; its counts would not be the implementation's"
        raise ValueError(msg)
    areas: dict[str, dict[str, int]] = {}
    for result in report["results"]:
        counts = areas.setdefault(_area_of(result["id"]), dict.fromkeys(OUTCOMES, 0))
        counts[result["outcome"]] += 1
    suite = report.get("suite") or {}
    implementation = report.get("implementation") or {}
    return {
        "format": RESULTS_FORMAT,
        "implementation": {
            key: str(implementation.get(key, "?")) for key in ("name", "version", "language")
        },
        "target": str(report.get("target", "?")),
        "profile": str(suite.get("profile", "?")),
        "suite": {
            "version": str(suite.get("suite_version", "?")),
            "fingerprint": str(suite.get("manifest_sha256", "?")),
        },
        "totals": {o: sum(c[o] for c in areas.values()) for o in OUTCOMES},
        "areas": {area: areas[area] for area in sorted(areas, key=_area_sort_key)},
    }


def _area_sort_key(area: str) -> tuple[int, str]:
    group, _, name = area.partition("/")
    rank = _GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER)
    return rank, name


def _dumps(results: Mapping[str, Any]) -> str:
    """The file text: indented JSON, with each area's counts on one line, for short diffs."""
    areas = results.get("areas", {})
    rest = {key: value for key, value in results.items() if key != "areas"}
    text = json.dumps(rest, indent=1, ensure_ascii=False)
    lines = [f"  {json.dumps(area)}: {json.dumps(counts)}" for area, counts in areas.items()]
    body = ",\n".join(lines)
    return text[: text.rindex("}")].rstrip() + f',\n "areas": {{\n{body}\n }}\n}}\n'


def record_results(
    reports: Sequence[Path], folder: Path, *, repo: Path | None = None
) -> list[tuple[Path, bool]]:
    """Write the results of each report to `folder`/<report name>.json.

    A file is rewritten only when its results change; the date and commit it carries are
    those of the run that measured them. Returns each file with whether it changed.
    """
    written: list[tuple[Path, bool]] = []
    for report_path in reports:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        try:
            results = results_from_report(report)
        except ValueError as exc:
            msg = f"{report_path}: {exc}"
            raise ValueError(msg) from None
        target = folder / f"{report_path.stem}.json"
        old: dict[str, Any] | None = None
        if target.is_file():
            old = json.loads(target.read_text(encoding="utf-8"))
        if old is not None and {k: v for k, v in old.items() if k != "measured"} == results:
            written.append((target, False))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        results["measured"] = _measured(report, repo or folder)
        target.write_text(_dumps(results), encoding="utf-8", newline="\n")
        written.append((target, True))
    return written


def load_results(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every results file in `folder`, by name; a file of another format fails loudly."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        results = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
            msg = f"{path} is not a results file ({RESULTS_FORMAT}) of `daskwire spec results`"
            raise ValueError(msg)
        found.append((path.stem, results))
    return found


def stale_reasons(results: Mapping[str, Any], suite: SuiteState | None) -> list[str]:
    """Why recorded results do not describe the vector suite `suite`; empty when they do."""
    if suite is None:
        return ["there is no vector suite to compare them with"]
    reasons: list[str] = []
    recorded = results.get("suite", {})
    if recorded.get("fingerprint") != suite.fingerprint:
        reasons.append(
            f"measured on suite {recorded.get('version', '?')} with manifest sha256 "
            f"{str(recorded.get('fingerprint', '?'))[:12]}..., not {suite.version} with "
            f"{suite.fingerprint[:12]}..."
        )
    areas = results.get("areas", {})
    counted_areas = {area: sum(counts.values()) for area, counts in areas.items()}
    if counted_areas != dict(suite.areas):
        every = set(counted_areas) | set(suite.areas)
        changed = sorted(a for a in every if counted_areas.get(a) != suite.areas.get(a))
        shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
        reasons.append(f"the vectors per area differ from the suite's in {shown}")
    return reasons


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _measured_text(measured: Mapping[str, Any]) -> str:
    commit = str(measured.get("commit", "unknown"))
    where = f"`{commit[:10]}`" if commit != "unknown" else "an unknown commit"
    if measured.get("local_changes"):
        where += " with local changes"
    return f"{measured.get('date', '?')}, {where}"


def _outcome_cell(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    others = [f"{counts[o]} {o}" for o in OUTCOMES[1:] if counts.get(o)]
    return f"{counts.get('passed', 0)}/{total}" + (f" ({', '.join(others)})" if others else "")


def implementations_page(
    results: Sequence[tuple[str, Mapping[str, Any]]],
    suite: SuiteState | None,
    *,
    vector_pages: bool = True,
) -> str:
    """The page: per profile, a summary row and a per-area matrix of each implementation.

    Results that do not match `suite` say so in a warning. With `vector_pages`, each area
    links to its page of vectors.
    """
    lines = [
        "---",
        "hide: [toc]",  # the tables need the width
        "---",
        "",
        "# Implementations",
        "",
        "The implementations of the kit, checked against the golden vectors. The numbers come",
        "from `daskwire check --json-report` runs, recorded in `spec/implementations/` by",
        "`daskwire spec results`; the project's test command (`bash scripts/test.sh`) measures",
        "them again on every run and fails when they differ from the recorded ones. Each row",
        "gives the date and commit of the run that recorded it. Nothing on this page is",
        "written by hand.",
        "",
    ]
    if not results:
        lines += [
            "!!! note",
            "    No results are recorded in `spec/implementations/`. To record some, run:",
            "",
            "    ```sh",
            *(f"    {command}" for command in REFRESH_COMMANDS),
            "    ```",
            "",
        ]
        return "\n".join(lines)
    profiles: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for name, result in results:
        profiles.setdefault(str(result.get("profile", "?")), []).append((name, result))
    for profile, entries in sorted(profiles.items()):
        lines += _profile_section(profile, entries, suite, vector_pages=vector_pages)
    return "\n".join(lines)


def _profile_section(
    profile: str,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    suite: SuiteState | None,
    *,
    vector_pages: bool,
) -> list[str]:
    lines = [f"## Profile `{profile}`", ""]
    stale = {name: stale_reasons(result, suite) for name, result in entries}
    if any(stale.values()):
        lines += [
            '!!! warning "Out of date"',
            (
                "    Some results below were not measured on the vector suite this site shows"
                f" (suite {suite.version if suite else '?'}), so their numbers may be wrong:"
            ),
            "",
            *(f"    - {name}: {'; '.join(reasons)}." for name, reasons in stale.items() if reasons),
            "",
            "    `bash scripts/test.sh` measures and records them again.",
            "",
        ]
    lines += [
        "| Results | Implementation | Passed | Not passed | Suite | Measured |",
        "|---|---|---:|---|---|---|",
    ]
    for name, result in entries:
        impl = result.get("implementation", {})
        totals = result.get("totals", {})
        version = result.get("suite", {}).get("version", "?")
        others = [f"{totals[o]} {o}" for o in OUTCOMES[1:] if totals.get(o)]
        row = [
            f"`{name}`",
            f"{impl.get('name', '?')} {impl.get('version', '')} ({impl.get('language', '?')})",
            f"{totals.get('passed', 0)} of {sum(totals.values())}",
            ", ".join(others) or "none",
            f"{version}, out of date" if stale[name] else version,
            _measured_text(result.get("measured", {})),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines += ["", "Each was run as:", ""]
    lines += [f"- `{name}`: `{_cell(result.get('target', '?'))}`" for name, result in entries]
    lines += [
        "",
        "Per file of vectors, the vectors each implementation passed, of those it ran",
        "(failed, errored, skipped and expected failures in brackets):",
        "",
    ]
    names = [name for name, _ in entries]
    areas = sorted(
        {area for _, result in entries for area in result.get("areas", {})}
        | set(suite.areas if suite else ()),
        key=_area_sort_key,
    )
    lines += [
        "| Vectors | " + " | ".join(_cell(n) for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for area in areas:
        known = suite is not None and area in suite.areas
        label = f"`{area}`"
        if vector_pages and known:
            label = f"[{label}](vectors/{area.replace('/', '-')}.md)"
        cells = [
            _outcome_cell(result["areas"][area]) if area in result.get("areas", {}) else "-"
            for _, result in entries
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines
