"""Pages generated into spec/generated/: requirement index, error and limit tables, schema pages."""

from __future__ import annotations

import ast
import dataclasses
import html
import importlib
import inspect
import json
import logging
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from daskwire_conformance.common.data import vectors_dir
from daskwire_conformance.common.hexdump import annotate_wire, fit_width
from daskwire_conformance.common.requirements import (
    GENERATED_DIR,
    ID_PATTERN,
    LEVELS,
    Requirement,
    load_requirements,
    requirement_sort_key,
    spec_pages,
)
from daskwire_conformance.common.words import counted
from daskwire_conformance.site.implementations import (
    IMPLEMENTATIONS_PAGE,
    RESULTS_DIR,
    implementations_page,
    load_results,
    suite_state,
)
from daskwire_conformance.site.mutation import MUTATION_PAGE, MUTATION_SCORE, mutation_page
from daskwire_conformance.site.toolpages import write_tool_snippets

__all__ = [
    "CAPTURES_DIR",
    "CAPTURE_EXAMPLES_DIR",
    "ERRORS_TABLE",
    "LIMITS_TABLE",
    "REQUIREMENTS_PAGE",
    "SCHEMAS_INDEX",
    "VECTORS_INDEX",
    "capture_example",
    "capture_examples",
    "category_citations",
    "errors_table",
    "generate",
    "limits_table",
    "requirements_page",
    "schema_page",
    "schemas_index",
    "vector_pages_available",
]

log = logging.getLogger("mkdocs.plugins.daskwire")

#: Pages and snippets this module writes, relative to the spec folder.
REQUIREMENTS_PAGE: Final = f"{GENERATED_DIR}/requirements.md"
#: Included into errors.md with `--8<-- "generated/errors-table.md"`; links are relative to spec/.
ERRORS_TABLE: Final = f"{GENERATED_DIR}/errors-table.md"
#: Included into limits.md with `--8<-- "generated/limits-table.md"`; links are relative to spec/.
LIMITS_TABLE: Final = f"{GENERATED_DIR}/limits-table.md"
#: One page per spec/schemas/<name>.schema.json goes to generated/schemas/<name>.md.
SCHEMAS_DIR: Final = f"{GENERATED_DIR}/schemas"
SCHEMAS_INDEX: Final = f"{SCHEMAS_DIR}/index.md"
SCHEMA_SUFFIX: Final = ".schema.json"
#: The vector pages are written by this module, when it is installed, into generated/vectors/.
VECTOR_PAGES_MODULE: Final = "daskwire_conformance.site.vectorpages"
VECTORS_INDEX: Final = f"{GENERATED_DIR}/vectors/index.md"

#: Real traffic a profile's examples show, one message per `<name>.bin` file (with a README
#: that says where each came from), by profile, relative to the spec folder.
CAPTURES_DIR: Final = {"dask-2023.11": "dask-2023.11/captures"}
#: Where the annotated dump of each capture goes: `<this>/<profile>/<name>.md`, a snippet
#: that the profile's pages include with `--8<--`. Its links are relative to the captures'
#: parent folder, where the pages that include it are.
CAPTURE_EXAMPLES_DIR: Final = f"{GENERATED_DIR}/examples"
#: Columns an included dump may take next to a page's table of contents (80 fit there).
CAPTURE_DUMP_WIDTH: Final = 78

_NOTICE: Final = "<!-- Generated at site build time by daskwire_conformance.site; do not edit. -->"
_ID_RE: Final = re.compile(ID_PATTERN)
_CITED_RE: Final = re.compile(r"\b" + ID_PATTERN + r"\b")
_CODE_SPAN_RE: Final = re.compile(r"(`+).*?(?<!`)\1(?!`)")
_LINK_RE: Final = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# The requirement citation that ends a `#:` comment, e.g. "... a frame (WF-4, WF-6)."
_CITATION_RE: Final = re.compile(
    r"^(?P<text>.*?)\s*\((?P<refs>[^()]*[A-Z]{2}-(?:[0-9]|\*)[^()]*)\)\.?$"
)
_RANGE_RE: Final = re.compile(r"([A-Z]{2})-([0-9]+)\s*(?:\.\.|\u2013)\s*\1-([0-9]+)")
_WILDCARD_RE: Final = re.compile(r"([A-Z]{2})-\*")
_POWER_RE: Final = re.compile(r"^([0-9]+)\s*\*\*\s*([0-9]+)$")


