"""dask-2023.11: the format Dask's distributed writes today, markers pointing at sub-headers."""

from __future__ import annotations

from typing import Final

from daskwire.profile import Profile

from .constants import PROFILE as NAME
from .decoder import CONSUMING, FORWARDING, Mode, decode
from .encoder import encode
from .framing import FrameReader, pack, pack_bytes, unpack
from .handshake import agree, handshake, read_handshake, write_handshake

__all__ = [
    "CONSUMING",
    "FORWARDING",
    "NAME",
    "PROFILE",
    "FrameReader",
    "Mode",
    "agree",
    "decode",
    "encode",
    "handshake",
    "pack",
    "pack_bytes",
    "read_handshake",
    "unpack",
    "write_handshake",
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
    handshake=handshake,
    read_handshake=read_handshake,
)
