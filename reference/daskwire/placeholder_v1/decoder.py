"""The placeholder-v1 decoder: frames in, message out, for forwarding and consuming receivers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

import msgpack

from daskwire import payload
from daskwire.codecs import decompress
from daskwire.constants import PRELUDE_INT_BYTES
from daskwire.errors import (
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
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer, Materialized, Offloaded
from daskwire.wire import frame_views

from . import accel
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
    RESERVED_KEYS,
    SMALL_HEADER_COMPRESSION,
    SMALL_HEADER_INDEX,
    TRANSPORT_KEYS,
)

__all__ = ["CONSUMING", "FORWARDING", "Mode", "decode"]

Mode = Literal["forwarding", "consuming"]
#: Keep offloaded values as header plus wire frames (RX-1).
FORWARDING: Final = "forwarding"
#: Decompress and merge offloaded values into their original frames (RX-2).
CONSUMING: Final = "consuming"

_TRANSPORT: Final = frozenset(TRANSPORT_KEYS)
_ONES: Final = b"\x01"
_INT: Final = frozenset({int})
_STR_OR_NONE: Final = frozenset({str, type(None)})


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _all_counts(values: tuple[Any, ...]) -> bool:
    """True when every item is an int (not a bool) and none is negative."""
    return _INT.issuperset(map(type, values)) and min(values, default=0) >= 0


def _check_frame_list(views: Sequence[memoryview], limits: Limits) -> None:
    """Layer 1: frame count and sizes (WF-2, WF-7)."""
    count = len(views)
    if count > limits.max_frames:
        msg = f"{count} frames, over max_frames={limits.max_frames}"
        raise LimitExceeded(msg, limit="max_frames", requirement="WF-7")
    if count < MIN_FRAMES:
        msg = f"{count} frames; a message has at least {MIN_FRAMES}"
        raise TooFewFrames(msg, requirement="WF-2")
    sizes = list(map(len, views))  # flat byte views: len is the size in bytes
    if max(sizes) > limits.max_frame_bytes:
        index, size = next((i, n) for i, n in enumerate(sizes) if n > limits.max_frame_bytes)
        msg = f"frame {index} has {size} bytes, over max_frame_bytes"
        raise LimitExceeded(msg, limit="max_frame_bytes", requirement="WF-7")
    total = PRELUDE_INT_BYTES * (count + 1) + sum(sizes)
    if total > limits.max_message_bytes:
        msg = f"message has {total} bytes, over max_message_bytes={limits.max_message_bytes}"
        raise LimitExceeded(msg, limit="max_message_bytes", requirement="WF-7")


def _small_header_codec(frame: memoryview, limits: Limits) -> str | None:
    """Layer 2: read frame 0 (SH-1 .. SH-5); return the payload's codec or None."""
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


def _payload(frames: Sequence[Buffer], limits: Limits) -> Buffer:
    """Layers 2 and 3: the small header, then frame 1, decompressed if frame 0 says so."""
    head, body = frames[SMALL_HEADER_INDEX], frames[PAYLOAD_INDEX]
    if not len(head):
        return body
    codec = _small_header_codec(memoryview(head), limits)
    return body if codec is None else decompress(codec, body, limits)


