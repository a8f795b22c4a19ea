"""The Implementations page: results recorded in spec/implementations/, one file per
implementation and profile, fresh for that profile's suite."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, BuiltSite, daskwire_command
from daskwire import PROFILES
from daskwire_conformance.site.implementations import (
    REFRESH_COMMANDS,
    RESULTS_DIR,
    SuiteState,
    implementation_name,
    implementations_page,
    load_results,
    profile_suites,
    record_results,
    results_from_report,
    stale_reasons,
    suite_state,
)

V1 = "placeholder-v1"
DASK = "dask-2023.11"
#: The results the repository keeps: (implementation, profile). The reference and the Rust
#: example (harness protocol 2) declare every profile.
KIT_RESULTS = (
    ("reference-stdio", V1),
    ("reference-stdio", DASK),
    ("rust-example", V1),
    ("rust-example", DASK),
)
SUITE = SuiteState(
    version="0.1.0", fingerprint="ab" * 32, areas={"decode/x": 2, "invalid/y": 1}, profile=V1
)
DASK_SUITE = SuiteState(
    version="0.3.0", fingerprint="cd" * 32, areas={"wire/tcp": 1, "invalid/z": 1}, profile=DASK
)
SUITES = {V1: SUITE, DASK: DASK_SUITE}


def _report(
    outcomes: dict[str, str], *, fingerprint: str | None = None, profile: str = V1
) -> dict[str, Any]:
    """A `daskwire check --json-report` document with one result per vector id; by default,
    of the suite `SUITES` has for its profile."""
    version = SUITES[profile].version
    fingerprint = fingerprint or SUITES[profile].fingerprint
    return {
        "format": "daskwire-report/1",
        "created": "2026-12-06T10:00:00+00:00",
        "suite": {
            "manifest_sha256": fingerprint,
            "suite_version": version,
            "profile": profile,
        },
        "target": "example-cmd",
        "implementation": {"name": "example", "version": "1.2.3", "language": "rust"},
        "run": {"complete": True, "harness_error": None},
        "results": [{"id": i, "outcome": o} for i, o in outcomes.items()],
    }


PASSING = {"decode/x/a": "passed", "decode/x/b": "passed", "invalid/y/c": "passed"}
DASK_PASSING = {"wire/tcp/a": "passed", "invalid/z/b": "passed"}


# --- the results the repository keeps ---------------------------------------------------------


def test_committed_results_match_the_vector_suites() -> None:
    """Each recorded result describes its profile's vectors, or this says how to refresh."""
    suites = profile_suites(ROOT / "vectors")
    results = {(name, r["profile"]): r for name, r in load_results(ROOT / "spec" / RESULTS_DIR)}
    assert set(results) == set(KIT_RESULTS), "one file per implementation and profile"
    problems = {
        key: stale_reasons(results[key], suites[key[1]]) if key in results else ["no file"]
        for key in KIT_RESULTS
    }
    problems = {key: reasons for key, reasons in problems.items() if reasons}
    commands = "\n".join(f"    .venv/bin/{command}" for command in REFRESH_COMMANDS)
    assert problems == {}, (
        f"spec/{RESULTS_DIR}/ does not describe the vectors in vectors/. Refresh it with "
        f"`bash scripts/test.sh`, or with:\n{commands}\nthen review and commit "
        f"spec/{RESULTS_DIR}/."
    )


def test_committed_results_are_named_by_implementation_and_profile() -> None:
    names = sorted(p.name for p in (ROOT / "spec" / RESULTS_DIR).glob("*.json"))
    assert names == sorted(f"{name}.{profile}.json" for name, profile in KIT_RESULTS)


def test_refresh_commands_are_the_test_commands() -> None:
    """The page's refresh commands and scripts/test.sh record the same reports."""
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    steps = " ".join(script.replace("\\\n", " ").split())
    for name in ("reference-stdio", "rust-example"):
        assert f"--json-report 'reports/{name}-{{profile}}.json'" in steps
        for profile in PROFILES:
            assert f"reports/{name}-{profile}.json" in REFRESH_COMMANDS[-1]
            assert f"reports/{name}-{profile}.json" in steps
    assert "{profile}" in REFRESH_COMMANDS[0]
    assert "{profile}" in REFRESH_COMMANDS[1]


