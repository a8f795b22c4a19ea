"""The placeholder-v1 decoder: frames in, message out, for forwarding and consuming receivers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from . import payload
from .codecs import decompress
from .constants import (
    HEADER_COMPRESSION,
    HEADER_COUNT,
    HEADER_DESERIALIZE,
    HEADER_LENGTHS,
    KEY_FCOUNT,
    KEY_FINDEX,
    KEY_HEADER,
    MIN_FRAMES,
    OFFLOAD_BASE,
    PAYLOAD_INDEX,
    PRELUDE_INT_BYTES,
    RESERVED_KEYS,
    SMALL_HEADER_COMPRESSION,
    SMALL_HEADER_INDEX,
    TRANSPORT_KEYS,
)
from .errors import (
    CountMismatch,
    DaskwireError,
    FrameOutOfRange,
    InvalidHeader,
    InvalidMapKey,
    InvalidMessage,
    InvalidPlaceholder,
    InvalidSmallHeader,
    LengthMismatch,
    LimitExceeded,
    MisplacedPlaceholder,
    OverlappingFrames,
    TooFewFrames,
    UnclaimedFrame,
)
from .limits import DEFAULT_LIMITS, Limits
from .model import Buffer, Materialized, Offloaded
from .wire import frame_view

__all__ = ["CONSUMING", "FORWARDING", "Mode", "decode"]

Mode = Literal["forwarding", "consuming"]
#: Keep offloaded values as header plus wire frames (RX-1).
FORWARDING: Final = "forwarding"
#: Decompress and merge offloaded values into their original frames (RX-2).
CONSUMING: Final = "consuming"

_TRANSPORT: Final = frozenset(TRANSPORT_KEYS)
_ONES: Final = b"\x01"


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _check_frame_list(views: Sequence[memoryview], limits: Limits) -> None:
    """Layer 1: frame count and sizes (WF-2, WF-7)."""
    count = len(views)
    if count > limits.max_frames:
        msg = f"{count} frames, over max_frames={limits.max_frames}"
        raise LimitExceeded(msg, limit="max_frames", requirement="WF-7")
    if count < MIN_FRAMES:
        msg = f"{count} frames; a message has at least {MIN_FRAMES}"
        raise TooFewFrames(msg, requirement="WF-2")
    total = PRELUDE_INT_BYTES * (count + 1)
    for index, view in enumerate(views):
        if view.nbytes > limits.max_frame_bytes:
            msg = f"frame {index} has {view.nbytes} bytes, over max_frame_bytes"
            raise LimitExceeded(msg, limit="max_frame_bytes", requirement="WF-7")
        total += view.nbytes
    if total > limits.max_message_bytes:
        msg = f"message has {total} bytes, over max_message_bytes={limits.max_message_bytes}"
        raise LimitExceeded(msg, limit="max_message_bytes", requirement="WF-7")


def _small_header_codec(frame: memoryview, limits: Limits) -> str | None:
    """Layer 2: read frame 0 (SH-1 .. SH-5); return the payload's codec or None."""
    if not frame.nbytes:
        return None
    try:
        header = payload.parse(frame, payload.plain_pairs_hook, limits.max_depth)
    except LimitExceeded:
        raise
    except DaskwireError as exc:
        msg = f"frame 0 is not a valid small header: {exc}"
        raise InvalidSmallHeader(msg, requirement="SH-1") from exc
    if type(header) is not dict or not all(type(k) is str for k in header):
        msg = "frame 0 must be empty or a msgpack map with str keys"
        raise InvalidSmallHeader(msg, requirement="SH-1")
    codec = header.get(SMALL_HEADER_COMPRESSION)
    if codec is not None and type(codec) is not str:
        msg = f"frame 0 'compression' must be a str or nil, not {type(codec).__name__}"
        raise InvalidSmallHeader(msg, requirement="SH-2")
    return codec


