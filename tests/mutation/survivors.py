"""The mutation run's survivor list: stable mutant identities, classes, rules and the score."""

from __future__ import annotations

import ast
import hashlib
import json
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
#: The committed survivor list and the committed score (the site renders the latter).
SURVIVORS_FILE: Final = ROOT / "tests" / "mutation" / "survivors.toml"
SCORE_FILE: Final = ROOT / "spec" / "mutation" / "score.json"
#: The pure-Python codec modules the run mutates (reference/daskwire/<name>.py). Left out:
#: accel.py (the C extension's glue), notation.py (the typed notation that the runner's judge
#: uses too: a mutant there changes the judge as well as the testee), __init__.py and
#: _version.py (names only).
#: A module is named by its path under reference/daskwire, dotted: `wire`, `placeholder_v1.decoder`.
MODULES: Final = (
    "codecs",
    "constants",
    "errors",
    "limits",
    "model",
    "payload",
    "wire",
    "placeholder_v1.constants",
    "placeholder_v1.decoder",
    "placeholder_v1.encoder",
    "dask_2023_11.constants",
    "dask_2023_11.framing",
    "dask_2023_11.decoder",
    "dask_2023_11.encoder",
    "dask_2023_11.handshake",
)


def module_file(package: Path, module: str) -> Path:
    """The file of a dotted module name, under the package folder `package`."""
    return package.joinpath(*module.split(".")).with_suffix(".py")


def module_name(path: str | Path) -> str:
    """The dotted module name of a file of the package: its path after the last `daskwire`."""
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[len(parts) - parts[::-1].index("daskwire") :])


#: What a mutant's run came to: killed (by a vector), timeout (counts as killed), survived;
#: no-test (cosmic-ray found nothing to change there), unmade (cosmic-ray failed to make the
#: mutant), error (the killer could not run), pending (not run yet).
OUTCOMES: Final = ("killed", "timeout", "survived", "no-test", "unmade", "error", "pending")

EQUIVALENT: Final = "equivalent"
GAP: Final = "gap"
UNCLASSIFIED: Final = "unclassified"
CLASSES: Final = (EQUIVALENT, GAP)
#: The kinds of equivalent survivors. "Equivalent" means that no behaviour the harness can
#: observe changes: the kinds say why, and which of them are out of the vectors' reach by
#: construction rather than equivalent in every use of the library.
EQUIVALENT_KINDS: Final = {
    "annotation": "a type annotation: never evaluated (from __future__ import annotations)",
    "message": "only the text of an error message changes; the spec fixes categories, not texts",
    "same-result": "the mutated code computes the same observable result for every input",
    "free-choice": "a choice the spec leaves to the encoder, that no vector can pin",
    "performance": "only speed, memory or copying changes, not the result",
    "c-glue": "runs only with the C extension, which the pure-Python run turns off",
    "python-api": "Python API behaviour the harness protocol cannot express (argument checks,"
    " keyword-only options, the value types' slots, immutability and equality)",
    "unreachable": "a defensive branch no input can reach (an earlier check decides first)",
    "either-category": "only the category changes, between two the spec accepts for the same"
    " input (ER-3: an input that breaks two requirements of one layer may get either category)",
}