def test_committed_results_carry_when_they_were_measured() -> None:
    for name, results in load_results(ROOT / "spec" / RESULTS_DIR):
        measured = results["measured"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", measured["date"]), name
        assert re.fullmatch(r"[0-9a-f]{40}", measured["commit"]), name


def test_a_site_built_alone_shows_the_matrix(built_site: BuiltSite) -> None:
    """`daskwire spec build`, as a reader or a docs host runs it, with no reports/ folder."""
    assert built_site.returncode == 0, built_site.output
    assert not (built_site.copy.root / "reports").exists()
    page = (built_site.site / "generated" / "implementations" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "No reports were found" not in page
    assert "No results are recorded" not in page
    assert "Out of date" not in page
    for name, _ in KIT_RESULTS:
        assert f"<code>{name}</code>" in page
    sections = [page.index(f"Profile <code>{profile}</code>") for profile in PROFILES]
    assert sections == sorted(sections), "one section per profile, in registry order"
    assert 'href="../vectors/decode-placeholder/"' in page
    dask_section = page[sections[list(PROFILES).index(DASK)] :]
    assert "does not implement" not in dask_section
    assert "<code>rust-example</code>" in dask_section


# --- recording results --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "areas"),
    [
        (
            PASSING,
            {
                "decode/x": {"passed": 2, "failed": 0, "errored": 0, "skipped": 0, "xfailed": 0},
                "invalid/y": {"passed": 1, "failed": 0, "errored": 0, "skipped": 0, "xfailed": 0},
            },
        ),
        (
            {"invalid/y/c": "skipped", "decode/x/a": "failed", "decode/x/b": "xfailed"},
            {
                "decode/x": {"passed": 0, "failed": 1, "errored": 0, "skipped": 0, "xfailed": 1},
                "invalid/y": {"passed": 0, "failed": 0, "errored": 0, "skipped": 1, "xfailed": 0},
            },
        ),
    ],
)
def test_results_count_outcomes_per_area(
    outcomes: dict[str, str], areas: dict[str, dict[str, int]]
) -> None:
    results = results_from_report(_report(outcomes))
    assert results["areas"] == areas
    assert list(results["areas"]) == ["decode/x", "invalid/y"]
    assert sum(results["totals"].values()) == len(outcomes)
    assert results["suite"] == {"version": "0.1.0", "fingerprint": "ab" * 32}


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ([], "not a `daskwire check --json-report` file"),
        ({**_report(PASSING), "format": "other"}, "not a `daskwire check --json-report` file"),
        ({**_report(PASSING), "run": {"complete": False}}, "did not complete"),
        ({**_report(PASSING), "run": {"complete": True, "harness_error": "x"}}, "did not complete"),
    ],
)
def test_an_unusable_report_is_refused(report: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        results_from_report(report)


def test_a_file_is_rewritten_only_when_its_results_change(tmp_path: Path) -> None:
    report = tmp_path / "example.json"
    folder = tmp_path / "implementations"
    target = folder / "example.placeholder-v1.json"
    report.write_text(json.dumps(_report(PASSING)), encoding="utf-8")
    assert record_results([report], folder) == [(target, True)]
    first = target.read_text(encoding="utf-8")
    recorded = json.loads(first)
    assert recorded["measured"]["date"] == "2026-12-06"
    assert load_results(folder) == [("example", recorded)]

    later = {**_report(PASSING), "created": "2027-01-01T00:00:00+00:00"}
    report.write_text(json.dumps(later), encoding="utf-8")
    assert record_results([report], folder) == [(target, False)]
    assert target.read_text(encoding="utf-8") == first

    failing = {
        **later,
        "results": [*later["results"][:2], {"id": "invalid/y/c", "outcome": "failed"}],
    }
    report.write_text(json.dumps(failing), encoding="utf-8")
    assert record_results([report], folder) == [(target, True)]
    recorded = json.loads(target.read_text(encoding="utf-8"))
    assert recorded["measured"]["date"] == "2027-01-01"
    assert recorded["totals"]["failed"] == 1


@pytest.mark.parametrize(
    ("report_name", "profile", "implementation"),
    [
        ("reference-stdio-placeholder-v1.json", V1, "reference-stdio"),
        ("reference-stdio-dask-2023.11.json", DASK, "reference-stdio"),
        ("reference-stdio.dask-2023.11.json", DASK, "reference-stdio"),
        ("reference_stdio_dask-2023.11.json", DASK, "reference_stdio"),
        ("rust-example.json", V1, "rust-example"),
        ("rust-example.json", DASK, "rust-example"),
        # Only the profile the report holds is taken off its name.
        ("impl-dask-2023.11.json", V1, "impl-dask-2023.11"),
    ],
)
def test_the_implementation_is_the_report_name_less_its_profile(
    report_name: str, profile: str, implementation: str
) -> None:
    assert implementation_name(Path("reports") / report_name, profile) == implementation


@pytest.mark.parametrize("report_name", ["placeholder-v1.json", "-placeholder-v1.json"])
def test_a_report_named_only_by_its_profile_is_refused(report_name: str) -> None:
    with pytest.raises(ValueError, match="name the report after the implementation"):
        implementation_name(Path(report_name), V1)


@pytest.mark.parametrize(
    ("reports", "files"),
    [
        # (report file name, profile) -> the results files, with their profiles
        (
            [("ref-placeholder-v1.json", V1), ("ref-dask-2023.11.json", DASK)],
            {"ref.placeholder-v1.json": V1, "ref.dask-2023.11.json": DASK},
        ),
        (
            [("ref-dask-2023.11.json", DASK), ("rust.json", V1)],
            {"ref.dask-2023.11.json": DASK, "rust.placeholder-v1.json": V1},
        ),
        ([("ref.json", DASK)], {"ref.dask-2023.11.json": DASK}),
    ],
)
def test_each_report_is_recorded_under_its_profile(
    tmp_path: Path, reports: list[tuple[str, str]], files: dict[str, str]
) -> None:
    outcomes = {V1: PASSING, DASK: DASK_PASSING}
    paths = []
    for name, profile in reports:
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(_report(outcomes[profile], profile=profile)), "utf-8")
    folder = tmp_path / "implementations"
    written = record_results(paths, folder)
    assert {path.name for path, changed in written if changed} == set(files)
    assert {p.name: json.loads(p.read_text("utf-8"))["profile"] for p in folder.iterdir()} == files
    loaded = load_results(folder)
    assert sorted((name, r["profile"]) for name, r in loaded) == sorted(
        (name.split(".", 1)[0], profile) for name, profile in files.items()
    )
    for _, results in loaded:
        other = V1 if results["profile"] == DASK else DASK
        assert stale_reasons(results, SUITES[results["profile"]]) == []
        assert f"measured on profile {results['profile']}, not {other}" in stale_reasons(
            results, SUITES[other]
        )


