"""Expected-failure baselines: read, write, and compare strictly both ways with a run's results."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "BASELINE_FORMAT",
    "Baseline",
    "BaselineError",
    "BaselineVerdict",
    "compare",
    "load_baseline",
    "write_baseline",
]

#: The `format` value of a JSON baseline file.
BASELINE_FORMAT: Final = "daskwire-baseline/1"
#: Written as the first lines of a text baseline.
TEXT_HEADER: Final = (
    "# daskwire baseline: vectors this implementation is known not to pass.\n"
    "# One per line: VECTOR-ID  SIGNATURE  [# note]. Regenerate with --update-baseline.\n"
)


class BaselineError(ValueError):
    """A baseline file cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """Vector id -> expected signature (None: any non-pass) and an optional note."""

    entries: Mapping[str, str | None]
    notes: Mapping[str, str]
    path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineVerdict:
    """How a run's results relate to a baseline."""

    #: Ids whose non-pass matches their entry.
    matched: frozenset[str]
    #: Ids listed in the baseline that passed.
    unexpected_passes: tuple[str, ...]
    #: (id, expected signature, actual signature) where both are non-pass but differ.
    changed: tuple[tuple[str, str, str], ...]
    #: Entries naming no vector of the suite at all.
    stale: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """True when the baseline holds exactly."""
        return not (self.unexpected_passes or self.changed or self.stale)


def _parse_text(text: str, path: str) -> Baseline:
    entries: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line, _, note = raw.partition("#")
        fields = line.split()
        if not fields:
            continue
        if len(fields) > 2:
            msg = f"{path}:{number}: expected `ID [SIGNATURE]`, got {raw.strip()!r}"
            raise BaselineError(msg)
        vector_id = fields[0]
        if vector_id in entries:
            msg = f"{path}:{number}: {vector_id} is listed twice"
            raise BaselineError(msg)
        entries[vector_id] = fields[1] if len(fields) == 2 else None
        if note.strip():
            notes[vector_id] = note.strip()
    return Baseline(entries=entries, notes=notes, path=path)


def _parse_json(text: str, path: str) -> Baseline:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        msg = f"{path}: not JSON: {exc}"
        raise BaselineError(msg) from exc
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT:
        msg = f"{path}: a JSON baseline is an object with format {BASELINE_FORMAT!r}"
        raise BaselineError(msg)
    entries: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for item in doc.get("entries", []):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            msg = f"{path}: every entry is an object with a string `id`"
            raise BaselineError(msg)
        signature = item.get("signature")
        if signature is not None and not isinstance(signature, str):
            msg = f"{path}: {item['id']}: `signature` must be a string"
            raise BaselineError(msg)
        if item["id"] in entries:
            msg = f"{path}: {item['id']} is listed twice"
            raise BaselineError(msg)
        entries[item["id"]] = signature
        if isinstance(item.get("note"), str):
            notes[item["id"]] = item["note"]
    return Baseline(entries=entries, notes=notes, path=path)


def load_baseline(path: Path) -> Baseline:
    """Read a baseline: JSON when the name ends in `.json`, the line format otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read baseline {path}: {exc}"
        raise BaselineError(msg) from exc
    if path.suffix == ".json":
        return _parse_json(text, str(path))
    return _parse_text(text, str(path))


def write_baseline(
    path: Path, failing: Iterable[tuple[str, str]], *, notes: Mapping[str, str] | None = None
) -> None:
    """Write (id, signature) pairs as a baseline, sorted by id, keeping existing notes."""
    notes = notes or {}
    items = sorted(failing)
    if path.suffix == ".json":
        doc = {
            "format": BASELINE_FORMAT,
            "entries": [
                {"id": i, "signature": s, **({"note": notes[i]} if i in notes else {})}
                for i, s in items
            ],
        }
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return
    width = max((len(i) for i, _ in items), default=0)
    lines = [f"{i:<{width}}  {s}" + (f"  # {notes[i]}" if i in notes else "") for i, s in items]
    path.write_text(TEXT_HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")


def compare(
    baseline: Baseline,
    signatures: Mapping[str, str],
    all_ids: Sequence[str],
) -> BaselineVerdict:
    """Compare a run's signatures (id -> `passed` or a non-pass signature) with a baseline.

    `all_ids` is every vector id in the suite: an entry for a vector that exists but was not
    selected this run is neither matched nor stale.
    """
    known = set(all_ids)
    matched: set[str] = set()
    unexpected: list[str] = []
    changed: list[tuple[str, str, str]] = []
    stale: list[str] = []
    for vector_id, want in sorted(baseline.entries.items()):
        if vector_id not in known:
            stale.append(vector_id)
            continue
        got = signatures.get(vector_id)
        if got is None:
            continue
        if got == "passed":
            unexpected.append(vector_id)
        elif want is None or want == got:
            matched.add(vector_id)
        else:
            changed.append((vector_id, want, got))
    return BaselineVerdict(
        matched=frozenset(matched),
        unexpected_passes=tuple(unexpected),
        changed=tuple(changed),
        stale=tuple(stale),
    )
