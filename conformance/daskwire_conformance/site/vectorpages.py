"""Site pages generated from the golden vectors: matrix, one page per area, one example each."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from daskwire import PROFILE

from daskwire_conformance.common.hexdump import annotate, annotate_wire, fit_width
from daskwire_conformance.common.requirements import (
    Requirement,
    load_requirements,
    requirement_sort_key,
)
from daskwire_conformance.common.suite import Vector, load_manifest, load_vectors
from daskwire_conformance.common.words import counted

__all__ = [
    "EXAMPLE_DUMP_WIDTH",
    "PAGE_DUMP_WIDTH",
    "example_name",
    "fit_width",
    "render_example",
    "vector_dump",
    "write_pages",
]

_NOTICE: Final = (
    "<!-- Generated at site build time from a vectors/ suite by"
    " daskwire_conformance.site.vectorpages; do not edit. -->"
)
#: Lines of a message shown for a reject-encode vector, which has no bytes to dump.
_MESSAGE_LINES: Final = 60
_GROUP_ORDER: Final = ("encode", "decode", "wire", "stream", "handshake", "invalid")
#: Columns a hex dump may take, so that no line hides behind a scroll bar in a 1280 px window:
#: on a vector page, which shows no table of contents, and in an example that a spec page
#: includes next to its table of contents (80 columns fit there).
PAGE_DUMP_WIDTH: Final = 100
EXAMPLE_DUMP_WIDTH: Final = 78


def example_name(vector_id: str) -> str:
    """The file name (without .md) and anchor of a vector: its id with "/" replaced by "__"."""
    return vector_id.replace("/", "__")


def _page_of(vector: Vector) -> str:
    return f"{vector.group}-{vector.area}.md"


def _frames(nodes: Sequence[Any]) -> list[bytes]:
    from daskwire.notation import frame_from_notation

    return [frame_from_notation(n) for n in nodes]


def _encoded(vector: Vector) -> list[bytes] | None:
    """The frames of an encode vector; large frames stored as digests are re-encoded."""
    nodes = vector.expected["frames"]
    if all(not (isinstance(n, Mapping) and "sha256" in n) for n in nodes):
        return _frames(nodes)
    import daskwire
    from daskwire.notation import from_notation

    try:
        options = vector.input["options"]
        frames = daskwire.encode(
            from_notation(vector.input["message"]),
            compression=options["compression"],
            shard_size=options["shard_size"],
        )
    except Exception:
        return None
    return [bytes(f) for f in frames]


def vector_dump(vector: Vector) -> str:
    """The annotated hex dump that shows a vector's bytes (its input, or for encode, output).

    Its "!!" notes state what the reference reports for those bytes under the vector's
    limits, which is what the vector expects.
    """
    kind = vector.kind
    limits = vector.limits
    if kind == "encode":
        frames = _encoded(vector)
        if frames is None:
            return "(frames too large to store; see the sha256 digests in the vector)"
        return annotate_wire(_wire(frames))
    if kind in ("decode", "reject-decode", "handshake", "reject-handshake"):
        return annotate(_frames(vector.input["frames"]), limits=limits)
    if kind in ("unpack", "reject-unpack"):
        return annotate_wire(_frames([vector.input["wire"]])[0], limits=limits)
    if kind == "stream":
        chunks = _frames(vector.input["chunks"])
        sizes = ", ".join(str(len(c)) for c in chunks[:40])
        more = f", ... ({len(chunks)} chunks)" if len(chunks) > 40 else ""
        head = f"chunk sizes: {sizes}{more}\n"
        return head + annotate_wire(b"".join(chunks), stream=True, limits=limits)
    text = json.dumps(vector.input["message"], indent=1, ensure_ascii=False).splitlines()
    if len(text) > _MESSAGE_LINES:
        text = [*text[:_MESSAGE_LINES], f"... {len(text) - _MESSAGE_LINES} more lines"]
    return "message (typed value notation), which has no encoding:\n" + "\n".join(text)


def _wire(frames: Sequence[bytes]) -> bytes:
    import struct

    return struct.pack(f"<{len(frames) + 1}Q", len(frames), *(len(f) for f in frames)) + b"".join(
        frames
    )


def _req_links(vector: Vector, requirements: Mapping[str, Requirement], prefix: str) -> str:
    links = []
    for rid in sorted(vector.requirements, key=requirement_sort_key):
        req = requirements.get(rid)
        links.append(f"[{rid}]({prefix}{req.page}#{rid})" if req else rid)
    return ", ".join(links)


def _expected_text(vector: Vector) -> str:
    expected = vector.expected
    if "category" in expected:
        modes = expected.get("modes")
        where = f" ({', '.join(modes)})" if modes and vector.kind == "reject-decode" else ""
        accepted = expected.get("accepted") or {}
        also = f"; {' and '.join(accepted)} decodes it (RX-3)" if accepted else ""
        return f"rejects with `{expected['category']}`{where}{also}"
    if vector.kind == "encode":
        how = "these exact bytes" if expected["canonical"] else "frames that decode to the message"
        return f"encodes to {how}"
    if vector.kind == "decode":
        return "decodes to the expected message in both receiver modes"
    if vector.kind == "unpack":
        return f"unpacks to {counted(len(expected['frames']), 'frame')}"
    if vector.kind == "handshake":
        return f"agrees on {json.dumps(expected['agreed'])}"
    return f"reads {counted(len(expected['messages']), 'message')}"


def _fence(text: str) -> str:
    return f"```text\n{text}\n```\n"


def render_example(
    vector: Vector,
    requirements: Mapping[str, Requirement],
    *,
    prefix: str = "",
    width: int = EXAMPLE_DUMP_WIDTH,
) -> str:
    """The Markdown of one example: title, description, requirement links and hex dump.

    `prefix` leads from the page that shows the example to the spec folder: "" for an
    example that spec pages include with `--8<--`, "../../" for a page in generated/vectors/.
    The dump's lines are at most `width` columns wide.
    """
    lines = [
        f"**`{vector.id}`** ({vector.kind}, {vector.level}): {vector.description}.",
        "",
        (
            f"Requirements: {_req_links(vector, requirements, prefix)}. "
            f"Expected: {_expected_text(vector)}."
        ),
    ]
    if vector.needs:
        lines[-1] += f" Needs: {', '.join(f'`{n}`' for n in vector.needs)}."
    if vector.derived:
        lines.append("")
        lines.append(
            f"Derived from `{vector.derived['parent']}` by this mutation: "
            f"{vector.derived['mutation']}."
        )
    lines.append("")
    lines.append(_fence(fit_width(vector_dump(vector), width)))
    return "\n".join(lines)


def _area_page(
    group: str,
    area: str,
    vectors: Sequence[Vector],
    requirements: Mapping[str, Requirement],
    profile: str,
) -> str:
    lines = [
        # The nav names the page by its file; the table at the top stands for the table of
        # contents, which would take the width that the hex dumps need.
        "---",
        f"title: {group}/{area}",
        "hide: [toc]",
        "---",
        "",
        _NOTICE,
        "",
        f"# Vectors: {group}/{area}",
        "",
        (
            f"{counted(len(vectors), 'vector')} of the file "
            f"`vectors/{profile}/{group}/{area}.json`. Each "
            "shows the bytes it is about as an annotated hex dump: offset, bytes, and what they "
            "mean. A note that starts with `!` marks what looks wrong at that place; one that "
            "starts with `!!` is the error the reference reports for these bytes, category first."
        ),
        "",
        "| Vector | Kind | Level | Description |",
        "|---|---|---|---|",
    ]
    for v in vectors:
        lines.append(
            f"| [`{v.id}`](#{example_name(v.id)}) | {v.kind} | {v.level} | {v.description} |"
        )
    lines.append("")
    for v in vectors:
        lines.append(f"## `{v.id}` {{ #{example_name(v.id)} }}")
        lines.append("")
        body = render_example(v, requirements, prefix="../../", width=PAGE_DUMP_WIDTH)
        if v.derived:
            parent = v.derived["parent"]
            target = _parent_link(parent, vectors)
            body = body.replace(f"Derived from `{parent}`", f"Derived from [`{parent}`]({target})")
        lines.append(body)
    return "\n".join(lines)


def _parent_link(parent: str, _vectors: Sequence[Vector]) -> str:
    group, area = parent.split("/")[:2]
    return f"{group}-{area}.md#{example_name(parent)}"


def _index_page(
    vectors: Sequence[Vector],
    requirements: Mapping[str, Requirement],
    manifest: Mapping[str, Any] | None,
) -> str:
    by_area: dict[tuple[str, str], list[Vector]] = defaultdict(list)
    for v in vectors:
        by_area[(v.group, v.area)].append(v)
    version = (manifest or {}).get("suite_version", "?")
    lines = [
        "---",
        "title: Vectors",  # not "Index", from the file's name
        "---",
        "",
        _NOTICE,
        "",
        "# Vectors",
        "",
        (
            f"The golden vector suite {version}: {counted(len(vectors), 'vector')} in "
            f"{counted(len(by_area), 'file')}. "
            "The [vectors page](../../vectors.md) describes the format; this page and the pages "
            "below are generated from the files when the site is built."
        ),
        "",
        "## Files",
        "",
        "| Group | Area | Vectors | Kinds |",
        "|---|---|---|---|",
    ]
    for (group, area), items in sorted(
        by_area.items(), key=lambda kv: (_group_rank(kv[0][0]), kv[0][1])
    ):
        kinds = ", ".join(sorted({v.kind for v in items}))
        lines.append(f"| {group} | [{area}]({group}-{area}.md) | {len(items)} | {kinds} |")
    lines += [
        "",
        "## Requirements and vectors",
        "",
        (
            "For each requirement: how many vectors exercise it with valid input (positive) and "
            "with input that breaks it (negative), and in which files."
        ),
        "",
        "| Requirement | Level | Positive | Negative | Vectors |",
        "|---|---|---|---|---|",
    ]
    citing: dict[str, list[Vector]] = defaultdict(list)
    for v in vectors:
        for rid in v.requirements:
            citing[rid].append(v)
    for rid in sorted(requirements, key=requirement_sort_key):
        req = requirements[rid]
        items = citing.get(rid, [])
        positive = sum(1 for v in items if not v.negative)
        negative = len(items) - positive
        areas: dict[tuple[str, str], int] = defaultdict(int)
        for v in items:
            areas[(v.group, v.area)] += 1
        cells = ", ".join(
            f"[{g}/{a}]({g}-{a}.md) ({n})"
            for (g, a), n in sorted(areas.items(), key=lambda kv: (_group_rank(kv[0][0]), kv[0][1]))
        )
        link = f"[{rid}](../../{req.page}#{rid})"
        lines.append(f"| {link} | {req.level} | {positive} | {negative} | {cells or '-'} |")
    return "\n".join(lines) + "\n"


def _group_rank(group: str) -> int:
    return _GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER)


def _write(path: Path, text: str) -> None:
    """Write only when the content changes, so that `mkdocs serve` does not rebuild forever."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _prune(folder: Path, keep: Iterable[Path]) -> None:
    wanted = set(keep)
    for stale in folder.glob("*.md"):
        if stale not in wanted:
            stale.unlink()