def test_two_reports_of_one_implementation_and_profile_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "ref.json", tmp_path / "b" / "ref-placeholder-v1.json"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(json.dumps(_report(PASSING)), encoding="utf-8")
    with pytest.raises(ValueError, match=r"both hold the results of ref\.placeholder-v1"):
        record_results([first, second], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("profile", "replaced"),
    [(V1, True), (DASK, False)],
)
def test_a_file_of_the_layout_before_profiles_is_read_then_replaced(
    tmp_path: Path, profile: str, replaced: bool
) -> None:
    """`<implementation>.json` (placeholder-v1's) gives way to the first file of its profile."""
    folder = tmp_path / "implementations"
    folder.mkdir()
    legacy = folder / "ref.json"
    old = _recorded(PASSING)
    legacy.write_text(json.dumps(old), encoding="utf-8")
    assert load_results(folder) == [("ref", old)]

    report = tmp_path / f"ref-{profile}.json"
    outcomes = PASSING if profile == V1 else DASK_PASSING
    report.write_text(json.dumps(_report(outcomes, profile=profile)), encoding="utf-8")
    assert record_results([report], folder) == [(folder / f"ref.{profile}.json", True)]
    assert legacy.exists() is not replaced
    assert sorted(r["profile"] for _, r in load_results(folder)) == sorted(
        {profile, V1} if not replaced else {profile}
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"ref.dask-2023.11.json": V1}, "not of the one its name says"),
        ({"ref.json": V1, "ref.placeholder-v1.json": V1}, "both hold results of ref"),
    ],
)
def test_results_files_that_disagree_fail_loudly(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, profile in files.items():
        results = {**_recorded(PASSING), "profile": profile}
        (tmp_path / name).write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_results(tmp_path)


def test_a_file_that_is_not_results_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="not a results file"):
        load_results(tmp_path)


