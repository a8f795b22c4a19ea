"""The dask-2023.11 encoder: message in, canonical frame list out (canonical.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import msgpack

from daskwire.codecs import SUPPORTED_CODECS, compress
from daskwire.errors import DaskwireError, LimitExceeded, UnencodableValue, UnknownCodec
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import (
    Buffer,
    EnumValue,
    Float32,
    Materialized,
    Offloaded,
    Pickled,
    SetValue,
)
from daskwire.payload import NOT_CONTAINER
from daskwire.wire import frame_sizes, frame_view

from .constants import (
    COMPRESSION,
    DEFAULT_SHARD_SIZE,
    KEY_ENUM,
    KEY_ENUM_CLASS,
    KEY_ENUM_MODULE,
    KEY_ENUM_NAME,
    KEY_PICKLED,
    KEY_SERIALIZED,
    KEY_SET,
    KEY_SET_ITEMS,
    NUM_SUB_FRAMES,
    REFERENCE_MAX_COMPRESS_RATIO,
    REFERENCE_MIN_COMPRESS_SIZE,
    RESERVED_KEYS,
    SERIALIZED_TRANSPORT_KEYS,
    SPLIT_NUM_SUB_FRAMES,
    SPLIT_OFFSETS,
)
from .decoder import check_sub_header

__all__ = ["encode"]

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
_SCALARS: Final = frozenset({type(None), bool, str, float})
_BINARY: Final = frozenset({bytes, bytearray, memoryview})
#: Map key types of this profile (DM-2), and read-only memoryviews as bin keys.
_KEY_TYPES: Final = frozenset(
    {str, bytes, memoryview, int, float, Float32, bool, type(None), tuple}
)
_TRANSPORT: Final = frozenset(SERIALIZED_TRANSPORT_KEYS)
#: The types of a codec entry in 'compression' (DS-3).
_STR_OR_NONE: Final = frozenset({str, type(None)})
#: Values that travel as markers, which may not stand at the top level (DM-14).
_MARKED: Final = frozenset({SetValue, EnumValue, Offloaded, Materialized, Pickled})

#: Where a value stands: None for the message, else (where its container stands, key or index).
_Path = tuple[Any, Any] | None


def _where(path: _Path) -> str:
    """Render a path for an error message, e.g. `$['tasks'][3]`."""
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(f"[{key!r:.30}]")
    return "$" + "".join(reversed(parts))


def _unencodable(message: str, requirement: str) -> UnencodableValue:
    return UnencodableValue(message, requirement=requirement)


def _key_allowed(key: Any) -> bool:
    """True when a map key is one DM-2 allows and its ints fit msgpack."""
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


def _holds_float32(key: Any) -> bool:
    """True when a key, or an array key's elements at any depth, hold a float32."""
    pending = [key]
    while pending:
        item = pending.pop()
        if type(item) is Float32:
            return True
        if type(item) is tuple:
            pending.extend(item)
    return False


def _key_depth(key: Any) -> int:
    """How deep arrays nest in a key: 0 for a scalar, 1 for a flat array."""
    deepest = 0
    pending = [(key, 1)]
    while pending:
        item, depth = pending.pop()
        if type(item) is tuple:
            deepest = max(deepest, depth)
            pending.extend((inner, depth + 1) for inner in item)
    return deepest


