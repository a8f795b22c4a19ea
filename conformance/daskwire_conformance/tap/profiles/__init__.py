"""What the tap must read whole of each profile's messages, one module per profile.

The module of a profile is named after it as its package is (`daskwire.profile.package_name`:
`dask_2023_11` for dask-2023.11) and defines `kept_frames(frame0)`: the frames after frame 0
the decoder needs whole, or None for every frame. A profile without a module here has every
frame read whole, so adding a profile edits no shared module of the tap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from daskwire import PROFILES
from daskwire.profile import package_name

__all__ = ["KeptFrames", "kept_frames_of"]

#: kept_frames(frame0) -> the frame indices read whole besides frame 0, or None for all.
KeptFrames = Callable[[bytes], frozenset[int] | None]


def _all(frame0: bytes) -> frozenset[int] | None:
    """Keep every frame: what a profile without a module of its own here gets."""
    return None


@cache
def kept_frames_of(profile: str) -> KeptFrames:
    """The `kept_frames` of a registered profile's module, found by the profile's name, or
    one that keeps every frame (a profile without such a module, or a name the registry
    does not hold)."""
    if profile not in PROFILES:
        return _all
    name = f"{__name__}.{package_name(profile)}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return _all
    found: KeptFrames = module.kept_frames
    return found