def test_results_command(tmp_path: Path) -> None:
    """Runs of `daskwire spec results` into one folder, in turn: (flags, outcomes, exit, says)."""
    failing = {**PASSING, "invalid/y/c": "failed"}
    steps = [
        (["--fail-on-change"], PASSING, 1, "updated"),
        (["--fail-on-change"], PASSING, 0, "unchanged"),
        ([], failing, 0, "updated"),
        (["--fail-on-change"], failing, 0, "unchanged"),
    ]
    v1_report = tmp_path / "example-placeholder-v1.json"
    dask_report = tmp_path / "example-dask-2023.11.json"
    dask_report.write_text(json.dumps(_report(DASK_PASSING, profile=DASK)), encoding="utf-8")
    for flags, outcomes, returncode, says in steps:
        v1_report.write_text(json.dumps(_report(outcomes)), encoding="utf-8")
        into = ["--into", str(tmp_path / "out")]
        done = subprocess.run(
            [*daskwire_command(), "spec", "results", *into, *flags, str(v1_report)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, says in done.stderr) == (returncode, True), done.stderr
    done = subprocess.run(
        [*daskwire_command(), "spec", "results", "--into", str(tmp_path / "out"), str(dask_report)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "example.dask-2023.11.json: updated" in done.stderr
    recorded = {r["profile"]: r for _, r in load_results(tmp_path / "out")}
    assert recorded[V1]["totals"]["failed"] == 1
    assert recorded[DASK]["totals"] == {**dict.fromkeys(recorded[DASK]["totals"], 0), "passed": 2}


def test_results_command_refuses_a_missing_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [*daskwire_command(), "spec", "results", "--into", str(tmp_path), "nope.json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "no such report" in done.stderr


# --- the page --------------------------------------------------------------------------------


def _recorded(
    outcomes: dict[str, str], *, fingerprint: str | None = None, profile: str = V1
) -> dict[str, Any]:
    results = results_from_report(_report(outcomes, fingerprint=fingerprint, profile=profile))
    results["measured"] = {"date": "2026-12-06", "commit": "0123456789" * 4, "local_changes": False}
    return results


def _section(page: str, profile: str) -> list[str]:
    """The lines of one profile's section of the page."""
    lines = page.splitlines()
    start = lines.index(f"## Profile `{profile}`")
    rest = lines[start + 1 :]
    ends = [i for i, line in enumerate(rest) if line.startswith("## ")]
    return rest[: ends[0]] if ends else rest


def test_page_shows_a_summary_and_a_matrix() -> None:
    failing = {**PASSING, "invalid/y/c": "failed"}
    page = implementations_page(
        [("a-ref", _recorded(PASSING)), ("b-rust", _recorded(failing))], {V1: SUITE}
    )
    lines = _section(page, V1)
    assert "Vector suite 0.1.0: 3 vectors in 2 files (`vectors/placeholder-v1/`)." in lines
    assert (
        "| `a-ref` | example 1.2.3 (rust) | 3 of 3 | none | 0.1.0 | 2026-12-06, `0123456789` |"
        in lines
    )
    assert (
        "| `b-rust` | example 1.2.3 (rust) | 2 of 3 | 1 failed | 0.1.0 | 2026-12-06, `0123456789` |"
        in lines
    )
    assert "| [`decode/x`](vectors/decode-x.md) | 2/2 | 2/2 |" in lines
    assert "| [`invalid/y`](vectors/invalid-y.md) | 1/1 | 0/1 (1 failed) |" in lines
    assert "Out of date" not in page
    assert "does not implement" not in page


def test_page_has_a_section_per_profile_in_registry_order() -> None:
    """The kit's case: the reference in both profiles, the Rust example in placeholder-v1."""
    results = [
        ("reference-stdio", _recorded(DASK_PASSING, fingerprint="cd" * 32, profile=DASK)),
        ("reference-stdio", _recorded(PASSING)),
        ("rust-example", _recorded(PASSING)),
    ]
    page = implementations_page(results, SUITES)
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings == [f"## Profile `{V1}`", f"## Profile `{DASK}`"]
    v1, dask = _section(page, V1), _section(page, DASK)
    assert "Vector suite 0.1.0: 3 vectors in 2 files (`vectors/placeholder-v1/`)." in v1
    assert "Vector suite 0.3.0: 2 vectors in 2 files (`vectors/dask-2023.11/`)." in dask
    assert "| Vectors | reference-stdio | rust-example |" in v1
    assert "| Vectors | reference-stdio |" in dask
    assert not any("does not implement" in line for line in v1)
    assert any(line.startswith("`rust-example` does not implement `dask-2023.11`") for line in dask)
    assert any(line.startswith("| `reference-stdio` |") and "2 of 2" in line for line in dask)
    assert not any(line.startswith("| `rust-example` |") for line in dask)
    # Only placeholder-v1's areas have vector pages on the site.
    assert "| [`decode/x`](vectors/decode-x.md) | 2/2 | 2/2 |" in v1
    assert "| `wire/tcp` | 1/1 |" in dask
    assert "Out of date" not in page


@pytest.mark.parametrize(
    ("suites", "headings", "says"),
    [
        # a registry profile with neither a suite nor results has no section
        ({V1: SUITE, DASK: None}, [V1], None),
        # results of a profile the suites do not name come last, compared with no suite
        ({DASK: DASK_SUITE}, [DASK, V1], "there is no vector suite to compare them with"),
        # the call before profiles: one suite, standing for its own profile
        (SUITE, [V1, DASK], None),
    ],
)
def test_which_profiles_have_a_section(suites: Any, headings: list[str], says: str | None) -> None:
    page = implementations_page([("ref", _recorded(PASSING))], suites)
    assert [line for line in page.splitlines() if line.startswith("## ")] == [
        f"## Profile `{profile}`" for profile in headings
    ]
    assert ("Out of date" in page) is (says is not None)
    if says:
        assert says in page


@pytest.mark.parametrize(
    ("results", "suite", "reason"),
    [
        (_recorded(PASSING, fingerprint="cd" * 32), SUITE, "manifest sha256 cdcdcdcdcdcd"),
        (
            _recorded(PASSING),
            SuiteState(version="0.1.0", fingerprint="ab" * 32, areas={"decode/x": 3}),
            "differ from the suite's in decode/x, invalid/y",
        ),
        (_recorded(PASSING), None, "no vector suite"),
        (
            _recorded(DASK_PASSING, fingerprint="cd" * 32, profile=DASK),
            SuiteState(
                version="0.3.0", fingerprint="ef" * 32, areas=DASK_SUITE.areas, profile=DASK
            ),
            "manifest sha256 cdcdcdcdcdcd..., not 0.3.0 with efefefefefef",
        ),
        (
            _recorded(DASK_PASSING, fingerprint="cd" * 32, profile=DASK),
            SuiteState(version="0.3.0", fingerprint="cd" * 32, areas={"wire/tcp": 1}, profile=DASK),
            "differ from the suite's in invalid/z",
        ),
    ],
)
def test_stale_results_say_so(
    results: dict[str, Any], suite: SuiteState | None, reason: str
) -> None:
    assert any(reason in r for r in stale_reasons(results, suite))
    profile = results["profile"]
    page = implementations_page([("a-ref", results)], {profile: suite})
    assert '!!! warning "Out of date"' in page
    assert reason in page
    assert f"{results['suite']['version']}, out of date" in page


def test_staleness_is_per_profile() -> None:
    """A stale result of one profile warns in its own section only."""
    results = [
        ("ref", _recorded(PASSING)),
        ("ref", _recorded(DASK_PASSING, fingerprint="00" * 32, profile=DASK)),
    ]
    page = implementations_page(results, SUITES)
    assert not any("Out of date" in line for line in _section(page, V1))
    assert any("Out of date" in line for line in _section(page, DASK))
    assert stale_reasons(results[0][1], SUITE) == []
    assert stale_reasons(results[1][1], DASK_SUITE) != []


def test_the_kit_has_a_suite_per_profile() -> None:
    suites = profile_suites(ROOT / "vectors")
    assert list(suites) == list(PROFILES)
    for profile, suite in suites.items():
        assert suite is not None, profile
        assert suite.profile == profile
        assert suite == suite_state(ROOT / "vectors" / profile)
        assert suite.vectors > 0


def test_page_without_results_says_how_to_record_them() -> None:
    page = implementations_page([], SUITES)
    assert "No results are recorded" in page
    assert all(command in page for command in REFRESH_COMMANDS)
