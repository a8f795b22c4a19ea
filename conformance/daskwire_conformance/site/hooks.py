"""The spec site's mkdocs hooks (mkdocs.yml `hooks:`): generated pages, requirement anchors."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any, Final

from daskwire import SPEC_VERSION
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from daskwire_conformance.common.requirements import replace_markers
from daskwire_conformance.site.generate import (
    SCHEMAS_INDEX,
    VECTORS_INDEX,
    generate,
    vector_pages_available,
)

__all__ = [
    "FACTS",
    "external_resources",
    "on_config",
    "on_page_markdown",
    "on_post_build",
    "on_pre_build",
    "render_anchor",
    "render_facts",
]

log = logging.getLogger("mkdocs.plugins.daskwire")

#: Nav entries that stand for a folder of generated pages: the hook lists the folder's other
#: pages right after the entry, sorted by path.
NAV_FOLDERS: Final = {
    SCHEMAS_INDEX: "generated/schemas/**/*.md",
    VECTORS_INDEX: "generated/vectors/**/*.md",
}

#: Facts whose source is code, named on a page as `{{ name }}`; the hook writes the value in.
FACTS: Final = {"spec_version": SPEC_VERSION}
_FACT_RE: Final = re.compile(r"\{\{ *([a-z_]+) *\}\}")

# A tag that can make a browser fetch something, and the attribute naming what.
_TAG_RE: Final = re.compile(r"<(script|img|iframe|source|link)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE_RE: Final = re.compile(r"""\s([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_REMOTE_RE: Final = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
#: `<link rel=...>` values that only name a URL (canonical page, alternate language) and fetch
#: nothing.
_NON_FETCHING_RELS: Final = frozenset({"canonical", "alternate", "author", "license", "me"})


def external_resources(page_html: str) -> list[str]:
    """The tags of a page that load a resource from another host; the site works offline."""
    found: list[str] = []
    for match in _TAG_RE.finditer(page_html):
        attributes = {
            m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _ATTRIBUTE_RE.finditer(match.group(2))
        }
        if match.group(1).lower() == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels and rels <= _NON_FETCHING_RELS:
                continue
            url = attributes.get("href", "")
        else:
            url = attributes.get("src", "")
        if _REMOTE_RE.match(url):
            found.append(match.group(0))
    return found


def render_anchor(requirement_id: str) -> str:
    """The HTML that replaces a `[[ID]]` marker: an anchor that links to itself."""
    escaped = html.escape(requirement_id)
    return f'<a id="{escaped}" class="req" href="#{escaped}">{escaped}</a>'


def render_facts(markdown: str, *, page: str = "page") -> str:
    """Replace each `{{ name }}` of `FACTS` with its value; warn about an unknown name."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in FACTS:
            return FACTS[name]
        log.warning("%s names an unknown fact {{ %s }}", page, name)
        return match.group(0)

    return _FACT_RE.sub(value, markdown)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Resolve snippet includes against the docs folder, whatever the working directory."""
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if isinstance(snippets, dict):
        snippets["base_path"] = [str(Path(config.docs_dir).resolve())]
    return config


def on_pre_build(*, config: MkDocsConfig) -> None:
    """Regenerate spec/generated/, then list the generated folders' pages in the nav."""
    docs_dir = Path(config.docs_dir)
    nav = config.nav if isinstance(config.nav, list) else []
    generate(docs_dir, page_order=_nav_pages(nav))
    if config.nav is not None:
        present = set(_nav_pages(nav))
        config.nav = _expand_nav(nav, docs_dir, present)


def on_page_markdown(markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Write in the `{{ name }}` facts, and turn each statement's `[[ID]]` marker into an anchor."""
    return replace_markers(render_facts(markdown, page=page.file.src_uri), render_anchor)


def on_post_build(*, config: MkDocsConfig) -> None:
    """Warn about any built page that loads a resource from another host (strict: an error)."""
    site_dir = Path(config.site_dir)
    for path in sorted(site_dir.rglob("*.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for tag in external_resources(text):
            where = path.relative_to(site_dir).as_posix()
            log.warning("%s loads a resource from another host: %s", where, tag)


def _entry_target(item: Any) -> Any:
    """The page path or child list of a nav entry ("page.md" or {"Title": target})."""
    if isinstance(item, dict) and len(item) == 1:
        return next(iter(item.values()))
    return item


def _nav_pages(nav: list[Any]) -> list[str]:
    """Every page path of a nav, in order."""
    pages: list[str] = []
    for item in nav:
        target = _entry_target(item)
        if isinstance(target, list):
            pages.extend(_nav_pages(target))
        elif isinstance(target, str):
            pages.append(target)
    return pages


def _expand_nav(nav: list[Any], docs_dir: Path, present: set[str]) -> list[Any]:
    """A copy of `nav` with the pages of each `NAV_FOLDERS` entry added after it.

    The vectors entry is dropped when no module writes vector pages; a section left empty
    goes too.
    """
    expanded: list[Any] = []
    for item in nav:
        target = _entry_target(item)
        if isinstance(target, list):
            children = _expand_nav(target, docs_dir, present)
            if children:
                expanded.append({next(iter(item)): children})
            continue
        if target == VECTORS_INDEX and not vector_pages_available():
            log.info("no vector pages: %s leaves the nav", VECTORS_INDEX)
            continue
        expanded.append(item)
        if isinstance(target, str) and target in NAV_FOLDERS:
            for path in sorted(docs_dir.glob(NAV_FOLDERS[target])):
                page = path.relative_to(docs_dir).as_posix()
                if page not in present:
                    expanded.append(page)
                    present.add(page)
    return expanded
