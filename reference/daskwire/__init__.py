"""daskwire: the sans-I/O reference codec of Dask's placeholder-v1 frame encoding.

Nothing in this package does I/O: every function takes and returns bytes-like objects and
plain Python values. Nothing here unpickles or imports code named by its input.
"""

from __future__ import annotations

from ._version import __version__
from .codecs import SUPPORTED_CODECS
from .constants import PROFILE, SPEC_VERSION
from .decoder import CONSUMING, FORWARDING, decode
from .encoder import encode
from .errors import (
    Category,
    CountMismatch,
    DaskwireError,
    FrameOutOfRange,
    InvalidCompressedData,
    InvalidHeader,
    InvalidMapKey,
    InvalidMessage,
    InvalidMsgpack,
    InvalidPlaceholder,
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
from .model import Buffer, Float32, Materialized, Offloaded
from .wire import FrameReader, pack, pack_bytes, unpack

__all__ = [
    "CONSUMING",
    "DEFAULT_LIMITS",
    "FORWARDING",
    "PROFILE",
    "SPEC_VERSION",
    "SUPPORTED_CODECS",
    "Buffer",
    "Category",
    "CountMismatch",
    "DaskwireError",
    "Float32",
    "FrameOutOfRange",
    "FrameReader",
    "InvalidCompressedData",
    "InvalidHeader",
    "InvalidMapKey",
    "InvalidMessage",
    "InvalidMsgpack",
    "InvalidPlaceholder",
    "InvalidSmallHeader",
    "LengthMismatch",
    "LimitExceeded",
    "Limits",
    "Materialized",
    "MisplacedPlaceholder",
    "Offloaded",
    "OverlappingFrames",
    "TooFewFrames",
    "TrailingBytes",
    "TruncatedInput",
    "UnclaimedFrame",
    "UnencodableValue",
    "UnknownCodec",
    "UnsupportedType",
    "__version__",
    "decode",
    "encode",
    "pack",
    "pack_bytes",
    "unpack",
]
