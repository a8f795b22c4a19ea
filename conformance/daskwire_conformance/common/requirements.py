"""The spec's numbered requirements: `[[ID]]` statements parsed from spec/*.md, and BCP 14 lint."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "GENERATED_DIR",
    "ID_PATTERN",
    "KEYWORD_LEVELS",
    "LEVELS",
    "Requirement",
    "SpecError",
    "load_requirements",
    "replace_markers",
    "requirement_sort_key",
    "spec_pages",
    "stray_keywords",
]

#: A requirement ID: two uppercase letters naming the page, a dash, a number from 1 (e.g. PH-6).
ID_PATTERN: Final = r"[A-Z]{2}-[1-9][0-9]*"

#: The requirement levels, strongest first.
LEVELS: Final = ("required", "recommended", "optional")

#: Each BCP 14 keyword (RFC 2119, RFC 8174) and the level a statement using it first has.
KEYWORD_LEVELS: Final = {
    "MUST": "required",
    "MUST NOT": "required",
    "REQUIRED": "required",
    "SHALL": "required",
    "SHALL NOT": "required",
    "SHOULD": "recommended",
    "SHOULD NOT": "recommended",
    "RECOMMENDED": "recommended",
    "NOT RECOMMENDED": "recommended",
    "MAY": "optional",
    "OPTIONAL": "optional",
}

#: Folder of spec/ that holds generated pages; it is never parsed for requirements.
GENERATED_DIR: Final = "generated"

# Two-word keywords first, so that "MUST NOT" is not read as "MUST".
_KEYWORD_RE = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(k) for k in sorted(KEYWORD_LEVELS, key=lambda k: (-len(k), k)))
    + r")(?![\w-])"
)
# A keyword in double quotes is mentioned, not used (the BCP 14 boilerplate quotes each one).
_QUOTED_KEYWORD_RE = re.compile(r'"(?:' + _KEYWORD_RE.pattern + r')"')
_LIST_MARKER = r"(?:[-*+]|[0-9]{1,9}[.)])"
# A line that opens a list item; group 1 is everything before the item's text.
_LIST_ITEM_RE = re.compile(r"^(\s*" + _LIST_MARKER + r"[ \t]+)")
# A `[[...]]` marker at the start of a paragraph or list item; group 2 is what is inside.
_MARKER_RE = re.compile(r"^(\s*(?:" + _LIST_MARKER + r"[ \t]+)?)\[\[([^\]\n]*)\]\]")
_ID_RE = re.compile(r"^" + ID_PATTERN + r"$")
_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_BLOCKQUOTE_RE = re.compile(r"^\s*>")
_CODE_SPAN_RE = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


class SpecError(ValueError):
    """The spec's requirement markup is malformed: a duplicate ID, a statement without keyword."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One numbered statement of the spec."""

    #: The requirement ID, e.g. "PH-6"; also the anchor of the statement on its page.
    id: str
    #: "required", "recommended" or "optional", from the statement's first BCP 14 keyword.
    level: str
    #: The page holding the statement, relative to the spec folder, e.g. "placeholder.md".
    page: str
    #: The statement's Markdown text without its marker, on one line.
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Statement:
    """Where a marker opens a statement on a page: its ID, line span and text."""

    id: str
    #: 1-based number of the line holding the marker.
    line: int
    #: 1-based number of the statement's last line (inclusive).
    end: int
    text: str


def _default_spec_dir() -> Path:
    from daskwire_conformance.common.data import spec_dir

    return spec_dir()


def spec_pages(spec_dir: Path | None = None) -> list[Path]:
    """The Markdown pages of the spec, sorted by path, without the generated ones."""
    root = _default_spec_dir() if spec_dir is None else spec_dir
    return sorted(p for p in root.rglob("*.md") if p.relative_to(root).parts[0] != GENERATED_DIR)


def _code_lines(lines: list[str]) -> list[bool]:
    """Mark the lines that belong to a fenced code block, fences included."""
    in_code: list[bool] = []
    fence: str | None = None
    for line in lines:
        match = _FENCE_RE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
            in_code.append(fence is not None)
        else:
            in_code.append(True)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                rest = line.strip()[len(match.group(1)) :]
                if not rest.strip():
                    fence = None
    return in_code


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _statements(page: str, source: str) -> Iterator[_Statement]:
    """Yield every `[[ID]]` statement of a page, in order."""
    lines = source.splitlines()
    in_code = _code_lines(lines)
    for index, line in enumerate(lines):
        if in_code[index]:
            continue
        match = _MARKER_RE.match(line)
        if match is None:
            continue
        prefix, inner = match.group(1), match.group(2)
        is_item = bool(prefix.strip())
        previous = lines[index - 1] if index > 0 else ""
        if not is_item and previous.strip() and not _HEADING_RE.match(previous):
            # A marker inside a paragraph, not at its start: leave it to stray checks.
            continue
        if not _ID_RE.match(inner):
            msg = f"{page}:{index + 1}: malformed requirement marker [[{inner}]]"
            raise SpecError(msg)
        end = _statement_end(lines, in_code, index, _indent(line) if is_item else None)
        parts = [line[match.end() :].strip()]
        parts.extend(
            lines[i].strip()
            for i in range(index + 1, end + 1)
            if not in_code[i] and lines[i].strip()
        )
        yield _Statement(
            id=inner, line=index + 1, end=end + 1, text=" ".join(p for p in parts if p)
        )


