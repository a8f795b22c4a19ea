"""The spec site: strict build through `daskwire spec build`, generated pages, offline output."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, BuiltSite, SiteCopy, build_site, daskwire_command, make_site_copy
from daskwire.errors import Category
from daskwire.limits import Limits
from daskwire_conformance.common.requirements import load_requirements
from daskwire_conformance.common.words import counted
from daskwire_conformance.site.command import SITE_MARKER
from daskwire_conformance.site.generate import generate, schema_page
from daskwire_conformance.site.hooks import external_resources
from daskwire_conformance.site.vectorpages import fit_width

SCHEMAS = sorted((ROOT / "spec" / "schemas").glob("*.schema.json"))


@pytest.fixture(scope="module")
def site(built_site: BuiltSite) -> Path:
    """The built site folder; fails with mkdocs' output when the build did not succeed."""
    assert built_site.returncode == 0, built_site.output
    return built_site.site


def _html(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def _built_page(source_page: str) -> str:
    """The HTML file mkdocs builds from a Markdown page (directory URLs)."""
    stem = source_page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def test_build_succeeds(built_site: BuiltSite) -> None:
    assert built_site.returncode == 0, built_site.output
    assert "WARNING" not in built_site.output


@pytest.mark.parametrize(
    ("page", "needle"),
    [
        ("placeholder/index.html", '<a id="PH-7" class="req" href="#PH-7">PH-7</a>'),
        ("generated/requirements/index.html", 'href="../../placeholder/#PH-7"'),
        ("errors/index.html", "<code>unclaimed-frame</code>"),
        ("limits/index.html", "<code>max_decompression_ratio</code>"),
        ("generated/schemas/index.html", "<h1"),
        ("index.html", 'href="assets/daskwire.css"'),
    ],
)
def test_page_contains(site: Path, page: str, needle: str) -> None:
    assert needle in _html(site, page)


def test_every_requirement_has_its_anchor(site: Path, built_site: BuiltSite) -> None:
    requirements = load_requirements(built_site.copy.spec)
    missing = [
        r.id
        for r in requirements.values()
        if f'id="{r.id}"' not in _html(site, _built_page(r.page))
    ]
    assert missing == []


@pytest.mark.parametrize("category", [c.value for c in Category])
def test_errors_page_lists_category(site: Path, category: str) -> None:
    assert f"<code>{category}</code>" in _html(site, "errors/index.html")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Limits)])
def test_limits_page_lists_limit(site: Path, field: str) -> None:
    assert f"<code>{field}</code>" in _html(site, "limits/index.html")


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name)
def test_schema_has_a_page(site: Path, schema: Path) -> None:
    name = schema.name.removesuffix(".schema.json")
    assert schema.name in _html(site, f"generated/schemas/{name}/index.html")


def test_search_index(site: Path) -> None:
    index = site / "search" / "search_index.json"
    assert index.is_file()
    text = index.read_text(encoding="utf-8")
    assert "placeholder" in text
    docs = json.loads(text)["docs"]
    assert any(doc["location"].startswith("placeholder/") for doc in docs)


