"""The mutation run's survivor list: every survivor classified, identities and score consistent."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from daskwire_conformance.common.requirements import load_requirements

ROOT = Path(__file__).resolve().parents[1]


def _load_survivors() -> ModuleType:
    path = ROOT / "tests" / "mutation" / "survivors.py"
    spec = importlib.util.spec_from_file_location("mutation_survivors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sv = _load_survivors()
ENTRIES = sv.read_entries()
SCORE: dict[str, Any] = sv.read_score()
_ORDINAL_RE = re.compile(r"~([0-9]+)$")


def test_the_list_and_the_score_exist() -> None:
    assert sv.SURVIVORS_FILE.exists(), "run `bash scripts/mutate.sh` once"
    assert SCORE, "run `bash scripts/mutate.sh` once"
    assert set(SCORE["modules"]) <= set(sv.MODULES)


def test_every_survivor_is_classified() -> None:
    problems = [f"{e.id} ({e.module}.py:{e.line}): {p}" for e in ENTRIES for p in e.problems()]
    assert not problems, (
        "classify each survivor in tests/mutation/survivors.toml as equivalent (kind, reason)"
        " or gap (requirements, reason):\n  " + "\n  ".join(problems)
    )


def test_gaps_name_requirements_of_the_spec() -> None:
    known = set(load_requirements())
    unknown = {
        (e.id, r) for e in ENTRIES if e.cls == sv.GAP for r in e.requirements if r not in known
    }
    assert not unknown


def test_ids_are_unique_and_follow_from_the_entry() -> None:
    ids = Counter(e.id for e in ENTRIES)
    assert not [i for i, n in ids.items() if n > 1]
    for entry in ENTRIES:
        removed = [d[1:] for d in entry.diff if d.startswith("-")]
        added = [d[1:] for d in entry.diff if d.startswith("+")]
        match = _ORDINAL_RE.search(entry.id)
        ordinal = int(match.group(1)) if match else 1
        again = sv.mutant_id(entry.module, entry.function, entry.operator, removed, added, ordinal)
        assert entry.id == again, entry


def test_the_file_is_in_its_canonical_form() -> None:
    text = sv.SURVIVORS_FILE.read_text(encoding="utf-8")
    tomllib.loads(text)
    assert sv.render_entries(ENTRIES) == text, "survivors.toml: keep the order and the layout"


def test_the_score_counts_the_list() -> None:
    by_module = {
        module: Counter(e.cls for e in ENTRIES if e.module == module) for module in SCORE["modules"]
    }
    for module, counts in SCORE["modules"].items():
        listed = by_module[module]
        assert counts["equivalent"] == listed[sv.EQUIVALENT], module
        assert counts["gaps"] == listed[sv.GAP], module
        assert counts["survived"] == sum(listed.values()), module
        assert counts["mutants"] == counts["killed"] + counts["survived"], module
        assert counts["equivalent"] + counts["gaps"] + counts["unclassified"] == counts["survived"]
    assert {e.module for e in ENTRIES} <= set(SCORE["modules"])
    assert sv.totals(SCORE["modules"]) == SCORE["total"]


def test_the_score_names_the_pinned_tool_and_its_page_text() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = pyproject["project"]["optional-dependencies"]["mutation"]
    assert f"{SCORE['tool']}=={SCORE['version']}" in pinned
    assert SCORE["markdown"] == sv.render_markdown(SCORE)


SOURCE = """\
from __future__ import annotations


def outer(size: int | None) -> tuple[int, ...]:
    def inner() -> None:
        msg = f"{size - 1} bytes"
        raise ValueError(msg)

    total: list[int] = [size + 1,
                        size * 2]
    raise ValueError(f"got {size + 2}")


class Reader:
    def feed(self, data: bytes) -> None:
        return None
"""


@pytest.mark.parametrize(
    ("line", "column", "function", "statement", "annotation", "message"),
    [
        (4, 18, "outer", 4, True, False),  # int | None
        (4, 35, "outer", 4, True, False),  # tuple[int, ...]
        (6, 20, "outer.inner", 6, False, True),  # size - 1 in msg = f"..."
        (9, 29, "outer", 9, False, False),  # size + 1
        (10, 29, "outer", 9, False, False),  # size * 2 on the statement's second line
        (11, 30, "outer", 11, False, True),  # size + 2 in raise ValueError(f"...")
        (16, 15, "Reader.feed", 16, False, False),
        (1, 0, "<module>", 1, False, False),
    ],
)
def test_source_map(
    line: int,
    column: int,
    function: str,
    statement: int,
    annotation: bool,
    message: bool,
) -> None:
    where = sv.SourceMap.of(SOURCE)
    assert where.function(line, column) == function
    assert where.statement_line(line, column) == statement
    assert where.in_annotation(line, column) is annotation
    assert where.in_message(line, column) is message


@pytest.mark.parametrize(
    ("operator", "rule"),
    [
        ("ReplaceBinaryOperator_Sub_Add", "message"),
        ("ReplaceBinaryOperator_Sub_Mul", "message"),
        # `size << 1` or `size ** 2` can outgrow int-to-str's digit limit: the message raises
        ("ReplaceBinaryOperator_Sub_LShift", None),
        ("ReplaceBinaryOperator_Sub_Pow", None),
    ],
)
def test_message_rule_leaves_growing_numbers_to_a_person(operator: str, rule: str | None) -> None:
    mutant = sv.Mutant(
        module="wire",
        function="outer.inner",
        operator=operator,
        occurrence=1,
        line=6,
        column=20,
        outcome="survived",
        removed=('msg = f"{size - 1} bytes"',),
        added=('msg = f"{size + 1} bytes"',),
    )
    got = sv.rule_class(mutant, sv.SourceMap.of(SOURCE))
    assert (got[1] if got else None) == rule


def test_identity_ignores_position_and_indentation() -> None:
    common: dict[str, Any] = {
        "module": "wire",
        "function": "FrameReader._take",
        "operator": "ReplaceComparisonOperator_Eq_Lt",
        "occurrence": 3,
        "column": 8,
        "outcome": "survived",
    }
    here = sv.Mutant(line=183, removed=("if size == 0:",), added=("if size < 0:",), **common)
    moved = sv.Mutant(
        line=201, removed=("    if size == 0:",), added=("    if size < 0:",), **common
    )
    assert (
        here.id
        == moved.id
        == "wire.FrameReader._take/ReplaceComparisonOperator_Eq_Lt/"
        + (sv.digest(["if size == 0:"], ["if size < 0:"]))
    )
    twice = sv.assign_ordinals(
        [here, sv.Mutant(**{**common, "line": 190}, removed=here.removed, added=here.added)]
    )
    assert [m.id.endswith("~2") for m in twice] == [False, True]


def test_parse_diff_reads_cosmic_rays_diff() -> None:
    diff = (
        "--- mutation diff ---\n--- a/src/daskwire/wire.py\n+++ b/src/daskwire/wire.py\n"
        "@@ -181,3 +181,3 @@\n     def _take(self, size):\n-        if size == 0:\n"
        "+        if size < 0:\n             return b''\n"
    )
    assert sv.parse_diff(diff) == (("if size == 0:",), ("if size < 0:",))