def _check_fields(header: Any, index: Any, count: Any) -> None:
    """The types of a placeholder's three values (PH-3)."""
    if type(header) is not dict:
        msg = f"_$header must be a map, not {type(header).__name__}"
        raise InvalidPlaceholder(msg, requirement="PH-3")
    if not _is_count(index) or not _is_count(count):
        msg = f"_$findex and _$fcount must be non-negative integers; got {index!r}, {count!r}"
        raise InvalidPlaceholder(msg, requirement="PH-3")


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

    def __init__(self, frames: Sequence[Buffer], mode: str, limits: Limits) -> None:
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
        _check_fields(header, index, count)
        if self.resolved and self._contains_resolved(header):
            raise MisplacedPlaceholder("a placeholder stands inside a header", requirement="PH-7")
        value = self.resolve(header, index, count)
        self.resolved.add(id(value))
        return value

    def fast_hook(self, mapping: dict[Any, Any]) -> Any:
        """The object hook of the fast path: the scanner has checked keys and nesting."""
        if KEY_HEADER not in mapping:
            return mapping
        header = mapping[KEY_HEADER]
        index = mapping[KEY_FINDEX]
        count = mapping[KEY_FCOUNT]
        _check_fields(header, index, count)
        return self.resolve(header, index, count)

    def resolve(self, header: dict[Any, Any], index: int, count: int) -> Any:
        """Check a placeholder's header and frames, claim them, and build its value."""
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
        wire = [memoryview(frame) for frame in self.frames[start : start + count]]
        value: Any
        if header[HEADER_DESERIALIZE]:
            value = self._materialize(header, wire, raw=True)
        elif self.mode == FORWARDING:
            self._check_plain_lengths(header, wire)
            value = Offloaded(header, wire)
        else:
            value = self._materialize(header, wire, raw=False)
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
        if type(lengths) is not tuple or not _all_counts(lengths):
            msg = "header 'lengths' must be an array of non-negative integers"
            raise InvalidHeader(msg, requirement="HD-4")
        if HEADER_COMPRESSION in header:
            codecs = header[HEADER_COMPRESSION]
            if (
                type(codecs) is not tuple
                or len(codecs) != count
                or not _STR_OR_NONE.issuperset(map(type, codecs))
            ):
                msg = "header 'compression' must be an array of `count` str-or-nil entries"
                raise InvalidHeader(msg, requirement="HD-5")
        if count != fcount:
            msg = f"_$fcount is {fcount} but the header's count is {count}"
            raise CountMismatch(msg, requirement="PH-10")

    # -- materialising: decompress and merge (layer 6, deferred) -------------------------------

    def _materialize(self, header: dict[Any, Any], wire: Sequence[Buffer], *, raw: bool) -> Any:
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

    def _check_plain_lengths(self, header: dict[Any, Any], wire: Sequence[Buffer]) -> None:
        """Uncompressed values: `lengths` must add up, for every receiver (CP-11, layer 6)."""
        codecs = header.get(HEADER_COMPRESSION)
        if codecs is not None and codecs.count(None) != len(codecs):
            return
        total = sum(map(len, wire))  # flat byte views: len is the size in bytes
        if sum(header[HEADER_LENGTHS]) != total and self.deferred is None:
            msg = f"lengths add up to {sum(header[HEADER_LENGTHS])} bytes, the frames hold {total}"
            self.deferred = LengthMismatch(msg, requirement="CP-11")

    def _merge(self, header: dict[Any, Any], wire: Sequence[Buffer]) -> list[Buffer]:
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


#: What `_decode_fast` returns when the exact path must decide.
_NOT_VOUCHED: Final = object()


def _decode_fast(
    body: Buffer, placeholders: int, frames: Sequence[Buffer], mode: str, limits: Limits
) -> Any:
    """The message, read by msgpack's C unpacker, or `_NOT_VOUCHED` when the exact path decides.

    The scanner has vouched that the C unpacker reads `body` exactly as the exact path does
    (no float32, no ext, depth, key types and uniqueness, placeholder shape and nesting), so
    what is left is what the hook checks per placeholder. Any error sends the frames down the
    exact path, which raises the error the spec's layer order puts first (ER-3).
    """
    if not placeholders:
        if len(frames) != OFFLOAD_BASE:  # frames no placeholder claims (PH-9)
            return _NOT_VOUCHED
        try:
            return msgpack.unpackb(body, use_list=False, strict_map_key=False)
        except (ValueError, msgpack.UnpackException):
            return _NOT_VOUCHED
    state = _Decoding(frames, mode, limits)
    try:
        message = msgpack.unpackb(
            body, use_list=False, strict_map_key=False, object_hook=state.fast_hook
        )
    except (ValueError, msgpack.UnpackException):  # DaskwireError is a ValueError
        return _NOT_VOUCHED
    if type(message) is not dict and type(message) is not tuple:  # the message is a placeholder
        return _NOT_VOUCHED
    if state.claimed != len(state.claims) or state.deferred is not None:
        return _NOT_VOUCHED
    return message


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
    fast = accel.decode
    if fast is not None:
        # Compiled, in one call: layer 1, an empty frame 0, scan and build (accel.py).
        message = fast(
            frames,
            limits.max_frames,
            limits.max_frame_bytes,
            limits.max_message_bytes,
            limits.max_depth,
            mode == CONSUMING,
        )
        if message is not NotImplemented:
            return message
    scan, frames_ok, build = accel.scan, accel.frames_ok, accel.build
    if scan is not None and frames_ok is not None and build is not None:
        # Python code runs between the frame-list check and the build (a finalizer can swap a
        # frame of the caller's list, resize a bytearray or release a memoryview), so the
        # frames are held in a tuple of their own from the check to their last use, frames
        # other than bytes as views, as the exact path below holds them (WF-7).
        held = (
            tuple(frames) if all(type(f) is bytes for f in frames) else tuple(frame_views(frames))
        )
        if frames_ok(held, limits.max_frames, limits.max_frame_bytes, limits.max_message_bytes):
            body = _payload(held, limits)
            placeholders = scan(body, limits.max_depth, -1)
            if placeholders >= 0:
                message = build(body, held, mode == CONSUMING)
                if message is not NotImplemented:
                    return message
                message = _decode_fast(body, placeholders, held, mode, limits)
                if message is not _NOT_VOUCHED:
                    return message
    views = frame_views(frames)
    _check_frame_list(views, limits)
    body = _payload(views, limits)
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