def test_site_loads_nothing_from_other_hosts(site: Path) -> None:
    offending = {}
    for path in sorted(site.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        found = re.findall(r"fonts\.(?:googleapis|gstatic)\.com", text) + external_resources(text)
        if found:
            offending[path.relative_to(site).as_posix()] = found
    assert offending == {}


@pytest.mark.parametrize(
    ("tag", "remote"),
    [
        ('<script src="https://cdn.example/x.js"></script>', True),
        ("<script src='http://cdn.example/x.js'></script>", True),
        ('<img alt="" src="//cdn.example/x.png">', True),
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css">', True),
        ('<link href="https://cdn.example/x.css" rel="preload">', True),
        ('<script src="../assets/javascripts/bundle.js"></script>', False),
        ('<link rel="stylesheet" href="../assets/daskwire.css">', False),
        ('<link rel="canonical" href="https://example.org/spec/">', False),
        ('<a href="https://example.org/">a link</a>', False),
        ("<script>fetch('https://example.org')</script>", False),
    ],
)
def test_external_resources(tag: str, remote: bool) -> None:
    assert external_resources(f"<p>{tag}</p>") == ([tag.split(">", 1)[0] + ">"] if remote else [])


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = make_site_copy(tmp_path / "one")
    second = make_site_copy(tmp_path / "two")
    generate(first.spec)
    generate(second.spec)
    generate(second.spec)  # a second run over its own output changes nothing

    def tree(spec: Path) -> dict[str, bytes]:
        out = spec / "generated"
        return {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }

    assert tree(first.spec) == tree(second.spec)
    assert "requirements.md" in tree(first.spec)


@pytest.mark.parametrize(
    ("extra", "returncode"),
    [((), 1), (("--no-strict",), 0)],
)
def test_broken_anchor_fails_strict_build(
    tmp_path: Path, extra: tuple[str, ...], returncode: int
) -> None:
    copy = make_site_copy(tmp_path / "source")
    index = copy.spec / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8") + "\n[broken](framing.md#no-such-anchor)\n",
        encoding="utf-8",
    )
    result = build_site(copy, tmp_path / "site", *extra)
    assert result.returncode == returncode, result.output
    assert "no-such-anchor" in result.output


def test_missing_include_fails_build(tmp_path: Path) -> None:
    copy = make_site_copy(tmp_path / "source")
    index = copy.spec / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8") + '\n--8<-- "generated/no-such-file.md"\n',
        encoding="utf-8",
    )
    result = build_site(copy, tmp_path / "site")
    assert result.returncode == 1, result.output
    assert "no-such-file.md" in result.output


@pytest.mark.parametrize(
    ("args", "returncode"),
    [
        (["spec"], 2),
        (["spec", "build", "--no-such-option"], 2),
        (["spec", "serve", "--dev-addr", "nowhere"], 2),
    ],
)
def test_usage_errors(args: list[str], returncode: int) -> None:
    done = subprocess.run(
        [*daskwire_command(), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == returncode, done.stderr


def test_schema_page_renders_any_schema(tmp_path: Path) -> None:
    raw = json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.invalid/thing.schema.json",
            "title": "Thing",
            "description": "A thing with a `|` in it.",
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "description": "Its name."},
                "parts": {"type": "array", "items": {"$ref": "#/$defs/part"}},
                "kind": {"enum": ["a", "b"]},
            },
            "additionalProperties": False,
            "$defs": {"part": {"type": "object", "properties": {"size": {"type": "integer"}}}},
        },
        indent=2,
    )
    path = tmp_path / "thing.schema.json"
    path.write_text(raw + "\n", encoding="utf-8")
    page = schema_page(path, ["thing"])
    expected_lines = [
        "# Thing",
        "| `name` | string | yes | Its name. |",
        "| `parts` | array of [part](#def-part) | no |  |",
        '| `kind` | one of `"a"`, `"b"` | no |  |',
        "### `part` {#def-part}",
        "| `size` | integer | no |  |",
        "No other properties are allowed.",
        "```json",
    ]
    lines = page.splitlines()
    for line in expected_lines:
        assert line in lines
    assert raw in page


@pytest.mark.parametrize(
    ("vector_pages", "expected"),
    [
        (
            True,
            [
                "index.md",
                {
                    "Reference": [
                        "generated/schemas/index.md",
                        "generated/schemas/thing.md",
                        {"Vectors": ["generated/vectors/index.md", "generated/vectors/a/b.md"]},
                    ]
                },
            ],
        ),
        (
            False,
            [
                "index.md",
                {"Reference": ["generated/schemas/index.md", "generated/schemas/thing.md"]},
            ],
        ),
    ],
)
def test_nav_lists_generated_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vector_pages: bool, expected: list[object]
) -> None:
    from daskwire_conformance.site import hooks

    for page in ("generated/schemas/thing.md", "generated/vectors/a/b.md"):
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("# x\n", encoding="utf-8")
    monkeypatch.setattr(hooks, "vector_pages_available", lambda: vector_pages)
    nav: list[object] = [
        "index.md",
        {
            "Reference": [
                "generated/schemas/index.md",
                {"Vectors": ["generated/vectors/index.md"]},
            ]
        },
    ]
    assert hooks._expand_nav(nav, tmp_path, set(hooks._nav_pages(nav))) == expected


