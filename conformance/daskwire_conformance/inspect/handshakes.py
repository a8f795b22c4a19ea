"""A recorded connection's two comm handshakes, compared: what the peers agree, what differs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from daskwire.limits import DEFAULT_LIMITS, Limits

from daskwire_conformance.inspect.records import ConnectionReport
from daskwire_conformance.traffic.handshakes import agreed, compare
from daskwire_conformance.traffic.summary import HandshakeSummary

__all__ = ["Shake", "compare_connection"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shake:
    """One side's handshake: what it proposed, its frames, and the profile read."""

    summary: HandshakeSummary
    frames: tuple[bytes, ...]
    profile: str


def compare_connection(
    connection: int, shakes: Mapping[str, Shake], limits: Limits = DEFAULT_LIMITS
) -> ConnectionReport | None:
    """Both handshakes of a connection, what the client agrees from the upstream's frames
    (the profile's own agreement, DK-5), and the shared comparison's warnings
    (`traffic.handshakes.compare`: Pythons by major.minor)."""
    c2s, s2c = shakes.get("c2s"), shakes.get("s2c")
    if c2s is None or s2c is None:
        return None
    options = agreed(c2s.profile, c2s.summary, s2c.frames, limits)
    if options is None:
        return None
    return ConnectionReport(
        connection=connection,
        c2s=c2s.summary,
        s2c=s2c.summary,
        compression=options.compression,
        pickle_protocol=options.pickle_protocol,
        warnings=tuple(w.text for w in compare(c2s.summary, s2c.summary)),
    )
