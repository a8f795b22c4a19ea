"""Expected-failure baselines: read, write, and compare strictly both ways with a run's results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "BASELINE_FORMAT",
    "MODES",
    "REASONS",
    "Baseline",
    "BaselineError",
    "BaselineVerdict",
    "compare",
    "load_baseline",
    "signature_problem",
    "write_baseline",
]

#: The `format` value of a JSON baseline file.
BASELINE_FORMAT: Final = "daskwire-baseline/1"
#: The receiver modes a decode vector's signature starts with.
MODES: Final = ("forwarding", "consuming")
#: The reasons of a non-pass (spec/harness.md, Verdicts), and the outcomes a check without one
#: falls back to.
REASONS: Final = (
    "mismatch",
    "accepted-invalid",
    "wrong-category",
    "rejected-valid",
    "invalid-output",
    "skipped",
    "testee-errored",
    "timeout",
    "crash",
    "garbage",
    "wrong-seq",
    "oversize",
    "protocol",
    "runner-error",
    "failed",
    "errored",
)
#: The reasons whose signature ends with the category the testee reported.
REASONS_WITH_CATEGORY: Final = ("wrong-category", "rejected-valid")
#: Characters no signature holds: the text format splits fields on spaces and notes on `#`.
_UNWRITABLE: Final = re.compile(r"[\s#]")
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


def signature_problem(signature: str) -> str | None:
    """What keeps a text from being a signature, `[MODE:]REASON[:CATEGORY]`; None if it is one."""
    if not signature or _UNWRITABLE.search(signature):
        return "a signature is one word without spaces or `#`"
    mode, _, rest = signature.partition(":")
    if mode not in MODES:
        rest = signature
    reason, colon, category = rest.partition(":")
    if reason not in REASONS:
        return f"the reason is one of {', '.join(REASONS)}"
    if colon and reason not in REASONS_WITH_CATEGORY:
        return f"only {' and '.join(REASONS_WITH_CATEGORY)} end with a category"
    if colon and not category:
        return "the category after the last `:` is empty"
    return None


def _checked(signature: str, where: str, vector_id: str) -> str:
    problem = signature_problem(signature)
    if problem is not None:
        msg = (
            f"{where}: {vector_id}: {signature!r} is not a signature "
            f"`[MODE:]REASON[:CATEGORY]` ({problem})"
        )
        raise BaselineError(msg)
    return signature


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
        where = f"{path}:{number}"
        entries[vector_id] = _checked(fields[1], where, vector_id) if len(fields) == 2 else None
        if note.strip():
            notes[vector_id] = note.strip()
    return Baseline(entries=entries, notes=notes, path=path)


def _parse_json(text: str, path: str) -> Baseline:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        msg = f"{path}: not JSON: {exc}"
        raise BaselineError(msg) from exc
    except RecursionError as exc:
        msg = f"{path}: not a baseline: JSON nested too deeply to read"
        raise BaselineError(msg) from exc
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT:
        msg = f"{path}: a JSON baseline is an object with format {BASELINE_FORMAT!r}"
        raise BaselineError(msg)
    items = doc.get("entries", [])
    if not isinstance(items, list):
        msg = f"{path}: `entries` is a list of objects"
        raise BaselineError(msg)
    entries: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            msg = f"{path}: every entry is an object with a string `id`"
            raise BaselineError(msg)
        vector_id: str = item["id"]
        signature = item.get("signature")
        if signature is not None and not isinstance(signature, str):
            msg = f"{path}: {vector_id}: `signature` must be a string"
            raise BaselineError(msg)
        note = item.get("note")
        if note is not None and not isinstance(note, str):
            msg = f"{path}: {vector_id}: `note` must be a string"
            raise BaselineError(msg)
        if vector_id in entries:
            msg = f"{path}: {vector_id} is listed twice"
            raise BaselineError(msg)
        entries[vector_id] = None if signature is None else _checked(signature, path, vector_id)
        if note is not None:
            notes[vector_id] = note
    return Baseline(entries=entries, notes=notes, path=path)


def load_baseline(path: Path) -> Baseline:
    """Read a baseline: JSON when the name ends in `.json`, the line format otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read baseline {path}: {exc.strerror or exc}"
        raise BaselineError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"baseline {path} is not UTF-8 text (byte {exc.start}: {exc.reason})"
        raise BaselineError(msg) from exc
    if path.suffix == ".json":
        return _parse_json(text, str(path))
    return _parse_text(text, str(path))


def _writable(
    failing: Iterable[tuple[str, str]], notes: Mapping[str, str]
) -> tuple[list[tuple[str, str | None]], dict[str, str]]:
    """Sorted entries and one-line notes; an unwritable signature becomes "any non-pass".

    A testee can report a category that no baseline can hold (one with spaces, say): its
    entry accepts any non-pass, and its note names the signature.
    """
    items: list[tuple[str, str | None]] = []
    kept = {i: " ".join(n.split()) for i, n in notes.items()}
    for vector_id, signature in sorted(failing):
        if signature_problem(signature) is None:
            items.append((vector_id, signature))
            continue
        items.append((vector_id, None))
        text = f"signature {' '.join(signature.split())!r} cannot be written here"
        kept[vector_id] = f"{kept[vector_id]}; {text}" if kept.get(vector_id) else text
    return items, kept


def write_baseline(
    path: Path, failing: Iterable[tuple[str, str]], *, notes: Mapping[str, str] | None = None
) -> None:
    """Write (id, signature) pairs as a baseline, sorted by id, keeping existing notes."""
    items, notes = _writable(failing, notes or {})
    if path.suffix == ".json":
        doc = {
            "format": BASELINE_FORMAT,
            "entries": [
                {
                    "id": i,
                    **({"signature": s} if s is not None else {}),
                    **({"note": notes[i]} if i in notes else {}),
                }
                for i, s in items
            ],
        }
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return
    width = max((len(i) for i, _ in items), default=0)
    lines = [
        f"{i:<{width}}  {s or ''}".rstrip() + (f"  # {notes[i]}" if i in notes else "")
        for i, s in items
    ]
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
