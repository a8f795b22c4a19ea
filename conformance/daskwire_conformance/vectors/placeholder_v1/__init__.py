"""placeholder-v1's vector builder: its case sources in, golden vectors out, by the reference."""

from __future__ import annotations

from typing import Final

from daskwire_conformance.vectors.generate.outcome import BuiltSuite
from daskwire_conformance.vectors.generate.sources import CaseError, Sources

from .build import Builder
from .derive import derive

__all__ = ["PROFILE", "build"]

#: The profile whose cases this package builds (the case sources' `profile`).
PROFILE: Final = "placeholder-v1"


def build(sources: Sources, levels: dict[str, str]) -> BuiltSuite:
    """Every vector of the cases and derivation rules, checked against the reference codec."""
    builder = Builder(sources.cases, levels)
    builder.build_cases()
    for rule in sources.rules:
        for spec in derive(rule, builder):
            builder.add(spec)
    if builder.problems:
        raise CaseError("\n".join(builder.problems))
    return BuiltSuite(
        vectors={vid: b.vector for vid, b in sorted(builder.built.items())},
        disagreements=tuple(builder.disagreements),
    )