class _Encoding:
    """State of one encode: the options, the frames after frame 0, and what was seen."""

    __slots__ = ("codec", "float32", "frames", "max_depth", "shard_size")

    def __init__(self, codec: str | None, shard_size: int, max_depth: int) -> None:
        self.codec = codec
        self.shard_size = shard_size
        self.max_depth = max_depth
        #: Frame 0's slot, then every sub-header and data frame, in marker order (DM-11).
        self.frames: list[Buffer] = [b""]
        self.float32 = False

    def walk(self, root: Any) -> Any:
        """The tree to pack for `root`, validated, with markers in place, in pre-order (DM-11).

        An explicit stack keeps deep messages off the Python call stack. Children are pushed
        in reverse, so they are visited, and their values get frames, in order.
        """
        box: list[Any] = [None]
        stack: list[tuple[Any, int, _Path, Any, Any]] = [(root, 1, None, box, 0)]
        while stack:
            value, depth, path, target, slot = stack.pop()
            target[slot] = self.visit(value, depth, path, stack)
        return box[0]

    def check_depth(self, depth: int, path: _Path) -> None:
        if depth > self.max_depth:
            msg = f"{_where(path)}: nesting depth {depth} is over max_depth={self.max_depth}"
            raise LimitExceeded(msg, limit="max_depth", requirement="DL-2")

    def visit(
        self,
        value: Any,
        depth: int,
        path: _Path,
        stack: list[tuple[Any, int, _Path, Any, Any]],
    ) -> Any:
        kind = type(value)
        if kind in _SCALARS or kind in _BINARY:
            return value
        if kind is int:
            if not _INT_MIN <= value <= _INT_MAX:
                msg = f"{_where(path)}: integer {value} is outside [-2**63, 2**64-1]"
                raise _unencodable(msg, "DM-16")
            return value
        if kind is Float32:
            self.float32 = True
            return value
        if kind is list or kind is tuple:
            self.check_depth(depth, path)
            items: list[Any] = [None] * len(value)
            for index in range(len(value) - 1, -1, -1):
                stack.append((value[index], depth + 1, (path, index), items, index))
            return items
        if kind is dict or isinstance(value, Mapping):
            return self.map(value, depth, path, stack)
        if kind is SetValue:
            return self.set_marker(value, depth, path)
        if kind is EnumValue:
            self.check_depth(depth, path)
            return {
                KEY_ENUM: True,
                KEY_ENUM_NAME: value.name,
                KEY_ENUM_MODULE: value.module,
                KEY_ENUM_CLASS: value.class_name,
            }
        if kind is Offloaded or kind is Materialized or kind is Pickled:
            self.check_depth(depth, path)
            if path is None:
                msg = "the message itself is an offloaded value; it must be a map or an array"
                raise _unencodable(msg, "DM-14")
            if kind is Materialized:
                header, frames = self.materialized(value, path)
            else:
                header, frames = self.wire_form(value, path)
            return self.index_marker(kind is Pickled, header, frames, path)
        msg = f"{_where(path)}: {kind.__name__} is not a value this profile carries"
        raise _unencodable(msg, "DM-16")

    def index_marker(
        self, pickled: bool, header: dict[Any, Any], frames: Any, path: _Path
    ) -> dict[str, int]:
        """`{"__Serialized__": i}` or `{"__Pickled__": i}`: the sub-header and data frames go
        after the frames claimed so far (DM-11)."""
        marker = KEY_PICKLED if pickled else KEY_SERIALIZED
        index = len(self.frames)
        self.frames.append(self.sub_header(header, marker, path))
        self.frames.extend(frames)
        return {marker: index}

    def map(
        self,
        value: Mapping[Any, Any],
        depth: int,
        path: _Path,
        stack: list[tuple[Any, int, _Path, Any, Any]],
    ) -> dict[Any, Any]:
        self.check_depth(depth, path)
        entries = list(value.items())
        for key, _ in entries:
            if type(key) is str and key in RESERVED_KEYS:
                msg = f"{_where(path)}: a map uses the reserved key {key!r}"
                raise _unencodable(msg, "DM-15")
            if not _key_allowed(key):
                msg = f"{_where(path)}: map key {key!r:.40} is not allowed"
                raise _unencodable(msg, "DM-2")
            if type(key) is tuple:
                # An array key nests inside its map, as a decoder counts it (DL-2).
                self.check_depth(depth + _key_depth(key), path)
            if _holds_float32(key):
                self.float32 = True
        out: dict[Any, Any] = {}
        for key, item in reversed(entries):
            stack.append((item, depth + 1, (path, key), out, key))
        # Entries are assigned as they are popped, in the message's order.
        return out

    def set_marker(self, value: SetValue, depth: int, path: _Path) -> dict[str, Any]:
        """`{"__Set__": true, "as-list": [...]}` (DM-12): elements are allowed keys, distinct."""
        self.check_depth(depth + 1, path)
        items = value.items
        if not all(_key_allowed(item) for item in items):
            msg = f"{_where(path)}: a set element is not a value DM-2 allows as a map key"
            raise _unencodable(msg, "DM-12")
        if len(set(items)) != len(items):
            msg = f"{_where(path)}: a set holds one element twice"
            raise _unencodable(msg, "DM-12")
        for item in items:
            self.check_depth(depth + 1 + _key_depth(item), path)
            if _holds_float32(item):
                self.float32 = True
        return {KEY_SET: True, KEY_SET_ITEMS: list(items)}

    # -- offloaded values ---------------------------------------------------------------------

    def sub_header(self, header: dict[Any, Any], marker: str, path: _Path) -> bytes:
        """A sub-header's bytes in shortest forms (DC-1), checked by the decoder's own rules
        (DS-1 .. DS-9), so that the encoder never writes one a decoder refuses."""
        data = _pack_header_fast(header)
        if data is None:
            sub = _Encoding(None, self.shard_size, self.max_depth)
            data = _pack(sub.walk_header(header, path), sub.float32)
        try:
            check_sub_header(memoryview(data), marker, self.max_depth)
        except LimitExceeded:
            raise
        except DaskwireError as exc:
            msg = f"{_where(path)}: the sub-header would not decode: {exc}"
            raise _unencodable(msg, exc.requirement or "DS-1") from exc
        return data

    def walk_header(self, header: dict[Any, Any], path: _Path) -> Any:
        """Validate a sub-header's values (DM-2) as a tree to pack; markers in it are kept
        as the caller wrote them, as plain maps (DS-9): the decoder checks them."""
        box: list[Any] = [None]
        stack: list[tuple[Any, int, _Path, Any, Any]] = [(header, 1, path, box, 0)]
        while stack:
            value, depth, where, target, slot = stack.pop()
            kind = type(value)
            if kind is dict or isinstance(value, Mapping):
                self.check_depth(depth, where)
                entries = list(value.items())
                for key, _ in entries:
                    if not _key_allowed(key):
                        msg = f"{_where(where)}: header key {key!r:.40} is not allowed"
                        raise _unencodable(msg, "DM-2")
                    if type(key) is tuple:
                        # An array key nests inside its map, as a decoder counts it (DL-2).
                        self.check_depth(depth + _key_depth(key), where)
                    if _holds_float32(key):
                        self.float32 = True
                out: dict[Any, Any] = {}
                for key, item in reversed(entries):
                    stack.append((item, depth + 1, (where, key), out, key))
                target[slot] = out
            elif kind in (SetValue, EnumValue, Offloaded, Materialized, Pickled):
                msg = f"{_where(where)}: a {kind.__name__} inside a sub-header"
                raise _unencodable(msg, "DS-9")
            else:
                target[slot] = self.visit(value, depth, where, stack)
        return box[0]

    def wire_form(self, value: Offloaded | Pickled, path: _Path) -> tuple[dict[Any, Any], Any]:
        """A value in wire form is re-sent as given, with `num-sub-frames` set (DR-3)."""
        header = dict(value.header)
        frames = value.frames
        codecs: Any = header.get(COMPRESSION)
        if COMPRESSION in header and (
            type(codecs) not in (list, tuple)
            or len(codecs) != len(frames)
            or not _STR_OR_NONE.issuperset(map(type, codecs))
        ):
            msg = f"{_where(path)}: 'compression' must list str-or-nil for each of its frames"
            raise _unencodable(msg, "DS-3")
        header[NUM_SUB_FRAMES] = len(frames)
        return header, frames

    def materialized(self, value: Materialized, path: _Path) -> tuple[dict[Any, Any], Any]:
        """A value in original form gets shards, compression and fresh transport keys (DC-2)."""
        if not _TRANSPORT.isdisjoint(value.header):
            clash = [k for k in value.header if k in _TRANSPORT]
            msg = f"{_where(path)}: a Materialized header may not hold transport keys ({clash})"
            raise _unencodable(msg, "DS-5")
        size = self.shard_size
        shards: list[Buffer] = []
        codecs: list[str | None] = []
        counts: list[int] = []
        offsets: list[int] = []
        for frame, nbytes in zip(value.frames, frame_sizes(value.frames), strict=True):
            offsets.append(len(shards))
            if nbytes <= size:
                pieces: list[Buffer] = [frame]
            else:
                view = frame_view(frame)
                pieces = [view[start : start + size] for start in range(0, nbytes, size)]
            counts.append(len(pieces))
            for piece in pieces:
                packed, codec = self.maybe_compress(piece)
                shards.append(packed)
                codecs.append(codec)
        header = dict(value.header)
        header[SPLIT_NUM_SUB_FRAMES] = counts
        header[SPLIT_OFFSETS] = offsets
        header[COMPRESSION] = codecs
        header[NUM_SUB_FRAMES] = len(shards)
        return header, shards

    def maybe_compress(self, piece: Buffer) -> tuple[Buffer, str | None]:
        """The reference's informative choice: compress a large shard when it pays (DC-2)."""
        codec = self.codec
        size = memoryview(piece).nbytes
        if codec is None or size < REFERENCE_MIN_COMPRESS_SIZE:
            return piece, None
        packed = compress(codec, piece)
        if len(packed) > REFERENCE_MAX_COMPRESS_RATIO * size:
            return piece, None
        return packed, codec


