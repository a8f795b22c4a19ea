"""Shared fixtures: a scratch copy of the spec site source, and the site built from it once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from daskwire_conformance.site.generate import vector_pages_available

ROOT = Path(__file__).resolve().parents[1]

# A link to an anchor of another page: [text](page.md#anchor).
_ANCHOR_LINK_RE = re.compile(r"\]\(([\w./-]+\.md)#([^)\s]+)\)")
_ID_RE = re.compile(r"^[A-Z]{2}-[1-9][0-9]*$")
_SNIPPET_RE = re.compile(r'--8<--\s+"(generated/examples/[^"]+)"')

#: What a stub stands in for, for the pages other parts of the site depend on.
STUB_BODIES = {
    "placeholder.md": "- [[PH-7]] A placeholder MUST stand only as a map value or array element.\n",
    "errors.md": '--8<-- "generated/errors-table.md"\n',
    "limits.md": '--8<-- "generated/limits-table.md"\n',
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteCopy:
    """A scratch copy of mkdocs.yml, spec/ and vectors/ that a build may write into."""

    root: Path
    #: Nav pages missing from spec/, and snippets no module writes yet, stubbed in the copy.
    stubs: tuple[str, ...]

    @property
    def spec(self) -> Path:
        return self.root / "spec"


def nav_pages(items: list[Any]) -> list[str]:
    """Every page path of an mkdocs nav, in order."""
    pages: list[str] = []
    for item in items:
        target = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(target, list):
            pages.extend(nav_pages(target))
        else:
            pages.append(str(target))
    return pages


def _linked_anchors(spec: Path) -> dict[str, set[str]]:
    """The anchors that the copy's pages link to, by target page."""
    wanted: dict[str, set[str]] = {}
    for path in spec.rglob("*.md"):
        base = path.parent.relative_to(spec)
        for target, anchor in _ANCHOR_LINK_RE.findall(path.read_text(encoding="utf-8")):
            page = (base / target).as_posix()
            wanted.setdefault(os.path.normpath(page), set()).add(anchor)
    return wanted


def make_site_copy(dest: Path) -> SiteCopy:
    """Copy the site source to `dest`, adding a stub for each nav page not written yet.

    A stub holds the anchors other pages link to, so that a strict build checks the pages
    that exist. spec/ itself is never touched.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "spec", dest / "spec", ignore=shutil.ignore_patterns("generated"))
    if (ROOT / "vectors").is_dir():
        shutil.copytree(ROOT / "vectors", dest / "vectors")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    missing = [
        page
        for page in nav_pages(config["nav"])
        if not page.startswith("generated/") and not (dest / "spec" / page).exists()
    ]
    anchors = _linked_anchors(dest / "spec")
    for page in missing:
        lines = [f"# {page.removesuffix('.md')}", "", STUB_BODIES.get(page, "Stub page.\n")]
        for anchor in sorted(anchors.get(page, ())):
            if f"[[{anchor}]]" in lines[2]:
                continue
            if _ID_RE.match(anchor):
                lines.append(f"- [[{anchor}]] This stub statement MUST be replaced.\n")
            else:
                lines.append(f"## {anchor} {{#{anchor}}}\n")
        (dest / "spec" / page).write_text("\n".join(lines), encoding="utf-8")
    if not vector_pages_available():
        # Until the module that writes the vector pages exists, stub the examples pages include.
        for path in sorted((dest / "spec").rglob("*.md")):
            for snippet in _SNIPPET_RE.findall(path.read_text(encoding="utf-8")):
                target = dest / "spec" / snippet
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"Stub example `{snippet}`.\n", encoding="utf-8")
                missing.append(snippet)
    return SiteCopy(root=dest, stubs=tuple(missing))


def daskwire_command() -> list[str]:
    """The `daskwire` command of the running interpreter's environment."""
    script = Path(sys.executable).parent / "daskwire"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "daskwire_conformance.cli"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltSite:
    """The outcome of `daskwire spec build` over a site copy."""

    copy: SiteCopy
    site: Path
    returncode: int
    output: str


def build_site(copy: SiteCopy, site: Path, *extra: str) -> BuiltSite:
    """Run `daskwire spec build --site-dir SITE` with the copy as the data folder."""
    env = {**os.environ, "DASKWIRE_DATA": str(copy.root)}
    done = subprocess.run(
        [*daskwire_command(), "spec", "build", "--site-dir", str(site), *extra],
        env=env,
        cwd=copy.root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return BuiltSite(
        copy=copy, site=site, returncode=done.returncode, output=done.stdout + done.stderr
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The spec site, built strictly once per session from a stubbed copy of the source."""
    base = tmp_path_factory.mktemp("spec-site")
    copy = make_site_copy(base / "source")
    return build_site(copy, base / "site")
