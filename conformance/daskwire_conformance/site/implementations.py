"""Conformance results kept in spec/implementations/, and the site page that shows them.

One results file per implementation and profile: `<implementation>.<profile>.json`, recorded
from a `daskwire check --json-report` run of that profile. The page has one section per
profile, in the registry's order, each compared with that profile's vector suite.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from daskwire import PROFILE, PROFILES

from daskwire_conformance.common.data import vectors_root
from daskwire_conformance.common.suite import MANIFEST_NAME

__all__ = [
    "IMPLEMENTATIONS_PAGE",
    "OUTCOMES",
    "REFRESH_COMMANDS",
    "RESULTS_DIR",
    "RESULTS_FORMAT",
    "SuiteState",
    "implementation_name",
    "implementations_page",
    "load_results",
    "profile_suites",
    "record_results",
    "results_from_report",
    "stale_reasons",
    "suite_state",
]

#: Where the page goes, relative to the docs folder.
IMPLEMENTATIONS_PAGE: Final = "generated/implementations.md"
#: The folder of recorded results, relative to the docs folder; one file per implementation
#: and profile, `<implementation>.<profile>.json`.
RESULTS_DIR: Final = "implementations"
RESULTS_FORMAT: Final = "daskwire-results/1"
#: Outcomes a result counts, in the order the page shows them.
OUTCOMES: Final = ("passed", "failed", "errored", "skipped", "xfailed")
#: The commands that measure the implementations of the kit and record their results.
#: The reference and the Rust example declare every profile, so each check writes one report
#: per profile.
REFRESH_COMMANDS: Final = (
    "daskwire check --json-report reports/reference-stdio-{profile}.json",
    (
        "daskwire check --json-report reports/rust-example-{profile}.json -- "
        "examples/rust/target/release/daskwire-rs"
    ),
    "daskwire spec results "
    + " ".join(
        f"reports/{name}-{profile}.json"
        for name in ("reference-stdio", "rust-example")
        for profile in PROFILES
    ),
)
#: The profile whose vectors the site's vector pages show; only its areas link to them.
VECTOR_PAGES_PROFILE: Final = PROFILE
_REPORT_FORMAT: Final = "daskwire-report/1"
_GROUP_ORDER: Final = ("encode", "decode", "wire", "stream", "handshake", "invalid")
#: What may join a report's name to the profile a `{profile}` in its path put there.
_PROFILE_SEPARATORS: Final = ("-", ".", "_")


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteState:
    """A profile's vector suite, as a site shows it: version, fingerprint, vectors per area."""

    version: str
    #: The sha256 of the suite's manifest file, as `daskwire check` reports it.
    fingerprint: str
    #: Vectors per "group/area", from the manifest.
    areas: Mapping[str, int]
    #: The profile the manifest names.
    profile: str = PROFILE

    @property
    def vectors(self) -> int:
        """How many vectors the suite holds."""
        return sum(self.areas.values())


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
        profile=str(manifest.get("profile") or PROFILE),
    )


def profile_suites(root: Path | None = None) -> dict[str, SuiteState | None]:
    """Every registry profile's vector suite, in registry order (None: it has no manifest).

    `root` holds a folder per profile (default: the kit's vectors/).
    """
    base = vectors_root() if root is None else root
    return {profile: suite_state(base / profile) for profile in PROFILES}


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
        # A report from before profiles existed ran placeholder-v1, the only profile then.
        "profile": str(suite.get("profile") or PROFILE),
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


def implementation_name(report_path: Path, profile: str) -> str:
    """The implementation a report measured: its file name, less the profile's name.

    `daskwire check --json-report reports/reference-stdio-{profile}.json` writes
    reference-stdio-placeholder-v1.json and reference-stdio-dask-2023.11.json, both of
    implementation `reference-stdio`. Raises ValueError when nothing but the profile is left.
    """
    stem = report_path.stem
    if report_path.name.endswith(".json"):
        stem = report_path.name.removesuffix(".json")
    for separator in _PROFILE_SEPARATORS:
        if stem.endswith(separator + profile):
            stem = stem.removesuffix(separator + profile)
            break
    if not stem or stem == profile:
        msg = (
            f"{report_path}: its name is only its profile's; name the report after the "
            "implementation, e.g. --json-report reports/my-impl-{profile}.json"
        )
        raise ValueError(msg)
    return stem


