"""Vector generation for every profile: case sources in, files and manifest out, drift checks.

The vectors themselves come from the profile's builder, the package
`daskwire_conformance.vectors.<profile>` (`-` as `_`), found by the profile's registry name.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from daskwire_conformance.common.suite import GROUPS, MANIFEST_NAME, validate_document

from .levels import requirement_levels
from .manifest import build_manifest, changelog_problems, dump_json, fingerprint, render_files
from .outcome import BuiltSuite, Disagreement, GenerationError
from .sources import CaseError, load_sources

__all__ = [
    "CASES_DIR",
    "CaseError",
    "Disagreement",
    "Generated",
    "GenerationError",
    "check",
    "generate",
    "write",
]

#: The folder of case sources inside the vectors folder.
CASES_DIR: Final = "cases"
#: How many diff lines `check` prints per drifted file.
DIFF_LINES: Final = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class Generated:
    """The full output of one generation run, held in memory."""

    suite_version: str
    #: Relative path -> file text, the manifest included.
    files: dict[str, str]
    vectors: dict[str, dict[str, Any]]
    disagreements: tuple[Disagreement, ...]


def _previous_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST_NAME
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


#: A profile's `build(sources, levels)`: every vector of its cases, checked by the reference.
BuildSuite = Callable[[Any, dict[str, str]], BuiltSuite]


def _builder(profile: str, root: Path) -> BuildSuite:
    """The `build` function of a profile's vector builder package."""
    from daskwire import PROFILES
    from daskwire.profile import package_name

    if profile not in PROFILES:
        msg = f"the cases in {root / CASES_DIR} test profile {profile}, which the registry lacks"
        raise CaseError(msg)
    # The name comes from the reference's registry, never from input.
    package = f"daskwire_conformance.vectors.{package_name(profile)}"
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name != package:
            raise
        msg = f"the kit has no vector builder for profile {profile} ({package})"
        raise CaseError(msg) from exc
    build: BuildSuite = module.build
    return build


def generate(root: Path, *, spec_dir: Path | None = None) -> Generated:
    """Build every vector from root/cases with the reference codec, in memory."""
    sources = load_sources(root / CASES_DIR)
    built = _builder(sources.profile, root)(sources, requirement_levels(spec_dir))
    vectors = built.vectors
    files = render_files(vectors, sources.suite_version, profile=sources.profile)
    manifest = build_manifest(
        files,
        vectors,
        sources.suite_version,
        _previous_manifest(root),
        profile=sources.profile,
        released=sources.released,
    )
    files[MANIFEST_NAME] = dump_json(manifest)
    return Generated(
        suite_version=sources.suite_version,
        files=files,
        vectors=vectors,
        disagreements=built.disagreements,
    )


def _existing(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in GROUPS:
        for path in sorted((root / group).glob("*.json")):
            out[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    manifest = root / MANIFEST_NAME
    if manifest.is_file():
        out[MANIFEST_NAME] = manifest.read_text(encoding="utf-8")
    return out


def write(root: Path, generated: Generated) -> list[str]:
    """Write the generated files, remove stale vector files; returns the paths that changed."""
    changed: list[str] = []
    existing = _existing(root)
    for rel, text in sorted(generated.files.items()):
        if existing.get(rel) != text:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            changed.append(rel)
    for rel in sorted(set(existing) - set(generated.files)):
        (root / rel).unlink()
        changed.append(rel)
    return changed


def _ids(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return {v["id"]: fingerprint(v) for v in document.get("vectors", []) if "id" in v}


def _drift(rel: str, committed: str | None, fresh: str | None) -> list[str]:
    """A summary of how one file drifted: which ids changed, then a short unified diff."""
    lines: list[str] = []
    if committed is None:
        lines.append(f"{rel}: missing (generate would create it)")
    elif fresh is None:
        lines.append(f"{rel}: not produced by the case sources (stale)")
    else:
        lines.append(f"{rel}: differs from a fresh generation")
    if rel != MANIFEST_NAME:
        old, new = _ids(committed), _ids(fresh)
        for label, ids in (
            ("added", sorted(set(new) - set(old))),
            ("removed", sorted(set(old) - set(new))),
            ("changed", sorted(k for k in set(old) & set(new) if old[k] != new[k])),
        ):
            if ids:
                shown = ", ".join(ids[:10]) + (
                    f", ... ({len(ids)} in all)" if len(ids) > 10 else ""
                )
                lines.append(f"  {label}: {shown}")
    diff = list(
        difflib.unified_diff(
            (committed or "").splitlines(),
            (fresh or "").splitlines(),
            f"committed/{rel}",
            f"generated/{rel}",
            lineterm="",
            n=1,
        )
    )
    lines.extend("  " + d for d in diff[:DIFF_LINES])
    if len(diff) > DIFF_LINES:
        lines.append(f"  ... {len(diff) - DIFF_LINES} more diff lines")
    return lines


def check(
    root: Path, *, spec_dir: Path | None = None, generated: Generated | None = None
) -> list[str]:
    """Every problem with the committed vectors: drift, schema, manifest hashes, changelog."""
    problems: list[str] = []
    fresh = generate(root, spec_dir=spec_dir) if generated is None else generated
    committed = _existing(root)
    for rel in sorted(set(committed) | set(fresh.files)):
        if committed.get(rel) != fresh.files.get(rel):
            problems.extend(_drift(rel, committed.get(rel), fresh.files.get(rel)))
    for rel, text in sorted(committed.items()):
        if rel == MANIFEST_NAME:
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"{rel}: not JSON: {exc}")
            continue
        problems.extend(f"{rel}: schema: {e}" for e in validate_document(document))
    if MANIFEST_NAME not in committed:
        problems.append(f"{MANIFEST_NAME}: missing")
        return problems
    manifest = json.loads(committed[MANIFEST_NAME])
    listed = manifest.get("files", {})
    for rel in sorted(set(listed) | (set(committed) - {MANIFEST_NAME})):
        found = committed.get(rel)
        if found is None:
            problems.append(f"{MANIFEST_NAME}: lists {rel}, which does not exist")
        elif rel not in listed:
            problems.append(f"{MANIFEST_NAME}: does not list {rel}")
        elif hashlib.sha256(found.encode("utf-8")).hexdigest() != listed[rel].get("sha256"):
            problems.append(f"{MANIFEST_NAME}: sha256 of {rel} does not match")
    on_disk: dict[str, str] = {}
    for rel, text in committed.items():
        if rel != MANIFEST_NAME:
            on_disk.update(_ids(text))
    if on_disk != manifest.get("vectors"):
        problems.append(f"{MANIFEST_NAME}: vector fingerprints do not match the vector files")
    problems.extend(f"{MANIFEST_NAME}: {p}" for p in changelog_problems(manifest))
    return problems