def _spec_build_in(copy: SiteCopy, cwd: Path, site_dir: str) -> subprocess.CompletedProcess[str]:
    """`daskwire spec build --site-dir SITE_DIR` run in `cwd`, with the copy as the data folder."""
    return subprocess.run(
        [*daskwire_command(), "spec", "build", "--site-dir", site_dir],
        env={**os.environ, "DASKWIRE_DATA": str(copy.root)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _put_file(folder: Path) -> None:
    (folder / "notes.txt").write_text("keep me\n", encoding="utf-8")


def _put_folder(folder: Path) -> None:
    (folder / "src").mkdir()
    (folder / "src" / "main.py").write_text("print('keep me')\n", encoding="utf-8")


def _put_old_site(folder: Path) -> None:
    """A folder that looks like an mkdocs site, but carries no mark of the kit."""
    (folder / "index.html").write_text("<html></html>\n", encoding="utf-8")
    (folder / "sitemap.xml").write_text("<urlset/>\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("fill", "site_dir"),
    [
        (_put_file, "."),
        (_put_folder, "."),
        (_put_old_site, "."),
        (_put_file, "out"),
        (_put_folder, "out/"),
    ],
)
def test_build_refuses_a_folder_it_did_not_build(
    tmp_path: Path, fill: Callable[[Path], None], site_dir: str
) -> None:
    copy = make_site_copy(tmp_path / "source")
    work = tmp_path / "work"
    target = (work / site_dir).resolve()
    target.mkdir(parents=True)
    fill(target)
    before = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    done = _spec_build_in(copy, work, site_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not empty" in done.stderr
    assert SITE_MARKER in done.stderr
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == before


def test_build_refuses_a_file_as_site_dir(tmp_path: Path) -> None:
    copy = make_site_copy(tmp_path / "source")
    (tmp_path / "site").write_text("keep me\n", encoding="utf-8")
    done = _spec_build_in(copy, tmp_path, "site")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (tmp_path / "site").read_text(encoding="utf-8") == "keep me\n"


def test_build_marks_its_site_and_builds_over_it(tmp_path: Path, built_site: BuiltSite) -> None:
    """A site the kit built carries its mark, so the next build may replace it."""
    assert built_site.returncode == 0, built_site.output
    assert (built_site.site / SITE_MARKER).is_file()
    copy = make_site_copy(tmp_path / "source")
    site = tmp_path / "site"
    shutil.copytree(built_site.site, site)
    (site / "stale.html").write_text("<p>from an older build</p>\n", encoding="utf-8")
    (site / ".keep").write_text("hidden files are never touched\n", encoding="utf-8")
    done = _spec_build_in(copy, tmp_path, "site")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (site / "stale.html").exists()
    assert (site / ".keep").is_file()
    assert (site / "index.html").is_file()
    assert (site / SITE_MARKER).is_file()


# --- what a reader sees: the rendered HTML matches the Markdown's structure --------------------

_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
_ATX_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_ATTR_LIST_RE = re.compile(r"\{[^{}]*\}\s*$")
_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _words(text: str) -> str:
    """The letters and digits of a heading, lower-cased: what a reader would read."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


_QUOTE_RE = re.compile(r"^ {0,3}>")
_RULE_RE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|(?:\*[ \t]*){3,})$")


def _outside_fences(markdown: str) -> list[str]:
    """The lines of Markdown after its front matter, outside fenced code blocks (as blanks)."""
    lines: list[str] = []
    fence = ""
    source = markdown.splitlines()
    if source and source[0] == "---" and "---" in source[1:]:
        source = source[source.index("---", 1) + 1 :]
    for line in source:
        opening = _FENCE_RE.match(line)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)
            lines.append("")
        else:
            lines.append("" if fence else line)
    return lines


def source_blocks(markdown: str) -> dict[str, int]:
    """How many block quotes and rules the Markdown means to write.

    A quote (a run of `>` lines) or a rule (`---`) is meant when a blank line comes before it;
    right after a line of text it is a wrapped line that Markdown misreads.
    """
    lines = ["", *_outside_fences(markdown)]
    meant = [line for before, line in itertools.pairwise(lines) if not before.strip()]
    return {
        "blockquote": sum(1 for line in meant if _QUOTE_RE.match(line)),
        "hr": sum(1 for line in meant if _RULE_RE.match(line)),
    }


def source_headings(markdown: str) -> list[tuple[int, str]]:
    """The (level, words) of each ATX heading (`# Title`, with a space) outside code blocks."""
    found: list[tuple[int, str]] = []
    for line in _outside_fences(markdown):
        match = _ATX_RE.match(line)
        if match:
            text = _MD_LINK_RE.sub(r"\1", _ATTR_LIST_RE.sub("", match.group(2)))
            found.append((len(match.group(1)), _words(text)))
    return found


class _PageStructure(HTMLParser):
    """The headings and table header rows of a built page's article."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.header_rows: list[list[str]] = []
        #: Block quotes and rules, by tag.
        self.blocks = {"blockquote": 0, "hr": 0}
        self._depth = 0  # open elements inside <article>, 0 outside it
        self._heading: tuple[int, list[str]] | None = None
        self._in_headerlink = False
        self._in_thead = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._depth += 1
        if not self._depth:
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag in self.blocks:
            self.blocks[tag] += 1
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), [])
        elif tag == "a" and "headerlink" in classes:
            self._in_headerlink = True
        elif tag == "thead":
            self._in_thead = True
        elif tag == "tr" and self._in_thead:
            self._row = []
        elif tag == "th" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._depth:
            self._depth -= 1
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._heading[0], _words("".join(self._heading[1]))))
            self._heading = None
        elif tag == "a":
            self._in_headerlink = False
        elif tag == "th" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.header_rows.append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_thead = False

    def handle_data(self, data: str) -> None:
        if self._heading is not None and not self._in_headerlink:
            self._heading[1].append(data)
        if self._cell is not None:
            self._cell.append(data)


