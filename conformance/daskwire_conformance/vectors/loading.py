"""The folders `daskwire vectors` reads, checked up front, with one clear message per problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daskwire_conformance.common.suite import GROUPS, Vector, iter_vector_files

__all__ = [
    "UsageError",
    "check_cases_root",
    "explain_cases",
    "known_requirements",
    "load_suite",
]


class UsageError(ValueError):
    """A folder or option names nothing usable; the command says why and exits 2."""


def _folder(root: Path) -> None:
    if not root.is_dir():
        msg = f"no vectors folder at {root}"
        raise UsageError(msg)


def _vectors_of(path: Path, rel: str) -> list[Vector]:
    try:
        document: Any = json.loads(path.read_bytes().decode("utf-8"))
        return [Vector.from_json(node, rel) for node in document["vectors"]]
    except OSError as exc:
        problem = f"cannot read it: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 (byte {exc.start}: {exc.reason})"
    except RecursionError:
        problem = "not JSON: nested too deeply to read"
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    except (KeyError, TypeError, AttributeError) as exc:
        problem = f"not a vector file (vector.schema.json): {type(exc).__name__}: {exc}"
    msg = f"{rel}: {problem}"
    raise UsageError(msg)


def load_suite(root: Path) -> list[Vector]:
    """Every vector under root, sorted by id; UsageError for a folder that holds none."""
    _folder(root)
    files = list(iter_vector_files(root))
    if not files:
        msg = f"no vector files in {root} (expected {{{','.join(GROUPS)}}}/*.json)"
        raise UsageError(msg)
    vectors: list[Vector] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            vectors.extend(_vectors_of(path, rel))
        except UsageError as exc:
            msg = f"cannot load vectors from {root}: {exc}"
            raise UsageError(msg) from exc
    vectors.sort(key=lambda v: v.id)
    return vectors


def known_requirements(vectors: list[Vector]) -> set[str]:
    """The requirement IDs of the spec, and any the vectors cite."""
    from daskwire_conformance.common.requirements import SpecError, load_requirements

    cited = {rid for v in vectors for rid in v.requirements}
    try:
        return cited | set(load_requirements())
    except (OSError, ValueError, SpecError):  # no readable spec: the vectors are all we know
        return cited


def check_cases_root(root: Path) -> None:
    """Raise UsageError unless root is a folder with case sources (cases/suite.yaml)."""
    from daskwire_conformance.vectors.generate import CASES_DIR

    _folder(root)
    if not (root / CASES_DIR / "suite.yaml").is_file():
        msg = f"no case sources in {root / CASES_DIR} (it needs suite.yaml and the case files)"
        raise UsageError(msg)


def explain_cases(root: Path, exc: Exception) -> str:
    """Name the case file behind a read or YAML error that does not name one itself."""
    import yaml

    from daskwire_conformance.vectors.generate import CASES_DIR

    for path in sorted((root / CASES_DIR).glob("*.yaml")):
        rel = f"{CASES_DIR}/{path.name}"
        try:
            yaml.safe_load(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as bad:
            return f"{rel}: not UTF-8 (byte {bad.start}: {bad.reason})"
        except yaml.YAMLError as bad:
            return f"{rel}: not YAML: {' '.join(str(bad).split())}"
        except OSError as bad:
            return f"{rel}: cannot read it: {bad.strerror or bad}"
    return f"{type(exc).__name__}: {exc}"
