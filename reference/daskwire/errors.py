"""The exception root and one subclass per error category of the spec (spec/errors.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

__all__ = [
    "Category",
    "CountMismatch",
    "DaskwireError",
    "FrameOutOfRange",
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
    "MisplacedPlaceholder",
    "OverlappingFrames",
    "TooFewFrames",
    "TrailingBytes",
    "TruncatedInput",
    "UnclaimedFrame",
    "UnencodableValue",
    "UnknownCodec",
    "UnsupportedType",
    "error_class",
]


class Category(StrEnum):
    """The closed set of error categories; each value is the name used in the spec and vectors."""

    #: The bytes end inside the prelude or inside a frame (WF-4, WF-6).
    TRUNCATED_INPUT = "truncated-input"
    #: Bytes follow the last frame of a message decoded on its own (WF-3).
    TRAILING_BYTES = "trailing-bytes"
    #: The frame count is below 2 (WF-2).
    TOO_FEW_FRAMES = "too-few-frames"
    #: Frame 0 is neither empty nor a valid small header map (SH-1, SH-2).
    INVALID_SMALL_HEADER = "invalid-small-header"
    #: A codec name this implementation does not support: one to decode (CP-2), or one an
    #: encoder was asked to write (CE-14).
    UNKNOWN_CODEC = "unknown-codec"
    #: Compressed bytes do not decompress, or not to the size their prefix declares (CP-4).
    INVALID_COMPRESSED_DATA = "invalid-compressed-data"
    #: Frame 1 is not exactly one well-formed msgpack value, or a str is not UTF-8 (PL-1, PL-3).
    INVALID_MSGPACK = "invalid-msgpack"
    #: The payload holds a msgpack type outside the profile, such as an ext type (PL-9).
    UNSUPPORTED_TYPE = "unsupported-type"
    #: The payload's top-level value is neither a map nor an array (PL-2).
    INVALID_MESSAGE = "invalid-message"
    #: A map key has a type outside the profile, or a key repeats in one map (PL-6, PL-7).
    INVALID_MAP_KEY = "invalid-map-key"
    #: A map with a reserved key is not a well-formed placeholder (PH-2, PH-3).
    INVALID_PLACEHOLDER = "invalid-placeholder"
    #: A placeholder stands at the top level, in a map key or inside a header (PH-7).
    MISPLACED_PLACEHOLDER = "misplaced-placeholder"
    #: A placeholder's frame range leaves the offload area (PH-6).
    FRAME_OUT_OF_RANGE = "frame-out-of-range"
    #: Two placeholders claim the same frame (PH-8).
    OVERLAPPING_FRAMES = "overlapping-frames"
    #: A frame of the offload area belongs to no placeholder (PH-9).
    UNCLAIMED_FRAME = "unclaimed-frame"
    #: `_$fcount` differs from the header's `count` (PH-10).
    COUNT_MISMATCH = "count-mismatch"
    #: A transport key of a header is missing or has the wrong type or size (HD-2 .. HD-5).
    INVALID_HEADER = "invalid-header"
    #: The header's `lengths` do not add up to the value's decompressed bytes (CP-6).
    LENGTH_MISMATCH = "length-mismatch"
    #: A configured limit was exceeded (LM-*).
    LIMIT_EXCEEDED = "limit-exceeded"
    #: The encoder was given a message it cannot encode under the profile (PH-11, CE-11 .. CE-13,
    #: DM-15, DM-16).
    UNENCODABLE_VALUE = "unencodable-value"
    #: dask-2023.11: the no-split read hint is not on a frame boundary of its message (DT-4).
    INVALID_READ_HINT = "invalid-read-hint"
    #: dask-2023.11: a map with a reserved marker key is not a well-formed marker, or stands
    #: where that marker may not (DM-5, DM-6, DM-12 .. DM-14, DS-9).
    INVALID_MARKER = "invalid-marker"
    #: dask-2023.11: the first message of a connection is not a comm handshake (DK-3).
    INVALID_HANDSHAKE = "invalid-handshake"


class DaskwireError(ValueError):
    """Root of every error daskwire raises for bad input; `category` names the spec's category."""

    category: ClassVar[Category]

    def __init__(self, message: str, *, requirement: str | None = None) -> None:
        super().__init__(message)
        #: The requirement ID the input violated, when one requirement is to blame.
        self.requirement = requirement

    def __str__(self) -> str:
        text = super().__str__()
        where = f" [{self.requirement}]" if self.requirement else ""
        return f"{self.category.value}{where}: {text}"