def _structure(page_html: str) -> _PageStructure:
    parser = _PageStructure()
    parser.feed(page_html)
    parser.close()
    return parser


def _source_of(site: Path, spec: Path, page: Path) -> Path | None:
    """The Markdown page a built HTML page comes from (directory URLs), if any."""
    relative = page.relative_to(site).with_suffix("")
    stem = relative.parent if relative.name == "index" and relative.parent.parts else relative
    for candidate in (spec / f"{stem}.md", spec / stem / "index.md"):
        if candidate.is_file():
            return candidate
    return None


def _built_pages(site: Path, spec: Path) -> list[tuple[Path, Path]]:
    pairs = [(p, _source_of(site, spec, p)) for p in sorted(site.rglob("*.html"))]
    return [(page, source) for page, source in pairs if source is not None]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# Title\n\ntext\n## Part {#part}\n", [(1, "title"), (2, "part")]),
        ("Text about pull request\n#3809, in May.\n", []),
        ("```text\n# not a heading\n```\n## `code` and [link](x.md) ##\n", [(2, "codeandlink")]),
    ],
)
def test_source_headings(markdown: str, expected: list[tuple[int, str]]) -> None:
    assert source_headings(markdown) == expected


@pytest.mark.parametrize(
    ("page_html", "headings", "header_rows"),
    [
        (
            (
                '<article><h1 id="t">Title<a class="headerlink" href="#t">¶</a></h1>'
                "<p>text</p><h1>3809, mid-sentence</h1></article><h2>outside</h2>"
            ),
            [(1, "title"), (1, "3809midsentence")],
            [],
        ),
        (
            (
                "<article><table><thead><tr><th></th><th> </th></tr></thead>"
                "<tbody><tr><td>a</td></tr></tbody></table></article>"
            ),
            [],
            [["", ""]],
        ),
    ],
)
def test_page_structure(
    page_html: str, headings: list[tuple[int, str]], header_rows: list[list[str]]
) -> None:
    found = _structure(page_html)
    assert (found.headings, found.header_rows) == (headings, header_rows)


_SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)