def _results_file(folder: Path, implementation: str, profile: str) -> Path:
    return folder / f"{implementation}.{profile}.json"


def record_results(
    reports: Sequence[Path], folder: Path, *, repo: Path | None = None
) -> list[tuple[Path, bool]]:
    """Write the results of each report to `folder`/<implementation>.<profile>.json.

    The implementation is the report's file name less its profile (`implementation_name`),
    the profile the one the report's suite names, so that a report of each profile is
    recorded under its own. A file is rewritten only when its results change; the date and
    commit it carries are those of the run that measured them. A file of the layout before
    profiles (`<implementation>.json`) holding the same profile is replaced. Returns each
    file with whether it changed. Raises ValueError for an unusable report, or two reports
    of the same implementation and profile.
    """
    planned: dict[Path, tuple[Path, dict[str, Any], dict[str, Any]]] = {}
    for report_path in reports:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        try:
            results = results_from_report(report)
        except ValueError as exc:
            msg = f"{report_path}: {exc}"
            raise ValueError(msg) from None
        profile = results["profile"]
        target = _results_file(folder, implementation_name(report_path, profile), profile)
        if target in planned:
            msg = (
                f"{planned[target][0]} and {report_path} both hold the results of "
                f"{target.name.removesuffix('.json')}; record one of them"
            )
            raise ValueError(msg)
        planned[target] = (report_path, report, results)
    written: list[tuple[Path, bool]] = []
    for target, (_, report, results) in planned.items():
        legacy = _legacy_file(folder, target, results["profile"])
        old: dict[str, Any] | None = None
        if target.is_file():
            old = json.loads(target.read_text(encoding="utf-8"))
        unchanged = old is not None and {k: v for k, v in old.items() if k != "measured"} == results
        if unchanged and legacy is None:
            written.append((target, False))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        results["measured"] = (old or {}).get("measured") if unchanged else None
        if results["measured"] is None:
            results["measured"] = _measured(report, repo or folder)
        target.write_text(_dumps(results), encoding="utf-8", newline="\n")
        if legacy is not None:
            legacy.unlink()
        written.append((target, True))
    return written


