"""dask-2023.11: the format Dask's distributed writes today, markers pointing at sub-headers."""

from __future__ import annotations

from typing import Final

from daskwire.profile import Profile

from .constants import PROFILE as NAME
from .decoder import CONSUMING, FORWARDING, Mode, decode
from .encoder import encode
from .framing import FrameReader, pack, pack_bytes, unpack

__all__ = [
    "CONSUMING",
    "FORWARDING",
    "NAME",
    "PROFILE",
    "FrameReader",
    "Mode",
    "decode",
    "encode",
    "pack",
    "pack_bytes",
    "unpack",
]

#: This profile's entry in the registry (daskwire.registry).
PROFILE: Final = Profile(
    name=NAME,
    summary="Dask's distributed since 2023.11: index markers, sub-headers, a no-split read hint",
    encode=encode,
    decode=decode,
    unpack=unpack,
    pack=pack,
    stream_reader=FrameReader,
)