def write_pages(out_dir: Path, *, vectors_root: Path | None = None) -> None:
    """Write the vector pages into out_dir (the site's spec/generated/ folder).

    out_dir/vectors/index.md holds the list of files and the requirement x vector matrix;
    out_dir/vectors/<group>-<area>.md shows every vector of one file with its hex dump;
    out_dir/examples/<id with "/" as "__">.md is one example per vector, for spec pages to
    include with `--8<--`, so its links are relative to the spec folder.
    """
    spec_dir = out_dir.parent
    requirements = load_requirements(spec_dir)
    try:
        vectors = load_vectors(vectors_root)
        manifest: dict[str, Any] | None = load_manifest(vectors_root)
    except (OSError, ValueError):
        vectors, manifest = [], None
    profile = str((manifest or {}).get("profile") or PROFILE)
    pages_dir = out_dir / "vectors"
    examples_dir = out_dir / "examples"
    written: list[Path] = []
    index = pages_dir / "index.md"
    _write(index, _index_page(vectors, requirements, manifest))
    written.append(index)
    by_area: dict[tuple[str, str], list[Vector]] = defaultdict(list)
    for v in vectors:
        by_area[(v.group, v.area)].append(v)
    for (group, area), items in sorted(by_area.items()):
        path = pages_dir / f"{group}-{area}.md"
        _write(path, _area_page(group, area, items, requirements, profile) + "\n")
        written.append(path)
    _prune(pages_dir, written)
    examples: list[Path] = []
    for v in vectors:
        path = examples_dir / f"{example_name(v.id)}.md"
        _write(path, render_example(v, requirements) + "\n")
        examples.append(path)
    if examples_dir.is_dir():
        _prune(examples_dir, examples)
