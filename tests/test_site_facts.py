"""The site's generated facts agree with the spec: the errors table's citations, ID order."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import ROOT
from daskwire.errors import Category
from daskwire_conformance.common.requirements import Requirement, load_requirements
from daskwire_conformance.common.suite import Vector, load_vectors
from daskwire_conformance.site.generate import category_citations


@cache
def _requirements() -> dict[str, Requirement]:
    return load_requirements(ROOT / "spec")


@cache
def _vectors() -> tuple[Vector, ...]:
    return tuple(load_vectors(ROOT / "vectors"))


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
