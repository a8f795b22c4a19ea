"""The site's generated facts agree with the spec: the errors table's citations, ID order."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT, BuiltSite
from daskwire.errors import Category
from daskwire_conformance.common.requirements import (
    Requirement,
    load_requirements,
    requirement_sort_key,
)
from daskwire_conformance.common.suite import Vector, load_vectors
from daskwire_conformance.site.generate import category_citations
from daskwire_conformance.site.vectorpages import render_example


@cache
def _requirements() -> dict[str, Requirement]:
    return load_requirements(ROOT / "spec")


@cache
def _vectors() -> tuple[Vector, ...]:
    return tuple(load_vectors(ROOT / "vectors" / "placeholder-v1"))


def _expects(vector: Vector, category: str) -> bool:
    expected = vector.expected
    return expected.get("category") == category or category in expected.get("also", ())


def test_every_category_cites_a_requirement() -> None:
    citations = category_citations(_requirements())
    assert set(citations) == {c.value for c in Category}
    assert [c for c, ids in citations.items() if not ids] == []


@pytest.mark.parametrize("category", [c.value for c in Category])
def test_errors_table_cites_only_requirements_that_yield_the_category(category: str) -> None:
    """A cited requirement names the category in its text, or a vector breaking it expects it."""
    requirements = _requirements()
    wrong = []
    for rid in category_citations(requirements)[category]:
        requirement = requirements.get(rid)
        if requirement is None:
            wrong.append(f"{rid}: not in the spec")
            continue
        if f"`{category}`" in requirement.text:
            continue
        if any(rid in v.requirements and _expects(v, category) for v in _vectors()):
            continue
        wrong.append(f"{rid}: neither its text nor a vector citing it yields `{category}`")
    assert wrong == []


def test_requirements_come_in_natural_order_page_by_page() -> None:
    """On each page PH-7 comes before PH-10, and CE-1 before CE-10, whatever the text's order."""
    by_page: dict[str, list[str]] = {}
    for rid, requirement in _requirements().items():
        by_page.setdefault(requirement.page, []).append(rid)
    assert by_page["placeholder.md"].index("PH-7") < by_page["placeholder.md"].index("PH-10")
    assert {page: ids for page, ids in by_page.items() if ids != _natural(ids)} == {}
    pages = list(by_page)
    assert pages == sorted(pages)


def _natural(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=requirement_sort_key)


def test_an_example_lists_its_requirements_in_natural_order() -> None:
    vector = dataclasses.replace(
        next(v for v in _vectors() if v.id == "encode/pr-examples/g1"),
        requirements=("PH-10", "CE-2", "PH-7", "CE-10"),
    )
    text = render_example(vector, _requirements())
    line = next(line for line in text.splitlines() if line.startswith("Requirements: "))
    assert re.findall(r"\[([A-Z]{2}-[0-9]+)\]", line) == ["CE-2", "CE-10", "PH-7", "PH-10"]


_LINKED_ID = r"\[[A-Z]{2}-[0-9]+\]\([^)\s]*\)"
_ID_LIST_RE = re.compile(rf"{_LINKED_ID}(?:, {_LINKED_ID})+")


def test_generated_lists_of_requirements_are_in_natural_order(built_site: BuiltSite) -> None:
    """Every list of linked IDs the site generates (not prose quoted from the spec) is sorted."""
    generated = built_site.copy.spec / "generated"
    pages = [
        generated / "errors-table.md",
        generated / "limits-table.md",
        *sorted((generated / "vectors").glob("*.md")),
        *sorted((generated / "examples").glob("*.md")),
    ]
    seen = 0
    unsorted = []
    for page in pages:
        for line in page.read_text(encoding="utf-8").splitlines():
            for found in _ID_LIST_RE.finditer(line):
                ids = re.findall(r"\[([A-Z]{2}-[0-9]+)\]", found.group(0))
                seen += 1
                if ids != _natural(ids):
                    unsorted.append(f"{page.name}: {', '.join(ids)}")
    assert seen > 100
    assert unsorted == []


def test_a_vector_page_says_which_mode_decodes_a_vector_only_one_mode_rejects() -> None:
    partial = [v for v in load_vectors() if v.expected.get("accepted")]
    assert partial, "no reject-decode vector records an accepting mode"
    for vector in partial:
        text = render_example(vector, load_requirements())
        (mode,) = vector.expected["accepted"]
        assert f"{mode} decodes it (RX-3)" in text, vector.id


def test_the_suite_strength_page_shows_the_recorded_mutation_score(built_site: BuiltSite) -> None:
    assert built_site.returncode == 0, built_site.output
    score = json.loads((ROOT / "spec" / "mutation" / "score.json").read_text(encoding="utf-8"))
    page = (built_site.site / "generated" / "mutation" / "index.html").read_text(encoding="utf-8")
    total = score["total"]
    assert f"{total['killed']} of " in page
    assert score["date"] in page
    for module in score["modules"]:
        # shown as a file: placeholder_v1.decoder is placeholder_v1/decoder.py
        assert f"{module.replace('.', '/')}.py" in page


def test_without_a_recorded_score_the_page_says_so(tmp_path: Path) -> None:
    from daskwire_conformance.site.mutation import mutation_page

    assert "No mutation score is recorded" in mutation_page(tmp_path / "score.json")