_HEADER: Final = """\
# Surviving mutants of the kit's own mutation run (scripts/mutate.sh, tests/mutation/README.md):
# cosmic-ray mutates the pure-Python reference and the in-process vectors alone try to kill
# each mutant. Every survivor is classified:
#   class = "equivalent"  no behaviour the harness can observe changes; `kind` says why
#                         (see EQUIVALENT_KINDS in survivors.py) and `reason` says how
#   class = "gap"         the vectors miss a behaviour; `requirements` names what a new vector
#                         would check, `reason` what it would show
# `bash scripts/mutate.sh` regenerates the list: classes carry over by `id`, new survivors
# come in as "unclassified" (or classified by a rule), and tests/test_mutation_survivors.py
# fails until each is classified. `id` is module.function/operator/digest of the changed
# line(s) (~N when the same change occurs N times in one function): it does not move when
# unrelated code moves. `line` and `reached` (the line runs during the vectors) are from
# the last run.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    """One mutant of one run, with its stable identity parts."""

    module: str
    function: str
    operator: str
    occurrence: int
    line: int
    column: int
    removed: tuple[str, ...]
    added: tuple[str, ...]
    outcome: str
    reached: bool | None = None
    #: What the killer printed: the vector that killed it, or "timeout".
    note: str = ""
    ordinal: int = 1

    @property
    def id(self) -> str:
        """The stable identity (see the header of survivors.toml)."""
        return mutant_id(
            self.module, self.function, self.operator, self.removed, self.added, self.ordinal
        )

    @property
    def diff(self) -> list[str]:
        """The changed lines, stripped: `-old` then `+new`."""
        return [f"-{line}" for line in self.removed] + [f"+{line}" for line in self.added]


def digest(removed: Sequence[str], added: Sequence[str]) -> str:
    """Eight hex digits of SHA-256 over the changed lines, whitespace-stripped."""
    text = "\n".join(line.strip() for line in removed) + "\n=>\n"
    text += "\n".join(line.strip() for line in added)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def mutant_id(
    module: str,
    function: str,
    operator: str,
    removed: Sequence[str],
    added: Sequence[str],
    ordinal: int = 1,
) -> str:
    """module.function/operator/digest, with ~N for the Nth same change in one function."""
    base = f"{module}.{function}/{operator}/{digest(removed, added)}"
    return base if ordinal == 1 else f"{base}~{ordinal}"


def parse_diff(diff: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The removed and added lines of cosmic-ray's unified diff, whitespace-stripped."""
    removed: list[str] = []
    added: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
    return tuple(removed), tuple(added)