def _header_default(value: Any) -> Any:
    """msgpack's `default` for a sub-header: arrays only; anything else is the walk's to judge."""
    if type(value) is tuple:
        return list(value)
    raise _NotVouched


def _pack_header_fast(header: dict[Any, Any]) -> bytes | None:
    """A sub-header packed by msgpack's C packer with `strict_types`, or None when it holds
    anything but plain msgpack types and tuples (a float32, a model value, a subclass, a
    value msgpack refuses): the walk then decides. The decoder's own check of the bytes
    (`check_sub_header`) follows either way, so this path needs to vouch for nothing else."""
    try:
        packed: bytes = msgpack.Packer(
            default=_header_default, use_bin_type=True, strict_types=True
        ).pack(header)
    except Exception:  # any error, a hostile object's too, ends the attempt: the walk decides
        return None
    return packed


def _pack(tree: Any, float32: bool) -> bytes:
    """msgpack with shortest forms (DC-1); float32 values are written token by token."""
    try:
        if not float32:
            return msgpack.packb(tree, use_bin_type=True)
        packer = msgpack.Packer(use_bin_type=True, autoreset=True)
        single = msgpack.Packer(use_bin_type=True, use_single_float=True, autoreset=True)
        out: list[bytes] = []
        pending: list[Any] = [tree]
        while pending:
            item = pending.pop()
            kind = type(item)
            if kind is dict:
                out.append(packer.pack_map_header(len(item)))
                for pair in reversed(list(item.items())):
                    pending.extend(reversed(pair))
            elif kind is list or kind is tuple:
                out.append(packer.pack_array_header(len(item)))
                pending.extend(reversed(item))
            else:
                out.append((single if kind is Float32 else packer).pack(item))
        return b"".join(out)
    except (OverflowError, UnicodeEncodeError, ValueError, TypeError) as exc:
        msg = f"msgpack cannot encode the message: {exc}"
        raise _unencodable(msg, "DM-16") from exc


