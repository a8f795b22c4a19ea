"""Lint of the spec text: requirement markup, BCP 14 keywords, and the facts code shares with it."""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from pathlib import Path

import pytest
from daskwire.errors import Category
from daskwire.limits import Limits
from daskwire_conformance.common.requirements import (
    Requirement,
    SpecError,
    load_requirements,
    replace_markers,
    spec_pages,
    stray_keywords,
)

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
REFERENCE = ROOT / "reference" / "daskwire"

#: The page each requirement prefix belongs to.
PREFIX_PAGES = {
    "WF": "framing.md",
    "SH": "small-header.md",
    "PL": "payload.md",
    "PH": "placeholder.md",
    "HD": "header.md",
    "CP": "compression.md",
    "CE": "canonical.md",
    "RX": "receivers.md",
    "LM": "limits.md",
    "ER": "errors.md",
    "CC": "conformance.md",
    "DT": "dask-2023.11/tcp.md",
    "DK": "dask-2023.11/handshake.md",
    "DM": "dask-2023.11/message.md",
    "DS": "dask-2023.11/sub-header.md",
    "DB": "dask-2023.11/batch.md",
    "DR": "dask-2023.11/receivers.md",
    "DP": "dask-2023.11/pickle.md",
    "DL": "dask-2023.11/limits.md",
    "DE": "dask-2023.11/errors.md",
    "DC": "dask-2023.11/canonical.md",
}

_CITED_ID_RE = re.compile(r"\b[A-Z]{2}-[0-9]+\b")
# An error category a statement names: "reject ... with `name`", "report `name`", "(`name`)".
# Category names are lowercase words joined by dashes, without digits (unlike `placeholder-v1`).
_CATEGORY_MENTION_RE = re.compile(r"(?:\bwith|\breports?|\()\s*`([a-z]+(?:-[a-z]+)+)`")
_LIMIT_MENTION_RE = re.compile(r"`(max_[a-z_]+)`")
_ERRORS_TABLE_INCLUDE = '--8<-- "generated/errors-table.md"'
_LIMITS_TABLE_INCLUDE = '--8<-- "generated/limits-table.md"'


def _spec_text(page: str) -> str:
    path = SPEC / page
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _code_citations() -> list[tuple[str, int, str]]:
    """Requirement IDs in the comments and strings of the reference, as (file, line, ID)."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(REFERENCE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.COMMENT, tokenize.STRING):
                for offset, line in enumerate(token.string.splitlines()):
                    found.extend(
                        (path.relative_to(ROOT).as_posix(), token.start[0] + offset, match)
                        for match in _CITED_ID_RE.findall(line)
                    )
    return found


def _statement_mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """What `pattern` captures in the spec's requirement statements, as (ID, mention)."""
    try:
        requirements = load_requirements(SPEC)
    except SpecError:
        return []  # test_requirements_parse reports it
    return sorted({(r.id, m) for r in requirements.values() for m in pattern.findall(r.text)})


def _page_mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """What `pattern` captures anywhere in the spec's pages, as (page, mention)."""
    return sorted(
        {
            (path.relative_to(SPEC).as_posix(), m)
            for path in spec_pages(SPEC)
            for m in pattern.findall(path.read_text(encoding="utf-8"))
        }
    )


@pytest.fixture(scope="module")
def requirements() -> dict[str, Requirement]:
    return load_requirements(SPEC)


# --- the spec itself ------------------------------------------------------------------------


def test_requirements_parse(requirements: dict[str, Requirement]) -> None:
    """IDs are unique, every statement has a BCP 14 keyword (load_requirements checks both)."""
    assert requirements, "the spec has no [[ID]] statements"


def test_no_stray_keywords() -> None:
    assert stray_keywords(SPEC) == []


