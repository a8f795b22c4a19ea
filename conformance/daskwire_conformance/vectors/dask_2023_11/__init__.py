"""dask-2023.11's vector builder: its case sources in, golden vectors out, by the reference."""

from __future__ import annotations

from typing import Final

from daskwire import get_profile

from daskwire_conformance.runner.profiles import checks_for
from daskwire_conformance.vectors.generate.builder import Builder
from daskwire_conformance.vectors.generate.kit import ProfileKit
from daskwire_conformance.vectors.generate.outcome import BuiltSuite
from daskwire_conformance.vectors.generate.sources import CaseError, Sources

from .mutations import apply_frame_ops, apply_wire_ops, pack_wire, prelude_size
from .oracle import consumed_form

__all__ = ["KIT", "PROFILE", "build"]

#: The profile whose cases this package builds (the case sources' `profile`).
PROFILE: Final = "dask-2023.11"

#: What the shared builder needs from this profile.
KIT: Final = ProfileKit(
    profile=get_profile(PROFILE),
    pack_wire=pack_wire,
    prelude_size=prelude_size,
    frame_ops=apply_frame_ops,
    wire_ops=apply_wire_ops,
    consumed_form=consumed_form,
    own_handshake=checks_for(PROFILE).own_handshake,
)


def build(sources: Sources, levels: dict[str, str]) -> BuiltSuite:
    """Every vector of the cases, checked against the reference codec."""
    if sources.rules:
        msg = "dask-2023.11 has no derivation rules; write its cases out"
        raise CaseError(msg)
    builder = Builder(sources.cases, levels, KIT)
    builder.build_cases()
    if builder.problems:
        raise CaseError("\n".join(builder.problems))
    return BuiltSuite(
        vectors={vid: b.vector for vid, b in sorted(builder.built.items())},
        disagreements=tuple(builder.disagreements),
    )