def encode(
    message: Any,
    *,
    compression: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Buffer]:
    """Encode a message into its canonical dask-2023.11 frame list (canonical.md).

    `message` is a map, an array (a batch) or a bare reply (DM-3), made of plain values,
    `SetValue` and `EnumValue` (inline markers), `Offloaded` and `Pickled` values (re-sent in
    wire form, DR-3) and `Materialized` values (split at `shard_size` and, with
    `compression`, compressed where it pays, DC-2). Frames of offloaded values are returned
    as given or as views of them, never copied. Raises `UnencodableValue` for a message
    outside the profile (a user map with a reserved key, DM-15; a value it cannot carry,
    DM-16), `LimitExceeded` for nesting deeper than `limits.max_depth`, and `UnknownCodec`
    for a `compression` it lacks.
    """
    if compression is not None and compression not in SUPPORTED_CODECS:
        msg = f"cannot compress with {compression!r}: not one of {SUPPORTED_CODECS}"
        raise UnknownCodec(msg, requirement="CE-14")
    if type(shard_size) is not int or shard_size < 1:
        msg = f"shard_size must be a positive int, not {shard_size!r}"
        raise ValueError(msg)
    kind = type(message)
    if kind in _MARKED:
        msg = f"the message itself is a {kind.__name__}; markers stand inside a map or an array"
        raise _unencodable(msg, "DM-14")
    state = _Encoding(compression, shard_size, limits.max_depth)
    body = _encode_fast(message, state)
    if body is None:
        state = _Encoding(compression, shard_size, limits.max_depth)
        tree = state.walk(message)
        body = _pack(tree, state.float32)
    state.frames[0] = body
    return state.frames


