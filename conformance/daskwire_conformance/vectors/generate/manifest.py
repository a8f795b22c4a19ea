"""Vector file rendering, per-vector fingerprints, and the manifest with its changelog."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from daskwire import SPEC_VERSION

__all__ = [
    "build_manifest",
    "changelog_problems",
    "dump_json",
    "fingerprint",
    "render_files",
    "replay",
]

_GENERATOR: Final = "daskwire vectors generate"


def dump_json(document: Any) -> str:
    """The one JSON formatting every generated file uses: stable, sorted, UTF-8, newline."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def fingerprint(vector: Mapping[str, Any]) -> str:
    """sha256 of a vector's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(vector, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_files(
    vectors: Mapping[str, Mapping[str, Any]], suite_version: str, *, profile: str
) -> dict[str, str]:
    """The text of every <group>/<area>.json file of a suite folder, by relative path."""
    by_file: dict[str, list[Mapping[str, Any]]] = {}
    for vid in sorted(vectors):
        group, area = vid.split("/")[:2]
        by_file.setdefault(f"{group}/{area}.json", []).append(vectors[vid])
    return {
        path: dump_json(
            {
                "profile": profile,
                "spec_version": SPEC_VERSION,
                "suite_version": suite_version,
                "vectors": items,
            }
        )
        for path, items in sorted(by_file.items())
    }


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def replay(changelog: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The id -> fingerprint state that a changelog describes, applied in order."""
    state: dict[str, str] = {}
    for entry in changelog:
        state.update(entry.get("added", {}))
        state.update(entry.get("changed", {}))
        for vid in entry.get("removed", []):
            state.pop(vid, None)
    return state


def _diff(base: Mapping[str, str], now: Mapping[str, str], version: str) -> dict[str, Any]:
    return {
        "version": version,
        "added": {k: now[k] for k in sorted(now) if k not in base},
        "changed": {k: now[k] for k in sorted(now) if k in base and base[k] != now[k]},
        "removed": sorted(k for k in base if k not in now),
    }


def build_manifest(
    files: Mapping[str, str],
    vectors: Mapping[str, Mapping[str, Any]],
    suite_version: str,
    previous: Mapping[str, Any] | None,
    *,
    profile: str,
    released: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The manifest: versions, file hashes, vector fingerprints and the changelog.

    The changelog has one entry per suite version with the ids added, changed (with their new
    fingerprints) and removed relative to the state of the versions before it. Regenerating
    under the same suite version rewrites that version's entry; a new suite version appends
    an entry. The entry of a released version may not change: that needs a new version.
    """
    fingerprints = {vid: fingerprint(vectors[vid]) for vid in sorted(vectors)}
    old_log: list[Mapping[str, Any]] = list((previous or {}).get("changelog", []))
    earlier = [e for e in old_log if e["version"] != suite_version]
    newer = [
        e["version"] for e in earlier if _version_key(e["version"]) > _version_key(suite_version)
    ]
    if newer:
        msg = f"suite version {suite_version} is older than the recorded {', '.join(newer)}"
        raise ValueError(msg)
    entry = _diff(replay(earlier), fingerprints, suite_version)
    recorded = [e for e in old_log if e["version"] == suite_version]
    if suite_version in released and recorded and dict(recorded[0]) != entry:
        msg = (
            f"suite version {suite_version} is released and its vectors changed;"
            " set a new suite_version in cases/suite.yaml"
        )
        raise ValueError(msg)
    changelog = list(earlier)
    if entry["added"] or entry["changed"] or entry["removed"] or not earlier:
        changelog.append(entry)
    return {
        "profile": profile,
        "spec_version": SPEC_VERSION,
        "suite_version": suite_version,
        "generator": _GENERATOR,
        "files": {
            path: {
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "vectors": len(json.loads(text)["vectors"]),
            }
            for path, text in sorted(files.items())
        },
        "vectors": fingerprints,
        "changelog": changelog,
    }


def changelog_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Where the manifest's changelog does not describe its vectors exactly."""
    problems: list[str] = []
    log = manifest.get("changelog", [])
    versions = [e.get("version", "?") for e in log]
    if versions != sorted(versions, key=_version_key) or len(set(versions)) != len(versions):
        problems.append(f"changelog versions are not ascending and unique: {versions}")
    if not log or log[-1].get("version") != manifest.get("suite_version"):
        problems.append("the changelog has no entry for the current suite version")
    state = replay(log)
    now: Mapping[str, str] = manifest.get("vectors", {})
    for vid in sorted(set(state) | set(now)):
        if vid not in state:
            problems.append(f"{vid}: present but never recorded as added")
        elif vid not in now:
            problems.append(f"{vid}: recorded but absent (not recorded as removed)")
        elif state[vid] != now[vid]:
            problems.append(f"{vid}: changed without a changelog record")
    return problems
