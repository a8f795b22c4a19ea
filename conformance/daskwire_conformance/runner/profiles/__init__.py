"""Per-profile checks of a testee's output, each profile's in its own module, found by name."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daskwire import PROFILES
from daskwire.profile import package_name

__all__ = ["NotDecompressible", "ProfileChecks", "Undecided", "checks_for"]


class Undecided(Exception):
    """A codec the independent decompression does not know: the reference decides."""


class NotDecompressible(Exception):
    """An encoder's compressed frame that the independent decompression cannot read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileChecks:
    """What the judge checks of one profile's output beyond decoding it with the reference.

    Each check reads the output on its own (msgpack and the standard library), not with the
    reference codec, and returns why the output breaks the profile, or None.
    """

    #: An encoder's frames, which the reference has decoded to the vector's message: the
    #: layout rules a decoder tolerates but an encoder must keep (frame order, frame 0).
    encoder_output: Callable[[Sequence[bytes]], str | None] | None = None
    #: A testee's own comm handshake frames for what it proposed (`compression`,
    #: `pickle-protocol` in harness form); None for a profile without a handshake.
    own_handshake: Callable[[Sequence[bytes], Mapping[str, Any]], str | None] | None = None
    #: The message a consuming receiver reads from an encoder's frames, with every
    #: decompression done without the reference's codecs, so that a bug the reference shares
    #: cannot hide (CE-10); raises `Undecided` for a codec it does not know and
    #: `NotDecompressible` for frames that do not decompress.
    independent_consumed: Callable[[Sequence[bytes]], Any] | None = None
    #: For each offloaded value of an encoder's frames, in the order the frames hold them,
    #: the codec names (None for none) its data frames have, read from the frames alone;
    #: None for a profile whose connections agree no codec.
    codecs_used: Callable[[Sequence[bytes]], list[frozenset[str | None]]] | None = None


def checks_for(profile: str) -> ProfileChecks:
    """The checks of a registered profile: `CHECKS` of this package's module named after it
    (`placeholder_v1` for placeholder-v1); none for a profile without such a module, or for
    a name the reference's registry does not hold."""
    if profile not in PROFILES:
        return ProfileChecks()
    name = f"{__name__}.{package_name(profile)}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return ProfileChecks()
    checks = getattr(module, "CHECKS", None)
    return checks if isinstance(checks, ProfileChecks) else ProfileChecks()
