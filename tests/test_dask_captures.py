"""The real captures behind the dask-2023.11 examples, and the examples generated from them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from daskwire import dask_2023_11
from daskwire_conformance.site.generate import (
    CAPTURE_DUMP_WIDTH,
    CAPTURE_EXAMPLES_DIR,
    CAPTURES_DIR,
    capture_examples,
    generate,
)

SPEC = ROOT / "spec"
CAPTURES = SPEC / CAPTURES_DIR["dask-2023.11"]
CAPTURE_FILES = sorted(CAPTURES.glob("*.bin"))
EXAMPLES_PAGE = SPEC / "dask-2023.11" / "examples.md"
#: A README row: | `name` | bytes | `source` | offset | what |
_ROW_RE = re.compile(r"^\| `([^`]+\.bin)` \| ([0-9]+) \| `([^`]+)` \| ([0-9]+) \|", re.MULTILINE)
#: A dump row: offset, then its bytes.
_DUMP_ROW_RE = re.compile(r"^([0-9a-f]{6})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})(?:  |$)")


def _readme_rows() -> dict[str, tuple[int, str, int]]:
    text = (CAPTURES / "README.md").read_text(encoding="utf-8")
    return {m[1]: (int(m[2]), m[3], int(m[4])) for m in _ROW_RE.finditer(text)}


def _dump_of(text: str) -> str:
    """The fenced dump of a generated example."""
    return text.split("```text\n", 1)[1].split("\n```", 1)[0]


def test_the_examples_need_these_captures() -> None:
    names = {p.name for p in CAPTURE_FILES}
    assert {
        "handshake-lz4.c2s.bin",
        "handshake-lz4.s2c.bin",
        "compute-task.bin",
        "batch.bin",
        "two-arrays.bin",
    } <= names
    assert all(p.stat().st_size < 4096 for p in CAPTURE_FILES), "captures stay small"


def test_the_readme_says_where_each_capture_came_from() -> None:
    rows = _readme_rows()
    assert sorted(rows) == [p.name for p in CAPTURE_FILES]
    for path in CAPTURE_FILES:
        size, source, offset = rows[path.name]
        data = path.read_bytes()
        assert len(data) == size, path.name
        origin = ROOT / source
        if not origin.is_file():
            pytest.skip(f"{source} is not in this checkout")
        assert origin.read_bytes()[offset : offset + size] == data, path.name


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_each_capture_is_one_message_the_reference_decodes(path: Path) -> None:
    data = path.read_bytes()
    reader = dask_2023_11.FrameReader()
    assert len(reader.feed(data)) == 1
    reader.close()
    frames = dask_2023_11.unpack(data)
    assert dask_2023_11.pack_bytes(frames, hint=int.from_bytes(data[:8], "little")) == data
    for mode in ("forwarding", "consuming"):
        dask_2023_11.decode(frames, mode=mode)


def test_both_directions_of_the_handshake_are_byte_identical() -> None:
    """The examples page says so."""
    c2s = (CAPTURES / "handshake-lz4.c2s.bin").read_bytes()
    assert c2s == (CAPTURES / "handshake-lz4.s2c.bin").read_bytes()


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_an_example_shows_its_capture_byte_for_byte(path: Path) -> None:
    target = SPEC / CAPTURE_EXAMPLES_DIR / "dask-2023.11" / f"{path.stem}.md"
    text = capture_examples(SPEC)[target]
    data = path.read_bytes()
    assert f"[`captures/{path.name}`](captures/{path.name}), {len(data)} bytes" in text
    dump = _dump_of(text)
    shown = 0
    for line in dump.splitlines():
        assert len(line) <= CAPTURE_DUMP_WIDTH, line
        assert "!" not in line, f"the reference finds something wrong: {line}"
        row = _DUMP_ROW_RE.match(line)
        if row:
            offset, hexed = int(row[1], 16), bytes.fromhex(row[2])
            assert data[offset : offset + len(hexed)] == hexed, line
            shown += len(hexed)
    prelude = 16 + 8 * int.from_bytes(data[8:16], "little")
    assert shown >= prelude


def test_the_examples_show_what_the_page_says() -> None:
    # Notes wrapped to fit the width are read as one text.
    examples = {p.stem: " ".join(_dump_of(t).split()) for p, t in capture_examples(SPEC).items()}
    assert "no-split hint H = 1536: ends after frame 3 000008" in examples["two-arrays"]
    assert "__Serialized__ marker at $.b -> sub-header in frame 3" in examples["two-arrays"]
    assert "__Pickled__ marker at $[0].run_spec" in examples["compute-task"]
    assert "(pickle bytes: opaque, never loaded)" in examples["compute-task"]
    assert "__Set__ marker at $[2].keys, a set of 2 elements" in examples["batch"]
    assert re.search(
        r"frame 2: data frame 1 of 1 of \S+, 203 bytes, lz4", examples["compressed-array"]
    )
    assert "decompresses to 48000 bytes" in examples["compressed-array"]


def test_every_example_is_included_by_the_examples_page() -> None:
    page = EXAMPLES_PAGE.read_text(encoding="utf-8")
    included = set(re.findall(r'--8<-- "([^"]+)"', page))
    wanted = {p.relative_to(SPEC).as_posix() for p in capture_examples(SPEC)}
    assert included == wanted


def test_no_page_of_the_profile_pastes_a_hex_dump() -> None:
    """Dumps come from the reference, through the generated examples."""
    dump_row = re.compile(r"^(?:[0-9a-f]{6}  )?(?:[0-9a-f]{2} ){6,}", re.MULTILINE)
    long_hex = re.compile(r"\b(?:[0-9a-f]{2} ?){16,}")
    for page in sorted((SPEC / "dask-2023.11").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert not dump_row.search(text), page.name
        assert not long_hex.search(text), page.name


def test_regenerating_gives_identical_files(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec, ignore=shutil.ignore_patterns("generated"))
    generate(spec)
    folder = spec / CAPTURE_EXAMPLES_DIR / "dask-2023.11"
    first = {p.name: p.read_bytes() for p in sorted(folder.glob("*.md"))}
    assert sorted(first) == sorted(f"{p.stem}.md" for p in CAPTURE_FILES)
    (folder / "stale.md").write_text("gone after the next build\n", encoding="utf-8")
    generate(spec)
    assert {p.name: p.read_bytes() for p in sorted(folder.glob("*.md"))} == first
    assert {p.name: t.encode() for p, t in capture_examples(spec).items()} == first