def assign_ordinals(mutants: Iterable[Mutant]) -> list[Mutant]:
    """Number the mutants that share module, function, operator and change, in source order."""
    ordered = sorted(mutants, key=lambda m: (m.module, m.line, m.column, m.operator, m.occurrence))
    seen: Counter[str] = Counter()
    out: list[Mutant] = []
    for mutant in ordered:
        base = replace(mutant, ordinal=1).id
        seen[base] += 1
        out.append(replace(mutant, ordinal=seen[base]))
    return out


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where things are in one module's source: definitions, statements, annotations, texts."""

    #: (start, end, qualified name) of every function and class, outermost first.
    definitions: tuple[tuple[tuple[int, int], tuple[int, int], str], ...]
    #: (start, end, first line) of every statement.
    statements: tuple[tuple[tuple[int, int], tuple[int, int], int], ...]
    #: (start, end) of every annotation.
    annotations: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    #: (start, end) of every f-string that makes an error message (assigned to `msg`, or an
    #: argument of a raised exception).
    messages: tuple[tuple[tuple[int, int], tuple[int, int]], ...]

    @classmethod
    def of(cls, source: str) -> SourceMap:
        """Map one module's source."""
        tree = ast.parse(source)
        definitions: list[tuple[tuple[int, int], tuple[int, int], str]] = []
        statements: list[tuple[tuple[int, int], tuple[int, int], int]] = []
        annotations: list[tuple[tuple[int, int], tuple[int, int]]] = []
        messages: list[tuple[tuple[int, int], tuple[int, int]]] = []

        def span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
            start = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
            end = (
                getattr(node, "end_lineno", None) or start[0],
                getattr(node, "end_col_offset", None) or start[1],
            )
            return start, end

        def texts(node: ast.AST) -> None:
            for inner in ast.walk(node):
                if isinstance(inner, ast.JoinedStr):
                    messages.append(span(inner))

        def visit(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                name = prefix
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    name = f"{prefix}.{child.name}" if prefix else child.name
                    definitions.append((*span(child), name))
                if isinstance(child, ast.stmt):
                    statements.append((*span(child), child.lineno))
                if isinstance(child, ast.arg) and child.annotation is not None:
                    annotations.append(span(child.annotation))
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.returns:
                    annotations.append(span(child.returns))
                if isinstance(child, ast.AnnAssign):
                    annotations.append(span(child.annotation))
                if isinstance(child, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "msg" for t in child.targets
                ):
                    texts(child.value)
                if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                    for argument in child.exc.args:
                        texts(argument)
                visit(child, name)

        visit(tree, "")
        return cls(tuple(definitions), tuple(statements), tuple(annotations), tuple(messages))

    def function(self, line: int, column: int) -> str:
        """The qualified name of the innermost definition holding a position, or <module>."""
        found = "<module>"
        for start, end, name in self.definitions:
            if start <= (line, column) < end:
                found = name  # outermost first: the last hit is the innermost
        return found

    def statement_line(self, line: int, column: int) -> int:
        """The first line of the innermost statement holding a position (coverage counts it)."""
        found = line
        best: tuple[int, int] | None = None
        for start, end, first in self.statements:
            if start <= (line, column) < end and (best is None or start >= best):
                best, found = start, first
        return found

    def in_annotation(self, line: int, column: int) -> bool:
        """True when the position lies in a type annotation."""
        return any(start <= (line, column) < end for start, end in self.annotations)

    def in_message(self, line: int, column: int) -> bool:
        """True when the position lies in an f-string that makes an error message."""
        return any(start <= (line, column) < end for start, end in self.messages)


def rule_class(mutant: Mutant, where: SourceMap) -> tuple[str, str, str] | None:
    """(class, kind, reason) when a rule classifies a survivor on sight, else None."""
    if where.in_annotation(mutant.line, mutant.column):
        return (EQUIVALENT, "annotation", "annotations are not evaluated at run time (rule)")
    if where.in_message(mutant.line, mutant.column) and not mutant.operator.endswith(_GROWING):
        return (EQUIVALENT, "message", "changes only an error message's text (rule)")
    return None


#: Operators that can turn an interpolated number into one too long to print (Python's
#: 4300-digit limit on int to str), so that building the message raises: never text only.
_GROWING: Final = ("_LShift", "_Pow")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One classified (or not yet classified) survivor in survivors.toml."""

    id: str
    module: str
    function: str
    operator: str
    line: int
    reached: bool | None
    diff: tuple[str, ...]
    cls: str = UNCLASSIFIED
    kind: str = ""
    requirements: tuple[str, ...] = ()
    reason: str = ""

    @staticmethod
    def from_mutant(mutant: Mutant, **classes: Any) -> Entry:
        """A new entry for a surviving mutant."""
        return Entry(
            id=mutant.id,
            module=mutant.module,
            function=mutant.function,
            operator=mutant.operator,
            line=mutant.line,
            reached=mutant.reached,
            diff=tuple(mutant.diff),
            **classes,
        )

    def problems(self) -> list[str]:
        """What is missing or wrong in the entry's classification."""
        if self.cls == UNCLASSIFIED:
            return ["unclassified"]
        if self.cls not in CLASSES:
            return [f"class {self.cls!r} is not one of {', '.join(CLASSES)}"]
        out: list[str] = []
        if not self.reason.strip():
            out.append("no reason")
        if self.cls == EQUIVALENT and self.kind not in EQUIVALENT_KINDS:
            out.append(f"equivalent kind {self.kind!r} is not one of {', '.join(EQUIVALENT_KINDS)}")
        if self.cls == GAP and not self.requirements:
            out.append("a gap names no requirement")
        return out


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def read_entries(path: Path = SURVIVORS_FILE) -> list[Entry]:
    """The entries of a survivors file (none when it does not exist)."""
    if not path.exists():
        return []
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    out: list[Entry] = []
    for node in document.get("mutant", []):
        out.append(
            Entry(
                id=node["id"],
                module=node["module"],
                function=node["function"],
                operator=node["operator"],
                line=int(node["line"]),
                reached=node.get("reached"),
                diff=tuple(node["diff"]),
                cls=node.get("class", UNCLASSIFIED),
                kind=node.get("kind", ""),
                requirements=tuple(node.get("requirements", ())),
                reason=node.get("reason", ""),
            )
        )
    return out


def _sort_key(entry: Entry) -> tuple[int, int, str]:
    module = MODULES.index(entry.module) if entry.module in MODULES else len(MODULES)
    return (module, entry.line, entry.id)


def render_entries(entries: Iterable[Entry]) -> str:
    """survivors.toml's text: the header, then one [[mutant]] table per entry, in source order."""
    parts = [_HEADER]
    for entry in sorted(entries, key=_sort_key):
        lines = [
            "[[mutant]]",
            f"id = {_toml_string(entry.id)}",
            f"module = {_toml_string(entry.module)}",
            f"function = {_toml_string(entry.function)}",
            f"operator = {_toml_string(entry.operator)}",
            f"line = {entry.line}",
        ]
        if entry.reached is not None:
            lines.append(f"reached = {'true' if entry.reached else 'false'}")
        lines.append("diff = [" + ", ".join(_toml_string(d) for d in entry.diff) + "]")
        lines.append(f"class = {_toml_string(entry.cls)}")
        if entry.kind:
            lines.append(f"kind = {_toml_string(entry.kind)}")
        if entry.requirements:
            shown = ", ".join(_toml_string(r) for r in entry.requirements)
            lines.append(f"requirements = [{shown}]")
        lines.append(f"reason = {_toml_string(entry.reason)}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


@dataclass(slots=True)
class Merge:
    """What a run changed in the survivor list."""

    entries: list[Entry]
    new: list[Entry] = field(default_factory=list)
    gone: list[Entry] = field(default_factory=list)


def merge(
    old: Sequence[Entry],
    survivors: Sequence[Mutant],
    modules: Iterable[str],
    sources: Mapping[str, SourceMap],
) -> Merge:
    """The survivor list after a complete run of `modules`: classes carry over by id.

    Entries of modules the run did not cover stay as they are. A survivor the list does not
    know comes in classified by a rule, or unclassified; an entry whose mutant no longer
    survives (killed, or gone with the code) leaves the list.
    """
    covered = set(modules)
    known = {e.id: e for e in old}
    result = Merge(entries=[e for e in old if e.module not in covered])
    now = set()
    for mutant in survivors:
        now.add(mutant.id)
        previous = known.get(mutant.id)
        if previous is not None:
            result.entries.append(
                replace(previous, line=mutant.line, reached=mutant.reached, diff=tuple(mutant.diff))
            )
            continue
        ruled = rule_class(mutant, sources[mutant.module])
        if ruled is None:
            entry = Entry.from_mutant(mutant)
        else:
            cls, kind, reason = ruled
            entry = Entry.from_mutant(mutant, cls=cls, kind=kind, reason=reason)
        result.entries.append(entry)
        result.new.append(entry)
    result.gone = [e for e in old if e.module in covered and e.id not in now]
    return result


def class_counts(entries: Iterable[Entry]) -> dict[str, int]:
    """How one module's survivors are classified: equivalent (and by kind), gaps, unclassified."""
    listed = list(entries)
    kinds = Counter(e.kind for e in listed if e.cls == EQUIVALENT)
    counts = {
        "survived": len(listed),
        "equivalent": sum(kinds.values()),
        "gaps": sum(1 for e in listed if e.cls == GAP),
        "unclassified": sum(1 for e in listed if e.cls not in CLASSES),
    }
    counts.update({f"equivalent_{k}": kinds[k] for k in EQUIVALENT_KINDS if kinds[k]})
    return counts


def module_score(mutants: Sequence[Mutant], entries: Sequence[Entry]) -> dict[str, int]:
    """Counts for one module's mutants, classes taken from the survivor list."""
    outcomes = Counter(m.outcome for m in mutants)
    alive = {m.id for m in mutants if m.outcome == "survived"}
    listed = [e for e in entries if e.id in alive]
    assert len(listed) == len(alive), "every survivor has an entry after a merge"
    return {
        "mutants": sum(outcomes[o] for o in ("killed", "timeout", "survived")),
        "killed": outcomes["killed"] + outcomes["timeout"],
        "timeouts": outcomes["timeout"],
        "no_test": outcomes["no-test"],
        "unmade": outcomes["unmade"],
        "errors": outcomes["error"],
        **class_counts(listed),
    }


def rescore(score: Mapping[str, Any], entries: Sequence[Entry]) -> dict[str, Any]:
    """The score with its class counts taken again from the list (after classifying by hand).

    Mutant and kill counts stay as the last run measured them; a module whose number of
    entries differs from the survivors that run counted is an error (run it again).
    """
    modules: dict[str, Any] = {}
    for name, counts in score.get("modules", {}).items():
        fresh = class_counts(e for e in entries if e.module == name)
        if fresh["survived"] != counts["survived"]:
            msg = (
                f"{name}: the list has {fresh['survived']} entries, the last run counted "
                f"{counts['survived']} survivors; run `bash scripts/mutate.sh --module {name}`"
            )
            raise ValueError(msg)
        kept = {k: v for k, v in counts.items() if not k.startswith("equivalent_")}
        modules[name] = {**kept, **fresh}
    out = {**score, "modules": modules, "total": totals(modules)}
    out["markdown"] = render_markdown(out)
    return out


def percent(killed: int, mutants: int, equivalent: int) -> float:
    """The mutation score: killed over the mutants that are not equivalent, in percent."""
    relevant = mutants - equivalent
    return 100.0 if relevant <= 0 else round(100.0 * killed / relevant, 1)


def totals(modules: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The sums over modules, with the score."""
    keys = {k for counts in modules.values() for k, v in counts.items() if isinstance(v, int)}
    out: dict[str, Any] = {k: sum(int(c.get(k, 0)) for c in modules.values()) for k in keys}
    out = dict(sorted(out.items()))
    out["score"] = percent(out.get("killed", 0), out.get("mutants", 0), out.get("equivalent", 0))
    return out


def read_score(path: Path = SCORE_FILE) -> dict[str, Any]:
    """The committed score (empty when there is none yet)."""
    if not path.exists():
        return {}
    score: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return score


def write_score(score: Mapping[str, Any], path: Path = SCORE_FILE) -> None:
    """Write the score JSON (sorted keys, two-space indent, final newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(score, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def render_markdown(score: Mapping[str, Any]) -> str:
    """The score as a Markdown section (what the site shows)."""
    total = score.get("total", {})
    modules: Mapping[str, Mapping[str, Any]] = score.get("modules", {})
    command = score.get("command", "bash scripts/mutate.sh")
    relevant = total.get("mutants", 0) - total.get("equivalent", 0)
    unclassified = total.get("unclassified", 0)
    lines = [
        (
            f"Measured {score.get('date', '?')} with {score.get('tool', '?')} "
            f"{score.get('version', '?')} on the pure-Python reference "
            f"(`DASKWIRE_PURE_PYTHON=1`), commit {score.get('commit', '?')}, by `{command}`. "
            "The in-process vectors are the only killing suite."
        ),
        "",
        (
            f"**{total.get('killed', 0)} of {relevant} non-equivalent mutants killed "
            f"({total.get('score', 0)} %)**; {total.get('equivalent', 0)} survivors are "
            f"equivalent, {total.get('gaps', 0)} are gaps in the vectors"
            + (f", {unclassified} unclassified" if unclassified else "")
            + "."
        ),
        "",
        "| module | mutants | killed | equivalent | gaps | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, counts in modules.items():
        killed, mutants, equivalent = (
            counts.get(k, 0) for k in ("killed", "mutants", "equivalent")
        )
        path = name.replace(".", "/")
        lines.append(
            f"| `{path}.py` | {mutants} | {killed} | {equivalent} | {counts.get('gaps', 0)} "
            f"| {percent(killed, mutants, equivalent)} % |"
        )
    lines.append(
        f"| **all** | {total.get('mutants', 0)} | {total.get('killed', 0)} "
        f"| {total.get('equivalent', 0)} | {total.get('gaps', 0)} | {total.get('score', 0)} % |"
    )
    kinds = [
        f"{total[f'equivalent_{k}']} {k}" for k in EQUIVALENT_KINDS if total.get(f"equivalent_{k}")
    ]
    if kinds:
        lines += ["", "Equivalent survivors by kind: " + ", ".join(kinds) + "."]
    return "\n".join(lines) + "\n"
