"""Requirement levels for vectors: a vector's level is the strongest among its requirements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from daskwire_conformance.common.requirements import LEVELS, load_requirements

__all__ = ["UnknownRequirementError", "requirement_levels", "strongest_level"]

_RANK: Final = {level: rank for rank, level in enumerate(LEVELS)}


class UnknownRequirementError(ValueError):
    """A case cites a requirement ID that the spec does not define."""


def requirement_levels(spec_dir: Path | None = None) -> dict[str, str]:
    """Every requirement ID of the spec with its level."""
    return {rid: req.level for rid, req in load_requirements(spec_dir).items()}


def strongest_level(requirements: Iterable[str], levels: Mapping[str, str], where: str) -> str:
    """The strongest level among the cited requirements (required > recommended > optional)."""
    best: str | None = None
    for rid in requirements:
        if rid not in levels:
            msg = f"{where}: requirement {rid} is not defined in the spec"
            raise UnknownRequirementError(msg)
        level = levels[rid]
        if best is None or _RANK[level] < _RANK[best]:
            best = level
    if best is None:
        msg = f"{where}: cites no requirement"
        raise UnknownRequirementError(msg)
    return best