class _NotVouched(Exception):
    """The fast path met something only the exact walk decides (see `_encode_fast`)."""


#: The msgpack str token of each reserved key, as it stands in frame 0 (DM-4).
_RESERVED_TOKENS: Final = {key: msgpack.packb(key) for key in RESERVED_KEYS}
#: Any reserved key's token. No token overlaps another (each starts with a non-ASCII str
#: header byte, and the rest is ASCII), so the matches are each token's occurrences.
_RESERVED_TOKEN: Final = re.compile(b"|".join(map(re.escape, _RESERVED_TOKENS.values())))


def _encode_fast(message: Any, state: _Encoding) -> bytes | None:
    """Frame 0 packed by msgpack's C packer, or None when the exact walk must decide.

    The packer runs with `strict_types`, so every value that is not exactly a msgpack type
    reaches `default`: tuples become arrays, offloaded and pickled values become index
    markers (their sub-headers and frames appended, in the packer's pre-order, DM-11), and
    anything else (a set or enum value, a float32, a subclass, another type) ends the
    attempt. Then what the packer does not
    check: a reserved key in a user map (DM-15) shows as more reserved-key tokens than the
    markers made, and nesting past `max_depth` needs more container headers than that. Any
    doubt, and any error, ends the attempt: the exact walk then raises the error it finds.
    """
    made: list[bytes] = []
    depth = state.max_depth

    def default(value: Any) -> Any:
        kind = type(value)
        if kind is tuple:
            return list(value)
        if kind is Offloaded or kind is Pickled:
            header, frames = state.wire_form(value, None)
        elif kind is Materialized:
            header, frames = state.materialized(value, None)
        else:
            # Sets and enums are hashable, so they may stand in a map key, where `default` is
            # called too and cannot tell: the walk, which can, writes them (DM-2, DM-14).
            raise _NotVouched
        made.append(_RESERVED_TOKENS[KEY_PICKLED if kind is Pickled else KEY_SERIALIZED])
        return state.index_marker(kind is Pickled, header, frames, None)

    if type(message) in _MARKED:
        return None
    try:
        body: bytes = msgpack.Packer(default=default, use_bin_type=True, strict_types=True).pack(
            message
        )
    except Exception:  # any error, a hostile object's too, ends the attempt: the walk decides
        return None
    if b"__" in body and sorted(_RESERVED_TOKEN.findall(body)) != sorted(made):
        return None
    if len(body) > depth and len(body.translate(None, NOT_CONTAINER)) > depth:
        return None
    return body
