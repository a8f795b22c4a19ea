"""The spec version has one source, daskwire.constants.SPEC_VERSION; every other place agrees."""

from __future__ import annotations

import logging
import re

import pytest
from conftest import ROOT, BuiltSite
from daskwire.constants import SPEC_VERSION
from daskwire_conformance.site.hooks import render_facts

_PLACEHOLDER = "{{ spec_version }}"
#: The spec pages that name the version, each through the placeholder the site hook fills in.
_PAGES_NAMING_IT = ("index.md", "conformance.md", "vectors.md")
_VERSION_RE = r"[0-9]+\.[0-9]+\.[0-9]+"


def _changelog_spec_version() -> str:
    """The spec version the changelog's first paragraph names ("kit X, spec Y, suite Z")."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    intro = text.split("\n## ", 1)[0]
    found = re.findall(rf"\bspec ({_VERSION_RE})\b", intro)
    assert len(found) == 1, f"the changelog's first paragraph names {found}"
    return found[0]


def test_constant_is_the_version_the_changelog_names() -> None:
    assert _changelog_spec_version() == SPEC_VERSION


def test_rust_example_follows_the_same_version() -> None:
    """The example knows the kit only through the spec, so it keeps its own constant."""
    source = (ROOT / "examples" / "rust" / "src" / "lib.rs").read_text(encoding="utf-8")
    found = re.findall(r'^pub const SPEC_VERSION: &str = "([^"]*)";$', source, re.MULTILINE)
    assert found == [SPEC_VERSION]


@pytest.mark.parametrize("page", _PAGES_NAMING_IT)
def test_spec_page_names_the_version_through_the_hook(page: str) -> None:
    text = (ROOT / "spec" / page).read_text(encoding="utf-8")
    assert _PLACEHOLDER in text
    assert SPEC_VERSION not in render_facts(text.replace(_PLACEHOLDER, ""))


@pytest.mark.parametrize(
    "path", ["vectors/placeholder-v1/README.md", "examples/rust/README.md", "README.md"], ids=str
)
def test_readme_does_not_hard_code_the_version(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert re.findall(rf"spec(?:ification)?(?: version)?\s+{_VERSION_RE}", text) == []


def test_render_facts() -> None:
    assert render_facts("| Version | `{{ spec_version }}` |") == f"| Version | `{SPEC_VERSION}` |"
    assert render_facts("`{{spec_version}}`") == f"`{SPEC_VERSION}`"
    assert render_facts("if: ${{ !cancelled() }}") == "if: ${{ !cancelled() }}"


def test_unknown_fact_is_left_and_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.daskwire"):
        assert render_facts("{{ kit_version }}", page="a.md") == "{{ kit_version }}"
    assert "a.md names an unknown fact {{ kit_version }}" in caplog.text


def test_built_index_shows_the_version(built_site: BuiltSite) -> None:
    assert built_site.returncode == 0, built_site.output
    index = (built_site.site / "index.html").read_text(encoding="utf-8")
    assert f"<td>Specification version</td>\n<td><code>{SPEC_VERSION}</code></td>" in index
    assert _PLACEHOLDER not in index
    conformance = (built_site.site / "conformance" / "index.html").read_text(encoding="utf-8")
    assert f"version (<code>{SPEC_VERSION}</code>)" in conformance