class _Decoding:
    """State of one decode: the frames, which of them are claimed, and resolved values."""

    __slots__ = (
        "claimed",
        "claims",
        "deferred",
        "frames",
        "limits",
        "mode",
        "resolved",
    )

    def __init__(self, frames: Sequence[memoryview], mode: str, limits: Limits) -> None:
        self.frames = frames
        self.mode = mode
        self.limits = limits
        self.claims = bytearray(len(frames) - OFFLOAD_BASE)
        self.claimed = 0
        #: ids of the objects that placeholders became, to find them where they may not be.
        self.resolved: set[int] = set()
        #: The first error of decompressing or merging (layer 6), raised after coverage.
        self.deferred: DaskwireError | None = None

    # -- placement -----------------------------------------------------------------------

    def _contains_resolved(self, value: Any) -> bool:
        """True when `value` is, or holds at any depth, an object a placeholder became."""
        resolved = self.resolved
        pending = [value]
        while pending:
            item = pending.pop()
            if id(item) in resolved:
                return True
            kind = type(item)
            if kind is dict:
                pending.extend(item)
                pending.extend(item.values())
            elif kind is tuple:
                pending.extend(item)
        return False

    # -- the pairs hook: every map of frame 1, innermost first -------------------------------

    def hook(self, pairs: list[tuple[Any, Any]]) -> Any:
        try:
            mapping = dict(pairs)
        except TypeError as exc:
            raise self._bad_keys(pairs) from exc
        if len(mapping) != len(pairs):
            msg = "a key repeats within one map"
            raise InvalidMapKey(msg, requirement="PL-7")
        key_types = set(map(type, mapping))
        if not key_types <= payload.KEY_TYPES or tuple in key_types:
            self._check_keys(mapping)
        if KEY_HEADER in mapping or KEY_FINDEX in mapping or KEY_FCOUNT in mapping:
            return self._placeholder(mapping)
        return mapping

    def _bad_keys(self, pairs: list[tuple[Any, Any]]) -> DaskwireError:
        if any(self._contains_resolved(k) for k, _ in pairs):
            return MisplacedPlaceholder("a placeholder is a map key", requirement="PH-7")
        return InvalidMapKey(
            "a map key is a map, which the profile does not allow", requirement="PL-6"
        )

    def _check_keys(self, mapping: dict[Any, Any]) -> None:
        for key in mapping:
            if self.resolved and self._contains_resolved(key):
                msg = "a placeholder stands in a map key"
                raise MisplacedPlaceholder(msg, requirement="PH-7")
            if not payload.check_key(key):
                msg = f"map key of type {type(key).__name__} is not allowed"
                raise InvalidMapKey(msg, requirement="PL-6")

    # -- one placeholder ----------------------------------------------------------------------

    def _placeholder(self, mapping: dict[Any, Any]) -> Any:
        if len(mapping) != len(RESERVED_KEYS) or not all(k in mapping for k in RESERVED_KEYS):
            keys = ", ".join(repr(k) for k in mapping)
            msg = f"a placeholder has exactly the keys _$header, _$findex, _$fcount; got {keys}"
            raise InvalidPlaceholder(msg, requirement="PH-2")
        header = mapping[KEY_HEADER]
        index = mapping[KEY_FINDEX]
        count = mapping[KEY_FCOUNT]
        if id(header) in self.resolved:
            raise MisplacedPlaceholder("a placeholder is a header", requirement="PH-7")
        if type(header) is not dict:
            msg = f"_$header must be a map, not {type(header).__name__}"
            raise InvalidPlaceholder(msg, requirement="PH-3")
        if not _is_count(index) or not _is_count(count):
            msg = f"_$findex and _$fcount must be non-negative integers; got {index!r}, {count!r}"
            raise InvalidPlaceholder(msg, requirement="PH-3")
        if self.resolved and self._contains_resolved(header):
            raise MisplacedPlaceholder("a placeholder stands inside a header", requirement="PH-7")
        self._check_header(header, count)
        available = len(self.claims)
        if index > available or count > available - index:
            msg = f"frames [{index}, {index + count}) leave the offload area of {available} frames"
            raise FrameOutOfRange(msg, requirement="PH-6")
        if count:
            if self.claims.find(1, index, index + count) != -1:
                msg = f"frames [{index}, {index + count}) are claimed twice"
                raise OverlappingFrames(msg, requirement="PH-8")
            self.claims[index : index + count] = _ONES * count
            self.claimed += count
        start = OFFLOAD_BASE + index
        wire = self.frames[start : start + count]
        value: Any
        if header[HEADER_DESERIALIZE]:
            value = self._materialize(header, wire, raw=True)
        elif self.mode == FORWARDING:
            self._check_plain_lengths(header, wire)
            value = Offloaded(header, wire)
        else:
            value = self._materialize(header, wire, raw=False)
        self.resolved.add(id(value))
        return value

    @staticmethod
    def _check_header(header: dict[Any, Any], fcount: int) -> None:
        """The transport keys of a header (HD-2 .. HD-6) and the count (PH-10)."""
        count = header.get(HEADER_COUNT)
        if not _is_count(count):
            msg = f"header 'count' must be a non-negative integer, not {count!r:.40}"
            raise InvalidHeader(msg, requirement="HD-2")
        if type(header.get(HEADER_DESERIALIZE)) is not bool:
            msg = "header 'deserialize' must be a bool"
            raise InvalidHeader(msg, requirement="HD-3")
        lengths = header.get(HEADER_LENGTHS)
        if type(lengths) is not tuple or not all(_is_count(n) for n in lengths):
            msg = "header 'lengths' must be an array of non-negative integers"
            raise InvalidHeader(msg, requirement="HD-4")
        if HEADER_COMPRESSION in header:
            codecs = header[HEADER_COMPRESSION]
            if (
                type(codecs) is not tuple
                or len(codecs) != count
                or not all(c is None or type(c) is str for c in codecs)
            ):
                msg = "header 'compression' must be an array of `count` str-or-nil entries"
                raise InvalidHeader(msg, requirement="HD-5")
        if count != fcount:
            msg = f"_$fcount is {fcount} but the header's count is {count}"
            raise CountMismatch(msg, requirement="PH-10")

    # -- materialising: decompress and merge (layer 6, deferred) -------------------------------

    def _materialize(self, header: dict[Any, Any], wire: Sequence[memoryview], *, raw: bool) -> Any:
        try:
            frames = self._merge(header, wire)
        except DaskwireError as exc:
            if self.deferred is None:
                self.deferred = exc
            # A stand-in that the rest of layer 4 and layer 5 can place and check; `decode`
            # raises the deferred error before any message is returned (ER-1, ER-3).
            return object()
        if raw:
            if len(frames) == 1:
                return memoryview(frames[0])
            return memoryview(b"".join(frames))
        serializer = {k: v for k, v in header.items() if k not in _TRANSPORT}
        return Materialized(serializer, frames)

    def _check_plain_lengths(self, header: dict[Any, Any], wire: Sequence[memoryview]) -> None:
        """Uncompressed values: `lengths` must add up, for every receiver (CP-11, layer 6)."""
        codecs = header.get(HEADER_COMPRESSION)
        if codecs is not None and any(c is not None for c in codecs):
            return
        total = sum(view.nbytes for view in wire)
        if sum(header[HEADER_LENGTHS]) != total and self.deferred is None:
            msg = f"lengths add up to {sum(header[HEADER_LENGTHS])} bytes, the frames hold {total}"
            self.deferred = LengthMismatch(msg, requirement="CP-11")

    def _merge(self, header: dict[Any, Any], wire: Sequence[memoryview]) -> list[Buffer]:
        """Decompress each wire frame and cut the bytes at `lengths` (CP-6)."""
        codecs = header.get(HEADER_COMPRESSION) or (None,) * len(wire)
        plain: list[Buffer] = [
            frame if codec is None else decompress(codec, frame, self.limits)
            for codec, frame in zip(codecs, wire, strict=True)
        ]
        lengths: tuple[int, ...] = header[HEADER_LENGTHS]
        sizes = [memoryview(f).nbytes for f in plain]
        if list(lengths) == sizes:
            return plain
        total = sum(sizes)
        if sum(lengths) != total:
            msg = f"lengths add up to {sum(lengths)} bytes, the frames hold {total}"
            raise LengthMismatch(msg, requirement="CP-6")
        joined = memoryview(b"".join(plain))
        out: list[Buffer] = []
        offset = 0
        for length in lengths:
            out.append(joined[offset : offset + length])
            offset += length
        return out


