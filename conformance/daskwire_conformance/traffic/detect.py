"""Which profile a byte stream speaks, decided from its first message, with the reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits

from daskwire_conformance.common.words import counted
from daskwire_conformance.traffic.stream import U64

__all__ = ["PROBE_BYTES", "Detection", "detect_frames", "detect_profile"]

#: How many leading bytes detection looks at: enough for a first message of that size.
PROBE_BYTES: Final = 1 << 20
#: The profile a stream is taken to speak when its first bytes fit both or neither: the
#: one every running Dask cluster speaks.
FALLBACK: Final = "dask-2023.11"


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """The profile a stream was found to speak, and why, in the spec's words."""

    profile: str
    reason: str
    #: False when the first message fits no profile, or more than one equally.
    sure: bool


def _first_message_fits(name: str, head: bytes, limits: Limits) -> tuple[str, bool] | None:
    """Why the first message of `head` is one of profile `name`, and whether that message
    was whole (its framing held and its frames decode) or only its prelude was read; None
    when it cannot be one."""
    profile = daskwire.get_profile(name)
    reader = profile.stream_reader(limits)
    try:
        messages = reader.feed(head)
    except daskwire.DaskwireError:
        return None
    if not messages:
        return (f"its prelude reads as {name}; the message is longer than {len(head)} bytes", False)
    frames = messages[0]
    try:
        profile.decode(frames, mode="forwarding", limits=limits)
    except daskwire.DaskwireError:
        return None
    size = counted(len(frames), "frame")
    return (f"its first message reads as {name} and decodes ({size})", True)


def detect_profile(head: bytes, limits: Limits = DEFAULT_LIMITS) -> Detection:
    """The profile of a stream whose first bytes are `head` (up to `PROBE_BYTES`), read
    with the user's `limits` (a first message beyond one fits no profile).

    dask-2023.11 starts with a read hint on a frame boundary before the frame count
    (DT-1); placeholder-v1 starts with the frame count, at least 2 (WF-1, WF-2). Each
    profile's own reader and decoder try the first message; one that fits decides.
    """
    head = bytes(head[:PROBE_BYTES])
    if len(head) < 2 * U64.size:
        return Detection(
            profile=FALLBACK, reason=f"only {len(head)} bytes: too few to tell", sure=False
        )
    first = U64.unpack_from(head)[0]
    found = {
        name: fit for name in daskwire.PROFILES if (fit := _first_message_fits(name, head, limits))
    }
    # a whole first message that decodes outweighs a prelude whose message did not end
    whole = {name: why for name, (why, complete) in found.items() if complete}
    fits = whole or {name: why for name, (why, _) in found.items()}
    if len(fits) == 1:
        ((name, why),) = fits.items()
        return Detection(profile=name, reason=f"{why} (first u64: {first})", sure=True)
    if fits:
        return Detection(
            profile=FALLBACK,
            reason=f"the first message reads as {' and as '.join(fits)}; taking {FALLBACK}",
            sure=False,
        )
    return Detection(
        profile=FALLBACK,
        reason=f"the first message reads as no profile (first u64: {first}); "
        f"reading it as {FALLBACK}, whose errors follow",
        sure=False,
    )


def detect_frames(
    frames: Sequence[bytes | memoryview], limits: Limits = DEFAULT_LIMITS
) -> Detection:
    """The profile of one message given as its frames (no wire prelude to go by): the
    profile whose decoder reads them with `limits`; when both or neither do, `FALLBACK`."""
    fits = []
    for name in daskwire.PROFILES:
        try:
            daskwire.get_profile(name).decode(list(frames), mode="forwarding", limits=limits)
        except daskwire.DaskwireError:
            continue
        fits.append(name)
    size = counted(len(frames), "frame")
    if len(fits) == 1:
        reason = f"the message ({size}) decodes as {fits[0]} only"
        return Detection(profile=fits[0], reason=reason, sure=True)
    if fits:
        return Detection(
            profile=FALLBACK,
            reason=f"the message ({size}) decodes as {' and as '.join(fits)}; taking {FALLBACK}",
            sure=False,
        )
    return Detection(
        profile=FALLBACK,
        reason=f"its {size} decode as no profile; reading them as {FALLBACK}, whose errors follow",
        sure=False,
    )