class TruncatedInput(DaskwireError):
    """The bytes end inside the prelude or inside a frame."""

    category = Category.TRUNCATED_INPUT


class TrailingBytes(DaskwireError):
    """Bytes follow the last frame of a message decoded on its own."""

    category = Category.TRAILING_BYTES


class TooFewFrames(DaskwireError):
    """The frame count is below 2."""

    category = Category.TOO_FEW_FRAMES


class InvalidSmallHeader(DaskwireError):
    """Frame 0 is neither empty nor a valid small header."""

    category = Category.INVALID_SMALL_HEADER


class UnknownCodec(DaskwireError):
    """A codec name this implementation does not support had to be decoded or encoded."""

    category = Category.UNKNOWN_CODEC


class InvalidCompressedData(DaskwireError):
    """Compressed bytes do not decompress to the size they declare."""

    category = Category.INVALID_COMPRESSED_DATA


class InvalidMsgpack(DaskwireError):
    """A frame that must hold one msgpack value does not."""

    category = Category.INVALID_MSGPACK


class UnsupportedType(DaskwireError):
    """The payload holds a msgpack type outside the profile."""

    category = Category.UNSUPPORTED_TYPE


class InvalidMessage(DaskwireError):
    """The payload's top-level value is neither a map nor an array."""

    category = Category.INVALID_MESSAGE


class InvalidMapKey(DaskwireError):
    """A map key has a type outside the profile, or repeats."""

    category = Category.INVALID_MAP_KEY


class InvalidPlaceholder(DaskwireError):
    """A map with a reserved key is not a well-formed placeholder."""

    category = Category.INVALID_PLACEHOLDER


class MisplacedPlaceholder(DaskwireError):
    """A placeholder stands where the spec forbids one."""

    category = Category.MISPLACED_PLACEHOLDER


class FrameOutOfRange(DaskwireError):
    """A placeholder's frame range leaves the offload area."""

    category = Category.FRAME_OUT_OF_RANGE


class OverlappingFrames(DaskwireError):
    """Two placeholders claim the same frame."""

    category = Category.OVERLAPPING_FRAMES


class UnclaimedFrame(DaskwireError):
    """A frame of the offload area belongs to no placeholder."""

    category = Category.UNCLAIMED_FRAME


class CountMismatch(DaskwireError):
    """`_$fcount` differs from the header's `count`."""

    category = Category.COUNT_MISMATCH


class InvalidHeader(DaskwireError):
    """A transport key of a header is missing or malformed."""

    category = Category.INVALID_HEADER


class LengthMismatch(DaskwireError):
    """The header's `lengths` do not add up to the value's bytes."""

    category = Category.LENGTH_MISMATCH


class LimitExceeded(DaskwireError):
    """A configured limit was exceeded; `limit` names the field of `Limits`."""

    category = Category.LIMIT_EXCEEDED

    def __init__(self, message: str, *, limit: str, requirement: str | None = None) -> None:
        super().__init__(message, requirement=requirement)
        #: The name of the `Limits` field that was exceeded.
        self.limit = limit


class UnencodableValue(DaskwireError):
    """The encoder was given a message it cannot encode under the profile."""

    category = Category.UNENCODABLE_VALUE


class InvalidReadHint(DaskwireError):
    """The no-split read hint does not end on a frame boundary of its message."""

    category = Category.INVALID_READ_HINT


class InvalidMarker(DaskwireError):
    """A map with a reserved marker key is not a well-formed marker, or is misplaced."""

    category = Category.INVALID_MARKER


class InvalidHandshake(DaskwireError):
    """The first message of a connection is not a comm handshake."""

    category = Category.INVALID_HANDSHAKE


_BY_CATEGORY: dict[Category, type[DaskwireError]] = {
    cls.category: cls for cls in DaskwireError.__subclasses__()
}


def error_class(category: Category | str) -> type[DaskwireError]:
    """Return the exception class of a category name."""
    return _BY_CATEGORY[Category(category)]