def test_requirement_prefix_matches_page(requirements: dict[str, Requirement]) -> None:
    wrong = {
        r.id: r.page
        for r in requirements.values()
        if PREFIX_PAGES.get(r.id.partition("-")[0]) != r.page
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("file", "line", "requirement_id"),
    _code_citations(),
    ids=str,
)
def test_id_cited_in_code_exists(
    requirements: dict[str, Requirement], file: str, line: int, requirement_id: str
) -> None:
    assert requirement_id in requirements, f"{file}:{line} cites {requirement_id}"


@pytest.mark.parametrize("category", [c.value for c in Category])
def test_error_category_is_specified(category: str) -> None:
    """Code to spec: every category is in errors.md, by name or through the generated table."""
    text = _spec_text("errors.md")
    assert _ERRORS_TABLE_INCLUDE in text or f"`{category}`" in text


@pytest.mark.parametrize(("requirement_id", "category"), _statement_mentions(_CATEGORY_MENTION_RE))
def test_category_named_by_spec_exists(requirement_id: str, category: str) -> None:
    """Spec to code: a category a statement names is one of daskwire.errors.Category."""
    assert category in {c.value for c in Category}, f"{requirement_id} names `{category}`"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Limits)])
def test_limit_is_specified(field: str) -> None:
    """Code to spec: every limit is in limits.md, by name or through the generated table."""
    text = _spec_text("limits.md")
    assert _LIMITS_TABLE_INCLUDE in text or f"`{field}`" in text


@pytest.mark.parametrize(("page", "name"), _page_mentions(_LIMIT_MENTION_RE))
def test_limit_named_by_spec_exists(page: str, name: str) -> None:
    """Spec to code: a `max_*` name on any page is a field of daskwire.limits.Limits."""
    assert name in {f.name for f in dataclasses.fields(Limits)}, f"{page} names `{name}`"


# --- the parser the lint relies on ----------------------------------------------------------


def _write_spec(tmp_path: Path, pages: dict[str, str]) -> Path:
    for name, text in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("statement", "level"),
    [
        ("A decoder MUST reject it.", "required"),
        ("An encoder MUST NOT write it.", "required"),
        ("The key is REQUIRED.", "required"),
        ("A reader SHALL stop.", "required"),
        ("A reader SHALL NOT stop.", "required"),
        ("A reader SHOULD stop.", "recommended"),
        ("A reader SHOULD NOT stop.", "recommended"),
        ("Stopping is RECOMMENDED.", "recommended"),
        ("Stopping is NOT RECOMMENDED.", "recommended"),
        ("A reader MAY stop.", "optional"),
        ("The key is OPTIONAL.", "optional"),
        ("A reader MAY stop; a writer MUST go on.", "optional"),
        ("The value `MUST` is code; a reader SHOULD skip it.", "recommended"),
    ],
)
def test_level_is_the_first_keyword(tmp_path: Path, statement: str, level: str) -> None:
    spec = _write_spec(tmp_path, {"page.md": f"# Page\n\n- [[PG-1]] {statement}\n"})
    assert load_requirements(spec)["PG-1"].level == level


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("- [[PG-1]] A MUST.\n", {"PG-1": "A MUST."}),
        ("* [[PG-1]] A MUST.\n", {"PG-1": "A MUST."}),
        ("1. [[PG-1]] A MUST.\n", {"PG-1": "A MUST."}),
        ("[[PG-1]] A MUST.\n", {"PG-1": "A MUST."}),
        ("Intro.\n\n[[PG-1]] A MUST\nwrap.\n\nAfter.\n", {"PG-1": "A MUST wrap."}),
        ("- [[PG-1]] A MUST\n  wrap.\n- other\n", {"PG-1": "A MUST wrap."}),
        (
            "- [[PG-1]] A MUST:\n    1. one;\n    2. two.\n\n  More.\n\nAfter.\n",
            {"PG-1": "A MUST: 1. one; 2. two. More."},
        ),
        (
            "- [[PG-1]] A MUST.\n    - [[PG-2]] B MAY.\n",
            {"PG-1": "A MUST.", "PG-2": "B MAY."},
        ),
        ("- [[PG-1]] A MUST.\n\n- [[PG-2]] B MAY.\n", {"PG-1": "A MUST.", "PG-2": "B MAY."}),
        ("```\n- [[PG-1]] A MUST.\n```\n", {}),
        ("Text [[PG-1]] A MUST.\n", {}),
        ("Text\n[[PG-1]] A MUST.\n", {}),
    ],
)
def test_statements_are_found(tmp_path: Path, markdown: str, expected: dict[str, str]) -> None:
    spec = _write_spec(tmp_path, {"page.md": markdown})
    found = load_requirements(spec)
    assert {k: v.text for k, v in found.items()} == expected
    assert {v.page for v in found.values()} <= {"page.md"}


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ({"a.md": "- [[PG-1]] A MUST.\n", "b.md": "- [[PG-1]] B MUST.\n"}, "repeats a.md:1"),
        ({"a.md": "- [[PG-1]] A must.\n"}, "no BCP 14 keyword"),
        ({"a.md": "- [[PG-1]] The `MUST` is code.\n"}, "no BCP 14 keyword"),
        ({"a.md": "- [[pg-1]] A MUST.\n"}, "malformed requirement marker"),
        ({"a.md": "- [[PG-01]] A MUST.\n"}, "malformed requirement marker"),
    ],
)
def test_bad_markup_is_an_error(tmp_path: Path, pages: dict[str, str], message: str) -> None:
    spec = _write_spec(tmp_path, pages)
    with pytest.raises(SpecError, match=message):
        load_requirements(spec)