# --- Markdown helpers ------------------------------------------------------------------------


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the parts of one line of Markdown that are not code spans."""
    out: list[str] = []
    position = 0
    for match in _CODE_SPAN_RE.finditer(text):
        out.append(change(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(change(text[position:]))
    return "".join(out)


def _cell(text: str) -> str:
    """Make one line of Markdown safe inside a table cell."""
    return _outside_code(" ".join(text.split()), lambda part: part.replace("|", "\\|"))


def _plain(text: str) -> str:
    """Markdown for plain text (a schema's description): HTML special characters escaped."""
    return _outside_code(text, lambda part: html.escape(part, quote=False))


def _rebase_links(text: str, page: str, from_dir: str) -> str:
    """Rewrite relative links of Markdown found on `page` for use in a file in `from_dir`.

    Both are relative to the spec folder. Links with a scheme or an absolute path stay.
    """

    def rebase(match: re.Match[str]) -> str:
        target = match.group(2)
        if _SCHEME_RE.match(target) or target.startswith("/"):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        resolved = (
            page if not path else posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        )
        new = posixpath.relpath(resolved, from_dir) + hash_ + anchor
        return match.group(1) + new + match.group(3)

    return _outside_code(text, lambda part: _LINK_RE.sub(rebase, part))


def _fence(text: str, language: str) -> str:
    """A fenced code block holding `text` verbatim, with a fence longer than any run inside."""
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "item"


def _page_title(path: Path) -> str:
    """The first level-1 heading of a page, or its file name."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().rstrip("#").strip()
    return path.stem


def _link_id(requirement_id: str, requirements: Mapping[str, Requirement], from_dir: str) -> str:
    """A link to a requirement's anchor, or the bare ID when the spec lacks it."""
    found = requirements.get(requirement_id)
    if found is None:
        return requirement_id
    target = posixpath.relpath(found.page, from_dir)
    return f"[{requirement_id}]({target}#{requirement_id})"


# --- requirement index ---------------------------------------------------------------------


def requirements_page(
    requirements: Mapping[str, Requirement],
    titles: Mapping[str, str],
    page_order: Sequence[str] = (),
) -> str:
    """The index of every requirement: ID, level and statement, grouped by page.

    Pages come in `page_order` (the site navigation), then the others by path.
    """
    from_dir = posixpath.dirname(REQUIREMENTS_PAGE)
    by_page: dict[str, list[Requirement]] = {}
    for requirement in requirements.values():
        by_page.setdefault(requirement.page, []).append(requirement)
    rank = {page: index for index, page in enumerate(page_order)}
    pages = sorted(by_page, key=lambda page: (rank.get(page, len(rank)), page))
    counts = dict.fromkeys(LEVELS, 0)
    for requirement in requirements.values():
        counts[requirement.level] += 1
    summary = ", ".join(f"{counts[level]} {level}" for level in LEVELS)
    lines = [
        _NOTICE,
        "",
        "# Requirements",
        "",
        "Every numbered requirement of the specification, page by page. A requirement's",
        "level comes from the first BCP 14 keyword of its statement (see",
        "[Conventions](../conventions.md)). Each ID links to the statement on its page.",
        "",
        f"{counted(len(requirements), 'requirement')}: {summary}.",
    ]
    for page in pages:
        link = posixpath.relpath(page, from_dir)
        lines += [
            "",
            f"## {titles.get(page, page)}",
            "",
            f"Page: [{page}]({link})",
            "",
            "| ID | Level | Statement |",
            "| --- | --- | --- |",
        ]
        for requirement in sorted(by_page[page], key=lambda r: requirement_sort_key(r.id)):
            text = _cell(_rebase_links(requirement.text, page, from_dir))
            lines.append(
                f"| [{requirement.id}]({link}#{requirement.id}) | {requirement.level} | {text} |"
            )
    return "\n".join(lines) + "\n"


# --- tables rendered from the reference's code ---------------------------------------------


def _doc_comments(module: ModuleType, class_name: str) -> dict[str, str]:
    """The `#:` comments above each attribute of a class, by attribute name."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    comments: dict[str, str] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.ClassDef) and node.name == class_name):
            continue
        for statement in node.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target: ast.expr = statement.targets[0]
            elif isinstance(statement, ast.AnnAssign):
                target = statement.target
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            found: list[str] = []
            index = statement.lineno - 2
            while index >= 0 and lines[index].strip().startswith("#:"):
                found.insert(0, lines[index].strip()[2:].strip())
                index -= 1
            if found:
                comments[target.id] = " ".join(found)
    return comments


def _field_sources(module: ModuleType, class_name: str) -> dict[str, str]:
    """The source text of each annotated attribute's default value, by attribute name."""
    source = inspect.getsource(module)
    sources: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for statement in node.body:
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                    and statement.value is not None
                ):
                    segment = ast.get_source_segment(source, statement.value)
                    if segment is not None:
                        sources[statement.target.id] = segment
    return sources


