"""placeholder-v1: the pull request's format, placeholders in place of offloaded values."""

from __future__ import annotations

from typing import Final

from daskwire.profile import Profile
from daskwire.wire import pack

from .constants import PROFILE as NAME
from .decoder import CONSUMING, FORWARDING, Mode, decode
from .encoder import encode
from .framing import FrameReader, unpack

__all__ = [
    "CONSUMING",
    "FORWARDING",
    "NAME",
    "PROFILE",
    "FrameReader",
    "Mode",
    "decode",
    "encode",
    "unpack",
]

#: This profile's entry in the registry (daskwire.registry).
PROFILE: Final = Profile(
    name=NAME,
    summary="Dask pull request #3809: placeholders stand in place of offloaded values",
    encode=encode,
    decode=decode,
    unpack=unpack,
    pack=pack,
    stream_reader=FrameReader,
)
