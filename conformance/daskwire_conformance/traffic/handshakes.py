"""A connection's two comm handshakes compared, once for every tool: what the peers agree and
what differs in a way that breaks clusters. Profile-neutral: the agreement is the profile's
own, found in the registry (`daskwire.get_profile(name).handshake`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.profile import ConnectionOptions

from daskwire_conformance.traffic.summary import HandshakeSummary

__all__ = ["PYTHON_CHARS", "HandshakeWarning", "agreed", "compare", "python_text", "same_python"]

#: Characters of a `python` entry that is no version shown before it is cut.
PYTHON_CHARS: Final = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeWarning:
    """One way the two sides' proposals differ that breaks clusters, in plain words."""

    #: What differs: `compression`, `pickle-protocol` or `python`.
    kind: str
    #: The sentence, naming the sides "client" and "upstream"; no prefix, no newline.
    text: str


def python_text(value: Any) -> str:
    """A handshake's `python` entry (informative only, DK-3): `3.11.7` for a list of
    non-negative integers, `not given` for none, else its JSON, cut to `PYTHON_CHARS`."""
    if isinstance(value, list | tuple) and value and all(type(v) is int and v >= 0 for v in value):
        return ".".join(str(v) for v in value)
    if value is None:
        return "not given"
    text = json.dumps(value, default=lambda v: f"<{type(v).__name__}>", ensure_ascii=True)
    return text if len(text) <= PYTHON_CHARS else text[:PYTHON_CHARS] + "..."


def _minor(value: Any) -> Any:
    """The part of a Python version that decides whether pickled code loads: major.minor."""
    return tuple(value[:2]) if isinstance(value, list | tuple) else value


def same_python(client: Any, upstream: Any) -> bool:
    """Whether two `python` entries name the same major.minor (the patch level does not
    change what pickled code loads, as tap.md says); entries that are no version must be
    equal."""
    try:
        return bool(_minor(client) == _minor(upstream))
    except Exception:  # a value whose comparison fails: not the same
        return False


def compare(client: HandshakeSummary, upstream: HandshakeSummary) -> list[HandshakeWarning]:
    """What differs between the client's and the upstream's proposals that breaks clusters:
    compression, pickle protocols, or Python versions compared by major.minor."""
    out = []
    if client.compression != upstream.compression:
        out.append(
            HandshakeWarning(
                kind="compression",
                text=(
                    f"the two sides propose different compression (client "
                    f"{client.compression or 'none'}, upstream {upstream.compression or 'none'}), "
                    "so nothing they compress themselves is compressed on this connection "
                    "(DK-5). Set distributed.comm.compression the same on both; distributed "
                    "also proposes none to a peer whose address equals its own, so a proxy on "
                    "another address changes it"
                ),
            )
        )
    if client.pickle_protocol != upstream.pickle_protocol:
        low = min(client.pickle_protocol, upstream.pickle_protocol)
        out.append(
            HandshakeWarning(
                kind="pickle-protocol",
                text=(
                    f"the two sides read different pickle protocols (client "
                    f"{client.pickle_protocol}, upstream {upstream.pickle_protocol}): both "
                    f"write protocol {low}, and pickled values lose their out-of-band buffers "
                    "below 5"
                ),
            )
        )
    if not same_python(client.python, upstream.python):
        out.append(
            HandshakeWarning(
                kind="python",
                text=(
                    f"the two sides run different Python versions (client "
                    f"{python_text(client.python)}, upstream {python_text(upstream.python)}): "
                    "pickled functions and classes may fail to load on the other side"
                ),
            )
        )
    return out


def agreed(
    profile_name: str,
    client: HandshakeSummary,
    upstream_frames: Sequence[Any],
    limits: Limits = DEFAULT_LIMITS,
) -> ConnectionOptions | None:
    """What the client computes from its own proposal and the upstream's handshake frames,
    by the profile's own `handshake` from the registry (DK-5 for dask-2023.11); None when
    the profile is unknown, has no handshake, or the frames do not read as one."""
    try:
        profile = daskwire.get_profile(profile_name)
    except daskwire.UnknownProfileError:
        return None
    if profile.handshake is None:
        return None
    local = ConnectionOptions(
        compression=client.compression, pickle_protocol=client.pickle_protocol
    )
    try:
        return profile.handshake(local, list(upstream_frames), limits)[1]
    except daskwire.DaskwireError:
        return None