def _legacy_file(folder: Path, target: Path, profile: str) -> Path | None:
    """The file of the layout before profiles that `target` replaces, if there is one."""
    implementation = target.name.removesuffix(f".{profile}.json")
    legacy = folder / f"{implementation}.json"
    if not legacy.is_file():
        return None
    try:
        results = json.loads(legacy.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        return None
    return legacy if str(results.get("profile") or PROFILE) == profile else None


def load_results(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every results file in `folder`: (implementation, results), sorted by file name.

    A file is `<implementation>.<profile>.json`, its profile the one its results name; a file
    of the layout before profiles, `<implementation>.json`, is read too. A file of another
    format, a name that disagrees with the profile inside, or two files of one implementation
    and profile fail loudly.
    """
    found: list[tuple[str, dict[str, Any]]] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        results = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
            msg = f"{path} is not a results file ({RESULTS_FORMAT}) of `daskwire spec results`"
            raise ValueError(msg)
        profile = results.setdefault("profile", PROFILE)
        name = path.name.removesuffix(".json")
        implementation = name.removesuffix(f".{profile}")
        if implementation == name and any(name.endswith(f".{p}") for p in PROFILES):
            msg = f"{path} holds results of profile {profile}, not of the one its name says"
            raise ValueError(msg)
        key = (implementation, str(profile))
        if key in seen:
            msg = (
                f"{seen[key]} and {path} both hold results of {implementation} for profile "
                f"{profile}; remove the older one"
            )
            raise ValueError(msg)
        seen[key] = path
        found.append((implementation, results))
    return found


def stale_reasons(results: Mapping[str, Any], suite: SuiteState | None) -> list[str]:
    """Why recorded results do not describe the vector suite `suite`; empty when they do.

    `suite` is the suite of the profile the results were measured on; another profile's is
    a reason too.
    """
    if suite is None:
        return ["there is no vector suite to compare them with"]
    reasons: list[str] = []
    profile = str(results.get("profile") or PROFILE)
    if profile != suite.profile:
        reasons.append(f"measured on profile {profile}, not {suite.profile}")
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


def _the_suites(
    suites: Mapping[str, SuiteState | None] | SuiteState | None,
) -> Mapping[str, SuiteState | None]:
    """Suites by profile. One suite, or None, is the call of before profiles: that suite
    stands for its profile (None for placeholder-v1), and the kit's vectors for the rest."""
    if suites is None or isinstance(suites, SuiteState):
        every = profile_suites()
        every[suites.profile if suites else PROFILE] = suites
        return every
    return suites


def implementations_page(
    results: Sequence[tuple[str, Mapping[str, Any]]],
    suites: Mapping[str, SuiteState | None] | SuiteState | None,
    *,
    vector_pages: bool = True,
) -> str:
    """The page: per profile, a summary row and a per-area matrix of each implementation.

    `results` are (implementation, results) pairs, as `load_results` gives them; `suites`
    maps each profile to its vector suite (`profile_suites`), and its order is the page's.
    A profile gets a section when it has a suite or results; results of a profile `suites`
    does not name come last. Results that do not match their profile's suite say so in a
    warning, and an implementation recorded for other profiles only is named in each section
    it is missing from. With `vector_pages`, the areas of `VECTOR_PAGES_PROFILE` link to
    their pages of vectors.
    """
    by_profile = _the_suites(suites)
    lines = [
        "---",
        "hide: [toc]",  # the tables need the width
        "---",
        "",
        "# Implementations",
        "",
        "The implementations of the kit, checked against the golden vectors of each profile.",
        "The numbers come from `daskwire check --json-report` runs, recorded in",
        "`spec/implementations/` (one file per implementation and profile) by",
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
    recorded: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for name, result in results:
        recorded.setdefault(str(result.get("profile") or PROFILE), []).append((name, result))
    every_name = list(dict.fromkeys(name for name, _ in results))
    known = [p for p in by_profile if by_profile[p] is not None or p in recorded]
    for profile in [*known, *sorted(p for p in recorded if p not in by_profile)]:
        entries = recorded.get(profile, [])
        missing = [n for n in every_name if n not in {name for name, _ in entries}]
        lines += _profile_section(
            profile,
            entries,
            by_profile.get(profile),
            missing=missing,
            vector_pages=vector_pages and profile == VECTOR_PAGES_PROFILE,
        )
    return "\n".join(lines)


def _profile_section(
    profile: str,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    suite: SuiteState | None,
    *,
    missing: Sequence[str],
    vector_pages: bool,
) -> list[str]:
    lines = [f"## Profile `{profile}`", ""]
    if suite is None:
        lines += [f"This kit has no vector suite for `{profile}`.", ""]
    else:
        files = len(suite.areas)
        lines += [
            (
                f"Vector suite {suite.version}: {suite.vectors} vectors in {files} "
                f"file{'s' if files != 1 else ''} (`vectors/{profile}/`)."
            ),
            "",
        ]
    if missing:
        listed = ", ".join(f"`{_cell(name)}`" for name in missing)
        verb = "does" if len(missing) == 1 else "do"
        lines += [
            (
                f"{listed} {verb} not implement `{profile}`: no results are recorded for it "
                "(`daskwire check` runs every profile a testee declares)."
            ),
            "",
        ]
    if not entries:
        return lines
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
