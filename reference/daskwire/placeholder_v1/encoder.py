"""The placeholder-v1 encoder: message in, canonical frame list out (spec/canonical.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgpack

from daskwire.codecs import SUPPORTED_CODECS, compress
from daskwire.errors import LimitExceeded, UnencodableValue, UnknownCodec
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer, Float32, Materialized, Offloaded
from daskwire.payload import KEY_TYPES
from daskwire.wire import frame_sizes, frame_view

from . import accel
from .constants import (
    BYTESTRING_THRESHOLD,
    DEFAULT_SHARD_SIZE,
    HEADER_COMPRESSION,
    HEADER_COUNT,
    HEADER_DESERIALIZE,
    HEADER_LENGTHS,
    KEY_FCOUNT,
    KEY_FINDEX,
    KEY_HEADER,
    REFERENCE_MAX_COMPRESS_RATIO,
    REFERENCE_MIN_COMPRESS_SIZE,
    SMALL_HEADER_COMPRESSION,
)

__all__ = ["encode"]

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
_SCALARS: Final = frozenset({type(None), bool, str, float})
_BINARY: Final = frozenset({bytes, bytearray, memoryview})
_KEY_TYPES: Final = KEY_TYPES | {memoryview}
_STR_OR_NONE: Final = frozenset({str, type(None)})
_INT: Final = frozenset({int})
_TRANSPORT: Final = frozenset(
    {HEADER_COUNT, HEADER_DESERIALIZE, HEADER_LENGTHS, HEADER_COMPRESSION}
)


#: Where a value stands: None for the message, else (where its container stands, key or index).
_Path = tuple[Any, Any] | None


def _where(path: _Path) -> str:
    """Render a path for an error message, e.g. `$['tasks'][3]`."""
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(f"[{key!r:.30}]")
    return "$" + "".join(reversed(parts))


def _key_allowed(key: Any) -> bool:
    """True when a map key is in the profile (PL-6) and its ints fit msgpack (PL-4).

    Besides the decoder's key types, a read-only `memoryview` (hashable) is a bin key here,
    as it is to msgpack's packer.
    """
    pending = [key]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is tuple:
            pending.extend(item)
        elif kind is int:
            if not _INT_MIN <= item <= _INT_MAX:
                return False
        elif kind not in _KEY_TYPES:
            return False
    return True


def _key_depth(key: tuple[Any, ...]) -> int:
    """How deep arrays nest in an array key: 1 for a flat one."""
    deepest = 1
    pending = [(key, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((inner, depth + 1) for inner in item if type(inner) is tuple)
    return deepest


def _all_counts(values: Sequence[Any]) -> bool:
    """True when every item is an int (not a bool) and none is negative."""
    return _INT.issuperset(map(type, values)) and min(values, default=0) >= 0


def _unencodable(message: str, requirement: str) -> UnencodableValue:
    return UnencodableValue(message, requirement=requirement)


class _Encoding:
    """State of one encode: the options, the offload area being built, and what was seen."""

    __slots__ = ("codec", "float32", "frames", "max_depth", "shard_size")

    def __init__(self, codec: str | None, shard_size: int, max_depth: int) -> None:
        self.codec = codec
        self.shard_size = shard_size
        self.max_depth = max_depth
        self.frames: list[Buffer] = []
        self.float32 = False

    # -- the message tree, in pre-order (CE-3) ------------------------------------------------

    def walk(self, root: Any, depth: int, *, in_header: bool, where: _Path) -> Any:
        """Return the tree to pack for `root`, validating and offloading in pre-order (CE-3).

        An explicit stack keeps deep messages off the Python call stack. Children are pushed
        in reverse, so they are visited, and their offloaded values get frames, in order.
        """
        box: list[Any] = [None]
        stack: list[tuple[Any, int, bool, _Path, Any, Any]] = [
            (root, depth, in_header, where, box, 0)
        ]
        while stack:
            value, level, header, path, target, slot = stack.pop()
            target[slot] = self.visit(value, level, header, path, stack)
        return box[0]

    def visit(
        self,
        value: Any,
        depth: int,
        in_header: bool,
        path: _Path,
        stack: list[tuple[Any, int, bool, _Path, Any, Any]],
    ) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is int:
            if not _INT_MIN <= value <= _INT_MAX:
                msg = f"{_where(path)}: integer {value} is outside [-2**63, 2**64-1]"
                raise _unencodable(msg, "CE-11")
            return value
        if kind is Float32:
            self.float32 = True
            return value
        if kind in _BINARY:
            view = frame_view(value)
            if not in_header and view.nbytes > BYTESTRING_THRESHOLD:
                return self.raw_bytestring(value, depth, path, stack)
            return value
        if kind is list or kind is tuple:
            self.check_depth(depth, path)
            items: list[Any] = [None] * len(value)
            for index in range(len(value) - 1, -1, -1):
                stack.append((value[index], depth + 1, in_header, (path, index), items, index))
            return items
        if kind is dict or isinstance(value, Mapping):
            self.check_depth(depth, path)
            if KEY_HEADER in value or KEY_FINDEX in value or KEY_FCOUNT in value:
                msg = f"{_where(path)}: a map uses a reserved key (_$header, _$findex, _$fcount)"
                raise _unencodable(msg, "PH-11")
            out: dict[Any, Any] = {}
            entries = list(value.items())
            for key, _ in entries:
                if not _key_allowed(key):
                    msg = f"{_where(path)}: map key {key!r:.40} is not allowed"
                    raise _unencodable(msg, "CE-11")
                if type(key) is tuple:
                    # An array key nests inside its map, as a decoder counts it (PL-11).
                    self.check_depth(depth + _key_depth(key), path)
            for key, item in reversed(entries):
                stack.append((item, depth + 1, in_header, (path, key), out, key))
            # Entries are assigned as they are popped, in the message's order (CE-2).
            return out
        if kind is Offloaded or kind is Materialized:
            if in_header:
                raise _unencodable(f"{_where(path)}: an offloaded value inside a header", "CE-11")
            if kind is Offloaded:
                header, frames = self.forwarded(value, path)
            else:
                header, frames = self.materialized(value, path)
            return self.placeholder(header, frames, depth, path, stack)
        msg = f"{_where(path)}: {kind.__name__} is not a msgpack value of the profile"
        raise _unencodable(msg, "CE-11")

    def check_depth(self, depth: int, path: _Path) -> None:
        if depth > self.max_depth:
            msg = f"{_where(path)}: nesting depth {depth} is over max_depth={self.max_depth}"
            raise LimitExceeded(msg, limit="max_depth", requirement="PL-11")

    # -- offloaded values -----------------------------------------------------------------------

    def placeholder(
        self,
        header: dict[Any, Any],
        frames: Sequence[Buffer],
        depth: int,
        path: _Path,
        stack: list[tuple[Any, int, bool, _Path, Any, Any]],
    ) -> dict[str, Any]:
        """The placeholder map; its header is checked when the stack reaches it (CE-4)."""
        self.check_depth(depth, path)
        index = len(self.frames)
        self.frames.extend(frames)
        out: dict[str, Any] = {KEY_HEADER: None, KEY_FINDEX: index, KEY_FCOUNT: len(frames)}
        stack.append((header, depth + 1, True, (path, KEY_HEADER), out, KEY_HEADER))
        return out

    def shards(
        self, frames: Sequence[Buffer], sizes: list[int]
    ) -> tuple[list[Buffer], list[str | None]]:
        """Split frames at the shard size (CE-7) and compress what the reference would (CP-10)."""
        size = self.shard_size
        if self.codec is None and (not sizes or max(sizes) <= size):
            return list(frames), [None] * len(sizes)
        out: list[Buffer] = []
        codecs: list[str | None] = []
        for frame, nbytes in zip(frames, sizes, strict=True):
            if nbytes <= size:
                pieces: list[Buffer] = [frame]
            else:
                view = frame_view(frame)
                pieces = [view[start : start + size] for start in range(0, nbytes, size)]
            for piece in pieces:
                packed, codec = self.maybe_compress(piece)
                out.append(packed)
                codecs.append(codec)
        return out, codecs

    def maybe_compress(self, piece: Buffer) -> tuple[Buffer, str | None]:
        codec = self.codec
        size = memoryview(piece).nbytes
        if codec is None or size < REFERENCE_MIN_COMPRESS_SIZE:
            return piece, None
        packed = compress(codec, piece)
        if len(packed) > REFERENCE_MAX_COMPRESS_RATIO * size:
            return piece, None
        return packed, codec

    def materialized(self, value: Materialized, path: _Path) -> tuple[dict[Any, Any], list[Buffer]]:
        """A value in original form gets shards, compression and fresh transport keys (CE-5)."""
        if not _TRANSPORT.isdisjoint(value.header):
            clash = [k for k in value.header if k in _TRANSPORT]
            msg = f"{_where(path)}: a Materialized header may not hold transport keys ({clash})"
            raise _unencodable(msg, "CE-13")
        sizes = frame_sizes(value.frames)
        shards, codecs = self.shards(value.frames, sizes)
        header = dict(value.header)
        header[HEADER_LENGTHS] = sizes
        header[HEADER_COMPRESSION] = codecs
        header[HEADER_COUNT] = len(shards)
        header[HEADER_DESERIALIZE] = False
        return header, shards

    def raw_bytestring(
        self,
        value: Buffer,
        depth: int,
        path: _Path,
        stack: list[tuple[Any, int, bool, _Path, Any, Any]],
    ) -> dict[str, Any]:
        """A bin over the threshold travels as a raw byte string (HD-10, CE-8)."""
        sizes = frame_sizes([value])
        shards, codecs = self.shards([value], sizes)
        header = {
            HEADER_LENGTHS: sizes,
            HEADER_COMPRESSION: codecs,
            HEADER_COUNT: len(shards),
            HEADER_DESERIALIZE: True,
        }
        return self.placeholder(header, shards, depth, path, stack)

    def forwarded(self, value: Offloaded, path: _Path) -> tuple[dict[Any, Any], Sequence[Buffer]]:
        """A value in wire form passes through; missing transport keys are filled in (CE-5)."""
        frames = value.frames
        header = dict(value.header)
        sizes = frame_sizes(frames)
        count = header.get(HEADER_COUNT, len(frames))
        if type(count) is not int or count != len(frames):
            msg = (
                f"{_where(path)}: header count {count!r:.20} differs from its {len(frames)} frames"
            )
            raise _unencodable(msg, "CE-12")
        codecs = header.get(HEADER_COMPRESSION)
        if codecs is not None and (
            type(codecs) not in (list, tuple)
            or len(codecs) != len(frames)
            or not _STR_OR_NONE.issuperset(map(type, codecs))
        ):
            msg = f"{_where(path)}: header compression must list str-or-nil for each of its frames"
            raise _unencodable(msg, "CE-12")
        compressed = codecs is not None and codecs.count(None) != len(codecs)
        if HEADER_LENGTHS in header:
            lengths = header[HEADER_LENGTHS]
            if type(lengths) not in (list, tuple) or not _all_counts(lengths):
                raise _unencodable(
                    f"{_where(path)}: header lengths must be non-negative ints", "CE-12"
                )
            if not compressed and sum(lengths) != sum(sizes):
                msg = (
                    f"{_where(path)}: lengths add up to {sum(lengths)}, "
                    f"the frames hold {sum(sizes)}"
                )
                raise _unencodable(msg, "CE-12")
        elif compressed:
            msg = f"{_where(path)}: compressed frames need 'lengths' (original sizes are unknown)"
            raise _unencodable(msg, "CE-12")
        else:
            header[HEADER_LENGTHS] = sizes
        header[HEADER_COUNT] = len(frames)
        deserialize = header.setdefault(HEADER_DESERIALIZE, False)
        if type(deserialize) is not bool:
            raise _unencodable(f"{_where(path)}: header deserialize must be a bool", "CE-12")
        return header, frames


class _NotVouched(Exception):
    """The fast path met something only the exact walk decides (see `_encode_fast`)."""


def _encode_fast(message: Any, state: _Encoding, scan: accel.Scanner, max_depth: int) -> Any:
    """Frame 1 packed by msgpack's C packer, or None when the exact walk must decide.

    The packer runs with `strict_types`, so it hands every value that is not exactly a
    msgpack type to `default`: tuples become arrays, offloaded values become placeholders,
    and anything else (Float32, subclasses, other types) ends the attempt. The scanner then
    checks what the walk checks but the packer does not: key types (CE-11, PL-6), reserved
    keys (PH-11), depth (PL-11), no offloaded value inside a header (a placeholder inside a
    placeholder) and no bin over the threshold (HD-10, which the walk offloads). Frames are
    assigned as the packer meets values, which is pre-order (CE-3). Any error, ours or
    msgpack's, ends the attempt too: the exact walk then raises the error it finds first.
    """
    made = 0

    def default(value: Any) -> Any:
        nonlocal made
        kind = type(value)
        if kind is tuple:
            return list(value)
        if kind is Offloaded:
            header, frames = state.forwarded(value, None)
        elif kind is Materialized:
            header, frames = state.materialized(value, None)
        else:
            raise _NotVouched
        made += 1
        index = len(state.frames)
        state.frames.extend(frames)
        return {KEY_HEADER: header, KEY_FINDEX: index, KEY_FCOUNT: len(frames)}

    packer = msgpack.Packer(default=default, use_bin_type=True, strict_types=True)
    try:
        body = packer.pack(message)
    except Exception:  # any error, a hostile object's too, ends the attempt: the walk decides
        return None
    if scan(body, max_depth, BYTESTRING_THRESHOLD) != made:
        return None
    return body


def _pack(tree: Any, float32: bool) -> bytes:
    """msgpack with shortest forms (CE-1); float32 values need the token-by-token packer."""
    try:
        if not float32:
            return msgpack.packb(tree, use_bin_type=True)
        return _pack_with_float32(tree)
    except (OverflowError, UnicodeEncodeError, ValueError, TypeError) as exc:
        msg = f"msgpack cannot encode the message: {exc}"
        raise _unencodable(msg, "CE-11") from exc


def _pack_with_float32(tree: Any) -> bytes:
    packer = msgpack.Packer(use_bin_type=True, autoreset=True)
    single = msgpack.Packer(use_bin_type=True, use_single_float=True, autoreset=True)
    out: list[bytes] = []
    stack: list[Any] = [tree]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            out.append(packer.pack_map_header(len(item)))
            for key, value in reversed(list(item.items())):
                stack.append(value)
                stack.append(key)
        elif kind is list or kind is tuple:
            out.append(packer.pack_array_header(len(item)))
            stack.extend(reversed(item))
        elif kind is Float32:
            out.append(single.pack(float(item)))
        else:
            out.append(packer.pack(item))
    return b"".join(out)


def encode(
    message: Any,
    *,
    compression: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Buffer]:
    """Encode a message into its canonical frame list (spec/canonical.md).

    `message` is a map or an array (a batch) of plain values, `Offloaded` values (passed
    through, CE-5) and `Materialized` values (split at `shard_size` and, with `compression`,
    compressed, CE-7/CE-8). Frames of offloaded values are returned as given or as views of
    them, never copied. Raises `UnencodableValue` for a message outside the profile,
    `LimitExceeded` for nesting deeper than `limits.max_depth`, and `UnknownCodec` for a
    `compression` it does not support (CE-14).
    """
    if compression is not None and compression not in SUPPORTED_CODECS:
        # CE-14: a codec the encoder does not support is refused, like one a decoder lacks
        msg = f"cannot compress with {compression!r}: not one of {SUPPORTED_CODECS}"
        raise UnknownCodec(msg, requirement="CE-14")
    if type(shard_size) is not int or shard_size < 1:
        msg = f"shard_size must be a positive int, not {shard_size!r}"
        raise ValueError(msg)
    kind = type(message)
    if not (kind is dict or kind is list or kind is tuple or isinstance(message, Mapping)):
        msg = f"a message is a map or an array, not {kind.__name__}"
        raise _unencodable(msg, "CE-11")
    pack = accel.pack
    if pack is not None:
        # Compiled: the common messages whole (a codec leaves Materialized values to Python).
        frames: list[Buffer] = []
        packed = pack(
            message, frames, limits.max_depth, shard_size, BYTESTRING_THRESHOLD, compression is None
        )
        if packed is not NotImplemented:
            if compression is None:
                return [b"", packed, *frames]
            state = _Encoding(compression, shard_size, limits.max_depth)
            state.frames = frames
            return _finish(state, packed)
    state = _Encoding(compression, shard_size, limits.max_depth)
    body: bytes | None = None
    scan = accel.scan
    if scan is not None:
        body = _encode_fast(message, state, scan, limits.max_depth)
        if body is None:
            state = _Encoding(compression, shard_size, limits.max_depth)
    if body is None:
        tree = state.walk(message, 1, in_header=False, where=None)
        body = _pack(tree, state.float32)
    return _finish(state, body)


def _finish(state: _Encoding, body: bytes) -> list[Buffer]:
    """Frame 0 and frame 1 (compressed as a whole if the codec pays, SH-2), then the rest."""
    small_header = b""
    if state.codec is not None:
        packed, codec = state.maybe_compress(body)
        if codec is not None:
            body = bytes(packed)
            small_header = msgpack.packb({SMALL_HEADER_COMPRESSION: codec}, use_bin_type=True)
    return [small_header, body, *state.frames]
