"""The msgpack profile of frames 0 and 1: one bounded parse that keeps float32 and checks keys."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Final

import msgpack

from .errors import (
    DaskwireError,
    InvalidMapKey,
    InvalidMsgpack,
    LimitExceeded,
    UnsupportedType,
)
from .model import Buffer, Float32

__all__ = [
    "NOT_CONTAINER",
    "NOT_PLAIN",
    "PairsHook",
    "check_key",
    "parse",
    "plain_value",
    "same_bytes",
    "shallow",
]

#: What `plain_value` returns for a frame the C parser does not read exactly.
NOT_PLAIN: Final = object()

#: Called with the (key, value) pairs of every map, innermost first; returns the map's value.
PairsHook = Callable[[list[tuple[Any, Any]]], Any]

#: Map key types of the profile (PL-6); arrays are checked element by element.
KEY_TYPES: Final = frozenset({str, bytes, int, type(None), tuple})

# First bytes of msgpack tokens (msgpack spec "formats").
_FLOAT32: Final = 0xCA
_EXT: Final = frozenset({0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8})
_MAPS: Final = frozenset({*range(0x80, 0x90), 0xDE, 0xDF})
_ARRAYS: Final = frozenset({*range(0x90, 0xA0), 0xDC, 0xDD})
#: Bytes whose presence sends a frame to the exact parser: float32 and ext markers.
_NEEDS_EXACT: Final = re.compile(rb"[\xca\xc7-\xc9\xd4-\xd8]")
#: Every byte that is not a container marker, for counting possible containers in one pass.
NOT_CONTAINER: Final = bytes(b for b in range(256) if b not in _MAPS and b not in _ARRAYS)


def _reject_ext(code: int, data: bytes) -> Any:
    msg = f"msgpack ext type {code} is not part of the profile"
    raise UnsupportedType(msg, requirement="PL-9")


def check_key(key: Any) -> bool:
    """True when a map key has a type the profile allows (PL-6): str, bin, int, nil, arrays."""
    pending = [key]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is tuple:
            pending.extend(item)
        elif kind not in KEY_TYPES:
            return False
    return True


def _depth_too_big(depth: int, max_depth: int) -> LimitExceeded:
    msg = f"nesting depth {depth} is over max_depth={max_depth}"
    return LimitExceeded(msg, limit="max_depth", requirement="PL-11")


def parse(data: Buffer, hook: PairsHook, max_depth: int) -> Any:
    """Parse exactly one msgpack value (PL-1) with `hook` building every map.

    msgpack's C parser reads float32 as a plain float, and has no depth limit of ours, so it
    only takes frames it reads exactly as the profile does: frames with no byte that could
    start a float32 or ext token and too few container headers to nest past `max_depth`,
    or else frames that `_c_parse_is_exact` vouches for. All others take the exact path,
    which walks the tokens with msgpack's own Unpacker so that float32 stays `Float32`, ext
    types are refused (PL-9) and depth is counted (PL-11).
    """
    view = memoryview(data)
    # Nesting past max_depth needs more than max_depth container headers.
    shallow = (
        view.nbytes <= max_depth or len(bytes(view).translate(None, NOT_CONTAINER)) <= max_depth
    )
    if shallow and _NEEDS_EXACT.search(view) is None:
        return _parse_fast(view, hook)
    if _c_parse_is_exact(view, None if shallow else max_depth):
        return _parse_fast(view, hook)
    return _parse_exact(view, hook, max_depth)


_LOCAL = threading.local()


def _packer() -> msgpack.Packer:
    """This thread's reusable packer of shortest forms (a Packer is not thread-safe)."""
    try:
        packer: msgpack.Packer = _LOCAL.packer
    except AttributeError:
        packer = _LOCAL.packer = msgpack.Packer(use_bin_type=True)
    return packer


def plain_value(data: Buffer, max_depth: int) -> Any:
    """The value of one msgpack frame read by the C parser alone, or `NOT_PLAIN`.

    The value is returned only when the C parser reads the frame exactly as the exact path
    would: packing it again gives the same bytes (so there is no float32, no ext type, no
    repeated map key and no non-minimal form), and it nests no deeper than `max_depth`. Maps
    are dicts, arrays tuples. Every other frame, invalid ones included, gets `NOT_PLAIN`:
    the caller then takes `parse`, which decides. Map keys come back as the C parser made
    them (str, bin, int, float, bool, nil, arrays of those); the caller checks what its
    profile allows.
    """
    view = memoryview(data)
    try:
        plain = msgpack.unpackb(
            view,
            raw=False,
            use_list=False,
            strict_map_key=False,
            ext_hook=_reject_ext,
            timestamp=1,
        )
        packed = _packer().pack(plain)
    except (ValueError, TypeError, msgpack.UnpackException):
        return NOT_PLAIN
    if not same_bytes(packed, view):
        return NOT_PLAIN
    if not shallow(packed, max_depth) and _deeper_than(plain, max_depth):
        return NOT_PLAIN
    return plain


def same_bytes(packed: bytes, view: memoryview) -> bool:
    """`packed == view`, without copying the view or comparing it item by item (a
    memoryview's own comparison is many times slower than `bytes.startswith`)."""
    return len(packed) == view.nbytes and packed.startswith(view)


def shallow(data: bytes, max_depth: int) -> bool:
    """True when `data` cannot nest deeper than `max_depth`: nesting past it needs more
    than `max_depth` container headers, so a frame with fewer such bytes is shallow (PL-11)."""
    return len(data) <= max_depth or len(data.translate(None, NOT_CONTAINER)) <= max_depth


