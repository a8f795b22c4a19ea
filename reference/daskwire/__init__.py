"""daskwire: the sans-I/O reference codec of Dask's wire profiles.

Each profile is a subpackage with an entry in `daskwire.registry.PROFILES`; the modules at
this level (framing, msgpack values, codecs, limits, errors, notation) are shared by all of
them. The names `encode`, `decode`, `unpack` and `FrameReader` here are placeholder-v1's,
as they were before there was a second profile.

Nothing in this package does I/O: every function takes and returns bytes-like objects and
plain Python values. Nothing here unpickles or imports code named by its input.
"""

from __future__ import annotations

from ._version import __version__
from .codecs import SUPPORTED_CODECS
from .constants import SPEC_VERSION
from .errors import (
    Category,
    CountMismatch,
    DaskwireError,
    FrameOutOfRange,
    InvalidCompressedData,
    InvalidHandshake,
    InvalidHeader,
    InvalidMapKey,
    InvalidMarker,
    InvalidMessage,
    InvalidMsgpack,
    InvalidPlaceholder,
    InvalidReadHint,
    InvalidSmallHeader,
    LengthMismatch,
    LimitExceeded,
    MisplacedPlaceholder,
    OverlappingFrames,
    TooFewFrames,
    TrailingBytes,
    TruncatedInput,
    UnclaimedFrame,
    UnencodableValue,
    UnknownCodec,
    UnsupportedType,
)
from .limits import DEFAULT_LIMITS, Limits
from .model import Buffer, EnumValue, Float32, Materialized, Offloaded, Pickled, SetValue
from .placeholder_v1 import CONSUMING, FORWARDING, FrameReader, decode, encode, unpack
from .placeholder_v1.constants import PROFILE
from .profile import ConnectionOptions, Profile
from .registry import PROFILES, UnknownProfileError, get_profile
from .wire import pack, pack_bytes

__all__ = [
    "CONSUMING",
    "DEFAULT_LIMITS",
    "FORWARDING",
    "PROFILE",
    "PROFILES",
    "SPEC_VERSION",
    "SUPPORTED_CODECS",
    "Buffer",
    "Category",
    "ConnectionOptions",
    "CountMismatch",
    "DaskwireError",
    "EnumValue",
    "Float32",
    "FrameOutOfRange",
    "FrameReader",
    "InvalidCompressedData",
    "InvalidHandshake",
    "InvalidHeader",
    "InvalidMapKey",
    "InvalidMarker",
    "InvalidMessage",
    "InvalidMsgpack",
    "InvalidPlaceholder",
    "InvalidReadHint",
    "InvalidSmallHeader",
    "LengthMismatch",
    "LimitExceeded",
    "Limits",
    "Materialized",
    "MisplacedPlaceholder",
    "Offloaded",
    "OverlappingFrames",
    "Pickled",
    "Profile",
    "SetValue",
    "TooFewFrames",
    "TrailingBytes",
    "TruncatedInput",
    "UnclaimedFrame",
    "UnencodableValue",
    "UnknownCodec",
    "UnknownProfileError",
    "UnsupportedType",
    "__version__",
    "decode",
    "encode",
    "get_profile",
    "pack",
    "pack_bytes",
    "unpack",
]