def test_generated_pages_are_not_parsed(tmp_path: Path) -> None:
    spec = _write_spec(
        tmp_path,
        {"a.md": "- [[PG-1]] A MUST.\n", "generated/requirements.md": "- [[PG-1]] A MUST.\n"},
    )
    assert list(load_requirements(spec)) == ["PG-1"]
    assert stray_keywords(spec) == []


@pytest.mark.parametrize(
    ("markdown", "strays"),
    [
        ("Prose MUST not.\n", [(1, "MUST")]),
        ("A\n\nB SHOULD NOT and MAY.\n", [(3, "SHOULD NOT"), (3, "MAY")]),
        ("- [[PG-1]] A MUST.\n  Also MAY.\n\nThen SHALL.\n", [(4, "SHALL")]),
        ("| key | REQUIRED |\n", [(1, "REQUIRED")]),
        ("## OPTIONAL things\n", [(1, "OPTIONAL")]),
        ("The `MUST` code span.\n", []),
        ("```\nMUST in code\n```\n", []),
        ("> A note: MUST in a quote.\n", []),
        ('The key words "MUST", "SHOULD NOT" and "MAY" are BCP 14.\n', []),
        ("<!-- MUST in a comment -->\n", []),
        ("<!--\nMUST\n-->\n", []),
        ("must, should and may in lowercase.\n", []),
        ("MUSTARD and MAYBE.\n", []),
    ],
)
def test_stray_keywords(tmp_path: Path, markdown: str, strays: list[tuple[int, str]]) -> None:
    spec = _write_spec(tmp_path, {"page.md": markdown})
    assert stray_keywords(spec) == [("page.md", line, keyword) for line, keyword in strays]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("- [[PG-1]] A MUST.\n", "- <PG-1> A MUST.\n"),
        ("[[PG-1]] A MUST.\r\n", "<PG-1> A MUST.\r\n"),
        ("Text [[PG-1]] A MUST.\n", "Text [[PG-1]] A MUST.\n"),
        ("```\n[[PG-1]] A MUST.\n```\n", "```\n[[PG-1]] A MUST.\n```\n"),
        ("- [[PG-1]] A MUST.\n    - [[PG-2]] B.\n", "- <PG-1> A MUST.\n    - <PG-2> B.\n"),
    ],
)
def test_replace_markers(markdown: str, expected: str) -> None:
    assert replace_markers(markdown, lambda i: f"<{i}>") == expected