def _split_citation(comment: str) -> tuple[str, str]:
    """Split "Meaning (XX-1, XX-2)." into ("Meaning.", "XX-1, XX-2")."""
    match = _CITATION_RE.match(comment)
    if match is None:
        return comment, ""
    text = match.group("text").rstrip()
    if text and text[-1] not in ".!?":
        text += "."
    return text, match.group("refs").strip()


def _cited_ids(refs: str, requirements: Mapping[str, Requirement]) -> list[str]:
    """The IDs a citation names; "XX-2 .. XX-5" is a range, "XX-*" every ID of that prefix."""
    ids: list[str] = []

    def add(found: Iterable[str]) -> None:
        ids.extend(i for i in found if i not in ids)

    rest = refs
    for match in _RANGE_RE.finditer(refs):
        prefix, first, last = match.group(1), int(match.group(2)), int(match.group(3))
        add(f"{prefix}-{n}" for n in range(first, last + 1))
    rest = _RANGE_RE.sub(" ", rest)
    for match in _WILDCARD_RE.finditer(rest):
        prefix = match.group(1)
        matching = sorted(
            (i for i in requirements if i.startswith(prefix + "-")), key=requirement_sort_key
        )
        add(matching or [f"{prefix}-*"])
    add(_ID_RE.findall(_WILDCARD_RE.sub(" ", rest)))
    return sorted(ids, key=lambda i: requirement_sort_key(i) if i[-1] != "*" else (i[:2], 0))


def _link_cited(text: str, requirements: Mapping[str, Requirement], from_dir: str) -> str:
    """Markdown with each requirement ID the spec defines turned into a link to it."""
    return _outside_code(
        text,
        lambda part: _CITED_RE.sub(lambda m: _link_id(m.group(0), requirements, from_dir), part),
    )


def _links(ids: Sequence[str], requirements: Mapping[str, Requirement]) -> str:
    return ", ".join(_link_id(i, requirements, ".") for i in ids) or "—"


def _categories(
    requirements: Mapping[str, Requirement],
) -> Iterator[tuple[Any, type[Any], str, list[str]]]:
    """Each category of `daskwire.errors.Category`: its class, meaning and cited IDs."""
    errors = importlib.import_module("daskwire.errors")
    comments = _doc_comments(errors, "Category")
    for category in errors.Category:
        cls = errors.error_class(category)
        comment = comments.get(category.name) or inspect.getdoc(cls) or ""
        meaning, refs = _split_citation(comment)
        yield category, cls, meaning, _cited_ids(refs, requirements)


