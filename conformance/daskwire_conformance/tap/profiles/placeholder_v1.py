"""placeholder-v1: frame 1 is the payload; frames 2 and on are the offload area."""

from __future__ import annotations


def kept_frames(frame0: bytes) -> frozenset[int] | None:
    """The payload frame, whatever frame 0 holds."""
    return frozenset({1})