def decode(
    frames: Sequence[Buffer],
    *,
    mode: Mode = "forwarding",
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """Decode one message's frames (spec/receivers.md).

    `mode="forwarding"` keeps every offloaded value as `Offloaded(header, wire frames)`;
    `mode="consuming"` yields `Materialized(serializer header, original frames)`. Raw byte
    strings (`deserialize: true`) become memoryviews in both modes (HD-9). Frames are never
    copied unless they must be decompressed or merged. Any violation of the spec raises a
    `DaskwireError` subclass whose `category` is the spec's name; checks run in the layer order
    of ER-3. Limits: see `Limits`.
    """
    if mode not in (FORWARDING, CONSUMING):
        msg = f"mode must be {FORWARDING!r} or {CONSUMING!r}, not {mode!r}"
        raise ValueError(msg)
    views = [frame_view(f) for f in frames]
    _check_frame_list(views, limits)
    codec = _small_header_codec(views[SMALL_HEADER_INDEX], limits)
    body: Buffer = views[PAYLOAD_INDEX]
    if codec is not None:
        body = decompress(codec, body, limits)
    state = _Decoding(views, mode, limits)
    message = payload.parse(body, state.hook, limits.max_depth)
    if id(message) in state.resolved:
        raise MisplacedPlaceholder("the message itself is a placeholder", requirement="PH-7")
    if type(message) is not dict and type(message) is not tuple:
        msg = f"the message is a {type(message).__name__}; it must be a map or an array"
        raise InvalidMessage(msg, requirement="PL-2")
    if state.claimed != len(state.claims):
        first = state.claims.find(0)
        msg = f"frame {OFFLOAD_BASE + first} belongs to no placeholder"
        raise UnclaimedFrame(msg, requirement="PH-9")
    if state.deferred is not None:
        raise state.deferred
    return message