def category_citations(requirements: Mapping[str, Requirement]) -> dict[str, list[str]]:
    """The requirement IDs the errors table cites for each category, by category name."""
    return {category.value: ids for category, _, _, ids in _categories(requirements)}


def errors_table(requirements: Mapping[str, Requirement]) -> str:
    """The closed list of error categories, rendered from `daskwire.errors.Category`."""
    lines = [
        _NOTICE,
        "",
        "| Category | Meaning | Requirements | Reference exception |",
        "| --- | --- | --- | --- |",
    ]
    for category, cls, meaning, ids in _categories(requirements):
        lines.append(
            f"| `{category.value}` | {_cell(meaning)} | {_links(ids, requirements)} "
            f"| `{cls.__name__}` |"
        )
    return "\n".join(lines) + "\n"


def _show_default(value: object, source: str | None) -> str:
    match = _POWER_RE.match(source or "")
    if match is not None:
        return f"2<sup>{match.group(2)}</sup> = {value}" if match.group(1) == "2" else f"{value}"
    return f"{value}"


def limits_table(requirements: Mapping[str, Requirement]) -> str:
    """The decoder limits and their defaults, rendered from `daskwire.limits.Limits`."""
    limits = importlib.import_module("daskwire.limits")
    comments = _doc_comments(limits, "Limits")
    sources = _field_sources(limits, "Limits")
    lines = [
        _NOTICE,
        "",
        "| Limit | Default | Meaning | Requirement |",
        "| --- | --- | --- | --- |",
    ]
    for field in dataclasses.fields(limits.Limits):
        comment = comments.get(field.name)
        if comment is None:
            log.warning("Limits.%s has no #: comment to render as its meaning", field.name)
            comment = ""
        meaning, refs = _split_citation(comment)
        ids = _cited_ids(refs, requirements)
        default = _show_default(field.default, sources.get(field.name))
        lines.append(
            f"| `{field.name}` | {default} | {_cell(meaning)} | {_links(ids, requirements)} |"
        )
    return "\n".join(lines) + "\n"


# --- schema pages ---------------------------------------------------------------------------


def _schema_name(path: Path) -> str:
    return path.name.removesuffix(SCHEMA_SUFFIX)


def _type_of(schema: Any, known: Sequence[str]) -> str:
    """A short Markdown description of a subschema's type, linking `$ref`s."""
    if schema is True:
        return "any"
    if schema is False:
        return "nothing"
    if not isinstance(schema, dict):
        return "?"
    if "$ref" in schema:
        return _ref_link(str(schema["$ref"]), known)
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "enum" in schema:
        values = ", ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in schema["enum"])
        return f"one of {values}"
    for combinator, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return joiner.join(_type_of(s, known) for s in schema[combinator])
    kind = schema.get("type")
    names = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    if names == ["array"] and "items" in schema:
        return f"array of {_type_of(schema['items'], known)}"
    if names == ["object"] and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type_of(schema['additionalProperties'], known)}"
    return " or ".join(str(n) for n in names) or "any"


def _ref_link(ref: str, known: Sequence[str]) -> str:
    """Link a `$ref`: to a definition on this page, or to another schema's page."""
    document, _, pointer = ref.partition("#")
    name = pointer.rsplit("/", 1)[-1] if pointer.startswith("/$defs/") else ""
    page = ""
    if document:
        other = document.rsplit("/", 1)[-1].removesuffix(SCHEMA_SUFFIX)
        if other not in known:
            return f"`{ref}`"
        page = f"{other}.md"
    if name:
        return f"[{name}]({page}#def-{_slug(name)})"
    if page:
        return f"[{page.removesuffix('.md')}]({page})"
    return f"`{ref}`"