def _statement_end(
    lines: list[str], in_code: list[bool], start: int, item_indent: int | None
) -> int:
    """The index of the last line of the statement opened at `start`.

    A paragraph ends at a blank line. A list item also takes every later line indented deeper
    than its marker (continuation paragraphs, nested lists, code blocks) and ends at the next
    item at the same or a lower indent. Either ends where another statement starts.
    """
    end = start
    blank_run = False
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip():
            if item_indent is None:
                break
            blank_run = True
            continue
        if in_code[index]:
            if item_indent is None or _indent(line) <= item_indent:
                break
            end = index
            continue
        if _MARKER_RE.match(line) or _HEADING_RE.match(line):
            break
        if item_indent is None:
            if _LIST_ITEM_RE.match(line) or _BLOCKQUOTE_RE.match(line):
                break
        elif _indent(line) <= item_indent and (blank_run or _LIST_ITEM_RE.match(line)):
            break
        end = index
        blank_run = False
    return end


def _strip_code_spans(text: str) -> str:
    return _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), text)


def _keywords(text: str) -> list[str]:
    """The BCP 14 keywords used in prose: not in code spans, comments or double quotes."""
    text = _HTML_COMMENT_RE.sub(" ", _strip_code_spans(text))
    text = _QUOTED_KEYWORD_RE.sub(" ", text)
    return [m.group(1) for m in _KEYWORD_RE.finditer(text)]


def requirement_sort_key(requirement_id: str) -> tuple[str, int]:
    """Sort IDs by prefix, then by number: PH-2 before PH-10."""
    prefix, _, number = requirement_id.partition("-")
    return (prefix, int(number))


def load_requirements(spec_dir: Path | None = None) -> dict[str, Requirement]:
    """Parse every `[[ID]]` statement of the spec.

    Returns the requirements by ID, page by page (pages sorted by path), each page's in
    natural order (`requirement_sort_key`: PH-7 before PH-10), whatever the order of the
    statements in the text. Raises
    `SpecError` for a malformed marker, a repeated ID, or a statement without a BCP 14 keyword.
    """
    root = _default_spec_dir() if spec_dir is None else spec_dir
    found: dict[str, Requirement] = {}
    where: dict[str, str] = {}
    for path in spec_pages(root):
        page = path.relative_to(root).as_posix()
        for statement in _statements(page, path.read_text(encoding="utf-8")):
            location = f"{page}:{statement.line}"
            if statement.id in found:
                msg = f"{location}: requirement {statement.id} repeats {where[statement.id]}"
                raise SpecError(msg)
            keywords = _keywords(statement.text)
            if not keywords:
                msg = f"{location}: requirement {statement.id} has no BCP 14 keyword"
                raise SpecError(msg)
            found[statement.id] = Requirement(
                id=statement.id,
                level=KEYWORD_LEVELS[keywords[0]],
                page=page,
                text=statement.text,
            )
            where[statement.id] = location
    pages = {requirement.page: index for index, requirement in enumerate(found.values())}
    return {
        rid: found[rid]
        for rid in sorted(
            found, key=lambda rid: (pages[found[rid].page], requirement_sort_key(rid))
        )
    }


def stray_keywords(spec_dir: Path | None = None) -> list[tuple[str, int, str]]:
    """Uppercase BCP 14 keywords outside `[[ID]]` statements, as (page, line, keyword).

    Code spans, fenced code, blockquotes, HTML comments and keywords in double quotes (the
    BCP 14 boilerplate) do not count.
    """
    root = _default_spec_dir() if spec_dir is None else spec_dir
    strays: list[tuple[str, int, str]] = []
    for path in spec_pages(root):
        page = path.relative_to(root).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        covered = _code_lines(lines)
        for statement in _statements(page, source):
            for index in range(statement.line - 1, statement.end):
                covered[index] = True
        # Blank out comments across lines before looking line by line.
        uncommented = _HTML_COMMENT_RE.sub(
            lambda m: re.sub(r"[^\n]", " ", m.group(0)), source
        ).splitlines()
        for index, line in enumerate(uncommented):
            if covered[index] or _BLOCKQUOTE_RE.match(line):
                continue
            strays.extend((page, index + 1, keyword) for keyword in _keywords(line))
    return strays


def replace_markers(markdown: str, render: Callable[[str], str]) -> str:
    """Replace each statement's `[[ID]]` marker with `render(ID)`; nothing else changes."""
    lines = markdown.splitlines(keepends=True)
    for statement in _statements("page", markdown):
        line = lines[statement.line - 1]
        match = _MARKER_RE.match(line)
        if match is not None:
            lines[statement.line - 1] = (
                match.group(1) + render(match.group(2)) + line[match.end() :]
            )
    return "".join(lines)
