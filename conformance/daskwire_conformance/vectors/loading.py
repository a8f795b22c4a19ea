"""The folders `daskwire vectors` reads, checked up front, with one clear message per problem."""

from __future__ import annotations

from pathlib import Path

from daskwire_conformance.common.suite import Vector

__all__ = [
    "UsageError",
    "check_cases_root",
    "explain_cases",
    "known_requirements",
]


class UsageError(ValueError):
    """A folder or option names nothing usable; the command says why and exits 2."""


def _folder(root: Path) -> None:
    if not root.is_dir():
        msg = f"no vectors folder at {root}"
        raise UsageError(msg)


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