def _property_table(
    schema: Mapping[str, Any], known: Sequence[str], prose: Callable[[object], str]
) -> list[str]:
    properties = schema.get("properties")
    patterns = schema.get("patternProperties")
    if not isinstance(properties, dict) and not isinstance(patterns, dict):
        return [f"Type: {_type_of(schema, known)}."]
    required = set(schema.get("required", ()))
    lines = ["| Property | Type | Required | Description |", "| --- | --- | --- | --- |"]
    for name, sub in (properties or {}).items():
        description = sub.get("description", "") if isinstance(sub, dict) else ""
        lines.append(
            f"| `{name}` | {_cell(_type_of(sub, known))} | {'yes' if name in required else 'no'} "
            f"| {_cell(prose(description))} |"
        )
    for pattern, sub in (patterns or {}).items():
        description = sub.get("description", "") if isinstance(sub, dict) else ""
        lines.append(
            f"| `{_cell(pattern)}` (pattern) | {_cell(_type_of(sub, known))} | no "
            f"| {_cell(prose(description))} |"
        )
    extra = schema.get("additionalProperties")
    if extra is False:
        lines += ["", "No other properties are allowed."]
    return lines


def schema_page(
    path: Path,
    known: Sequence[str] = (),
    requirements: Mapping[str, Requirement] | None = None,
) -> str:
    """A page for one JSON Schema: title, description, property tables and the raw file.

    `known` names the other schemas (for `$ref` links); requirement IDs in descriptions link
    to `requirements`.
    """

    def prose(text: object) -> str:
        return _link_cited(_plain(str(text)), requirements or {}, SCHEMAS_DIR)

    raw = path.read_text(encoding="utf-8")
    schema = json.loads(raw)
    if not isinstance(schema, dict):
        msg = f"{path.name}: a schema file must hold a JSON object"
        raise ValueError(msg)
    title = str(schema.get("title") or _schema_name(path))
    lines = [_NOTICE, "", f"# {_plain(title)}", ""]
    if schema.get("description"):
        lines += [prose(schema["description"]), ""]
    facts = [f"File: [`schemas/{path.name}`](../../schemas/{path.name})"]
    if "$id" in schema:
        facts.append(f"`$id`: `{schema['$id']}`")
    if "$schema" in schema:
        facts.append(f"dialect: `{schema['$schema']}`")
    lines += [" · ".join(facts), "", "## Properties", ""]
    lines += _property_table(schema, known, prose)
    definitions = schema.get("$defs")
    if isinstance(definitions, dict) and definitions:
        lines += ["", "## Definitions"]
        for name, sub in definitions.items():
            lines += ["", f"### `{name}` {{#def-{_slug(name)}}}", ""]
            if isinstance(sub, dict) and sub.get("description"):
                lines += [prose(sub["description"]), ""]
            lines += _property_table(sub if isinstance(sub, dict) else {}, known, prose)
    lines += ["", "## Schema file", "", _fence(raw, "json")]
    return "\n".join(lines) + "\n"


def schemas_index(paths: Sequence[Path]) -> str:
    """The page listing every schema of the spec."""
    lines = [
        "---",
        "title: Schemas",  # not "Index", from the file's name
        "---",
        "",
        _NOTICE,
        "",
        "# Schemas",
        "",
        "The JSON Schemas of the specification's machine-readable formats. Each page is generated",
        "from its file in `spec/schemas/` and shows the file itself at the end.",
        "",
    ]
    if not paths:
        return "\n".join([*lines, "The specification defines no schema yet."]) + "\n"
    lines += ["| Schema | File | Description |", "| --- | --- | --- |"]
    for path in paths:
        schema = json.loads(path.read_text(encoding="utf-8"))
        title = str(schema.get("title") or _schema_name(path))
        description = str(schema.get("description", "")).split("\n\n", 1)[0]
        lines.append(
            f"| [{_cell(_plain(title))}]({_schema_name(path)}.md) | `{path.name}` "
            f"| {_cell(_plain(description))} |"
        )
    return "\n".join(lines) + "\n"


