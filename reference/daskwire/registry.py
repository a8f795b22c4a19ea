"""The profile registry: every profile's name, mapped to its codec. One entry per profile."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from . import dask_2023_11, placeholder_v1
from .profile import Profile

__all__ = ["PROFILES", "UnknownProfileError", "get_profile"]

#: Every profile the reference implements, by name, in the order the spec lists them. A new
#: profile is a subpackage with a `PROFILE` entry, and one line here.
PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {entry.name: entry for entry in (placeholder_v1.PROFILE, dask_2023_11.PROFILE)}
)


class UnknownProfileError(LookupError):
    """A profile name that the registry does not hold."""


def get_profile(name: str) -> Profile:
    """The registry's entry for `name`; raises `UnknownProfileError` for any other name."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        msg = f"unknown profile {name!r}; the profiles are: {known}"
        raise UnknownProfileError(msg) from None