def _c_parse_is_exact(view: memoryview, max_depth: int | None) -> bool:
    """True when the C parser reads `view` exactly: no float32, no ext, no nesting too deep.

    Bytes that look like float32 or ext markers are common inside str and bin values. The
    frame is read once without hooks and packed again: shortest forms come back byte for
    byte, while a float32 comes back as a float64 and a timestamp (read as a float here) as
    a float64 too, so equal bytes prove there was neither. Other ext types fail the read.
    Non-minimal forms also come back different and take the exact path, which is correct.
    Depth is counted only when `max_depth` is given (the frame could nest that deep).
    """
    try:
        plain = msgpack.unpackb(
            view,
            raw=False,
            use_list=False,
            strict_map_key=False,
            ext_hook=_reject_ext,
            timestamp=1,
        )
        if not same_bytes(msgpack.packb(plain, use_bin_type=True), view):
            return False
    except (ValueError, TypeError, msgpack.UnpackException):
        return False
    return max_depth is None or not _deeper_than(plain, max_depth)


def _deeper_than(value: Any, max_depth: int) -> bool:
    """True when maps and arrays (map keys included) nest deeper than `max_depth`."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        kind = type(item)
        if kind is dict:
            if depth > max_depth:
                return True
            for key, inner in item.items():
                pending.append((key, depth + 1))
                pending.append((inner, depth + 1))
        elif kind is tuple:
            if depth > max_depth:
                return True
            pending.extend((inner, depth + 1) for inner in item)
    return False


def _why(exc: Exception) -> str:
    """What msgpack's exception says, named; msgpack's FormatError says nothing, and means a
    type byte msgpack never uses (0xc1)."""
    text = str(exc) or (
        "a byte that starts no msgpack value (0xc1 is never used)"
        if isinstance(exc, msgpack.FormatError)
        else "no detail given"
    )
    return f"{exc.__class__.__name__}: {text}"


def _parse_fast(view: memoryview, hook: PairsHook) -> Any:
    try:
        return msgpack.unpackb(
            view,
            raw=False,
            use_list=False,
            strict_map_key=False,
            object_pairs_hook=hook,
            ext_hook=_reject_ext,
        )
    except DaskwireError:
        raise
    except (ValueError, msgpack.UnpackException) as exc:
        msg = f"not one well-formed msgpack value: {_why(exc)}"
        raise InvalidMsgpack(msg, requirement="PL-1") from exc


def _parse_exact(view: memoryview, hook: PairsHook, max_depth: int) -> Any:
    data = bytes(view)
    size = len(data)
    unpacker = msgpack.Unpacker(
        raw=False,
        use_list=False,
        strict_map_key=False,
        ext_hook=_reject_ext,
        max_buffer_size=max(size, 1),
    )
    unpacker.feed(data)
    # Each open container: [is_map, remaining items, items]; a map collects keys and values
    # alternately in `items` and hands pairs to the hook when complete.
    stack: list[list[Any]] = []
    result: Any = None
    try:
        while True:
            pos = unpacker.tell()
            if pos >= size:
                msg = f"msgpack value ends early, at byte {pos}"
                raise InvalidMsgpack(msg, requirement="PL-1")
            marker = data[pos]
            value: Any
            if marker in _MAPS or marker in _ARRAYS:
                if len(stack) + 1 > max_depth:
                    raise _depth_too_big(len(stack) + 1, max_depth)
                is_map = marker in _MAPS
                count = unpacker.read_map_header() if is_map else unpacker.read_array_header()
                remaining = 2 * count if is_map else count
                if remaining:
                    stack.append([is_map, remaining, []])
                    continue
                value = hook([]) if is_map else ()
            elif marker == _FLOAT32:
                value = Float32(unpacker.unpack())
            elif marker in _EXT:
                msg = f"msgpack ext type (marker 0x{marker:02x}) is not part of the profile"
                raise UnsupportedType(msg, requirement="PL-9")
            else:
                value = unpacker.unpack()
            # Attach the value to its parent, closing every container it completes.
            while True:
                if not stack:
                    result = value
                    break
                top = stack[-1]
                top[2].append(value)
                top[1] -= 1
                if top[1]:
                    break
                stack.pop()
                items = top[2]
                value = (
                    hook(list(zip(items[::2], items[1::2], strict=True)))
                    if top[0]
                    else tuple(items)
                )
            if not stack:
                break
    except DaskwireError:
        raise
    except (ValueError, msgpack.UnpackException) as exc:
        msg = f"not one well-formed msgpack value: {_why(exc)}"
        raise InvalidMsgpack(msg, requirement="PL-1") from exc
    if unpacker.tell() != size:
        msg = f"{size - unpacker.tell()} bytes follow the msgpack value"
        raise InvalidMsgpack(msg, requirement="PL-1")
    return result


def plain_pairs_hook(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A hook that builds a dict and checks key types and uniqueness (PL-6, PL-7)."""
    try:
        out = dict(pairs)
    except TypeError as exc:
        msg = "a map key is a map, which the profile does not allow"
        raise InvalidMapKey(msg, requirement="PL-6") from exc
    if len(out) != len(pairs):
        msg = "a key repeats within one map"
        raise InvalidMapKey(msg, requirement="PL-7")
    if not all(check_key(k) for k in out):
        bad = next(k for k in out if not check_key(k))
        msg = f"map key of type {type(bad).__name__} is not allowed"
        raise InvalidMapKey(msg, requirement="PL-6")
    return out