# --- examples from real captures -----------------------------------------------------------


def capture_example(path: Path, profile: str) -> str:
    """The Markdown snippet of one capture: a link to its bytes, and its annotated hex dump.

    The dump is the reference's reading of the bytes (`common.hexdump.annotate_wire`), at
    most `CAPTURE_DUMP_WIDTH` columns wide.
    """
    data = path.read_bytes()
    where = f"{path.parent.name}/{path.name}"
    dump = fit_width(annotate_wire(data, profile=profile), CAPTURE_DUMP_WIDTH)
    return "\n".join(
        [
            _NOTICE,
            "",
            f"[`{where}`]({where}), {counted(len(data), 'byte')}, as the reference reads it:",
            "",
            _fence(dump, "text"),
            "",
        ]
    )


def capture_examples(spec_dir: Path) -> dict[Path, str]:
    """Every capture example, by the path it is written to under `spec_dir`."""
    out: dict[Path, str] = {}
    for profile, folder in CAPTURES_DIR.items():
        for path in sorted((spec_dir / folder).glob("*.bin")):
            target = spec_dir / CAPTURE_EXAMPLES_DIR / profile / f"{path.stem}.md"
            out[target] = capture_example(path, profile)
    return out


def _write_capture_examples(spec_dir: Path) -> None:
    examples = capture_examples(spec_dir)
    for target, text in examples.items():
        _write(target, text)
    for profile in CAPTURES_DIR:
        for stale in (spec_dir / CAPTURE_EXAMPLES_DIR / profile).glob("*.md"):
            if stale not in examples:
                stale.unlink()


# --- writing ---------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    """Write only when the content changes, so that `mkdocs serve` does not rebuild forever."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def vector_pages_available() -> bool:
    """Whether the module that writes the vector pages is installed."""
    try:
        importlib.import_module(VECTOR_PAGES_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != VECTOR_PAGES_MODULE:
            raise
        return False
    return True


def generate(spec_dir: Path, page_order: Sequence[str] = ()) -> None:
    """Write every generated page into `spec_dir`/generated/; the output is deterministic.

    `page_order` lists spec pages in navigation order; the requirement index follows it.
    """
    requirements = load_requirements(spec_dir)
    titles = {p.relative_to(spec_dir).as_posix(): _page_title(p) for p in spec_pages(spec_dir)}
    _write(spec_dir / REQUIREMENTS_PAGE, requirements_page(requirements, titles, page_order))
    _write(spec_dir / ERRORS_TABLE, errors_table(requirements))
    _write(spec_dir / LIMITS_TABLE, limits_table(requirements))

    schemas = sorted((spec_dir / "schemas").glob(f"*{SCHEMA_SUFFIX}"))
    known = [_schema_name(p) for p in schemas]
    wanted = {spec_dir / SCHEMAS_INDEX}
    _write(spec_dir / SCHEMAS_INDEX, schemas_index(schemas))
    for path in schemas:
        target = spec_dir / SCHEMAS_DIR / f"{_schema_name(path)}.md"
        wanted.add(target)
        _write(target, schema_page(path, known, requirements))
    for stale in (spec_dir / SCHEMAS_DIR).glob("*.md"):
        if stale not in wanted:
            stale.unlink()

    results = load_results(spec_dir / RESULTS_DIR)
    page = implementations_page(
        results, suite_state(vectors_dir()), vector_pages=vector_pages_available()
    )
    _write(spec_dir / IMPLEMENTATIONS_PAGE, page)
    _write(spec_dir / MUTATION_PAGE, mutation_page(spec_dir / MUTATION_SCORE))
    _write_capture_examples(spec_dir)
    write_tool_snippets(spec_dir, _write)

    if vector_pages_available():
        module = importlib.import_module(VECTOR_PAGES_MODULE)
        module.write_pages(spec_dir / GENERATED_DIR)
    else:
        log.info("%s is not installed; the site has no vector pages", VECTOR_PAGES_MODULE)