def _with_snippets(markdown: str, spec: Path) -> str:
    """The source with each whole-file snippet include (`--8<-- "path"`, relative to the
    spec folder, as mkdocs.yml's pymdownx.snippets reads it) replaced by the file's text."""
    return _SNIPPET.sub(lambda m: (spec / m.group(1)).read_text(encoding="utf-8"), markdown)


def test_every_heading_comes_from_a_heading_of_the_source(
    site: Path, built_site: BuiltSite
) -> None:
    """A line that Markdown reads as a heading by accident (`#3809, ...`) shows up here."""
    spec = built_site.copy.spec
    pages = _built_pages(site, spec)
    assert len(pages) > 40
    wrong = {}
    for page, source in pages:
        rendered = _structure(page.read_text(encoding="utf-8")).headings
        written = source_headings(_with_snippets(source.read_text(encoding="utf-8"), spec))
        if rendered != written:
            extra = [h for h in rendered if h not in written]
            missing = [h for h in written if h not in rendered]
            wrong[page.relative_to(site).as_posix()] = {"extra": extra, "missing": missing}
    assert wrong == {}


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("> a quote\n> goes on\n\ntext\n> quoted by accident\n", {"blockquote": 1, "hr": 0}),
        ("text\n***\n", {"blockquote": 0, "hr": 0}),
        ("text\n\n---\n\n```text\n> code\n---\n```\n", {"blockquote": 0, "hr": 1}),
        ("---\ntitle: front matter\n---\n\n# Title\n", {"blockquote": 0, "hr": 0}),
    ],
)
def test_source_blocks(markdown: str, expected: dict[str, int]) -> None:
    assert source_blocks(markdown) == expected


def test_every_quote_and_rule_comes_from_the_source(site: Path, built_site: BuiltSite) -> None:
    """A wrapped line that starts with `>` or is `---` would cut its paragraph in two."""
    wrong = {}
    for page, source in _built_pages(site, built_site.copy.spec):
        rendered = _structure(page.read_text(encoding="utf-8")).blocks
        written = source_blocks(source.read_text(encoding="utf-8"))
        if rendered != written:
            wrong[page.relative_to(site).as_posix()] = {"rendered": rendered, "source": written}
    assert wrong == {}


def test_no_table_has_an_empty_header_row(site: Path, built_site: BuiltSite) -> None:
    empty = [
        page.relative_to(site).as_posix()
        for page, _ in _built_pages(site, built_site.copy.spec)
        for row in _structure(page.read_text(encoding="utf-8")).header_rows
        if not any(row)
    ]
    assert empty == []


# --- generated text: counted nouns, hex dumps that fit the page --------------------------------

_ROW = "000036  aa" + " " * 23


@pytest.mark.parametrize(
    ("count", "noun", "plural", "expected"),
    [
        (0, "vector", None, "0 vectors"),
        (1, "vector", None, "1 vector"),
        (2, "vector", None, "2 vectors"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_counted(count: int, noun: str, plural: str | None, expected: str) -> None:
    assert counted(count, noun, plural) == expected


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short line", 20, ["short line"]),
        (
            _ROW + "key: str, 10 bytes: (serializer key)",
            60,
            [_ROW + "key: str, 10 bytes:", " " * 35 + "(serializer key)"],
        ),
        (
            _ROW + "    value: map, 1 entry: placeholder at $.data",
            70,
            [_ROW + "    value: map, 1 entry: placeholder", " " * 39 + "at $.data"],
        ),
        (  # a note deeper than the width allows goes on further left
            _ROW + " " * 20 + "key: str, 1 byte: k",
            70,
            [_ROW + " " * 13 + "key: str, 1 byte: k"],
        ),
        (
            "chunk sizes: 1, 2, 3, 5, 8, 13, 21, 34, 1, 2, 3",
            40,
            ["chunk sizes: 1, 2, 3, 5, 8, 13, 21, 34,", "  1, 2, 3"],
        ),
        ("  x" + "y" * 40, 30, ["  x" + "y" * 27, "    " + "y" * 13]),
    ],
)
def test_fit_width(text: str, width: int, expected: list[str]) -> None:
    fitted = fit_width(text, width)
    assert fitted.splitlines() == expected
    assert all(len(line) <= width for line in fitted.splitlines())
