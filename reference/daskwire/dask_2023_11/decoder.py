"""The dask-2023.11 decoder: frames in, the message with every marker resolved out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from typing import Any, Final, Literal, NamedTuple

import msgpack

from daskwire import payload
from daskwire.codecs import decompress
from daskwire.constants import PRELUDE_INT_BYTES
from daskwire.errors import (
    DaskwireError,
    FrameOutOfRange,
    InvalidHeader,
    InvalidMapKey,
    InvalidMarker,
    LimitExceeded,
    OverlappingFrames,
    TooFewFrames,
)
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Buffer, EnumValue, Float32, Materialized, Offloaded, Pickled, SetValue
from daskwire.wire import frame_views

from .constants import (
    COMPRESSION,
    INDEX_KEYS,
    KEY_ENUM,
    KEY_ENUM_CLASS,
    KEY_ENUM_MODULE,
    KEY_ENUM_NAME,
    KEY_INLINE_DATA,
    KEY_PICKLED,
    KEY_SERIALIZED,
    KEY_SET,
    KEY_SET_ITEMS,
    MESSAGE_INDEX,
    MIN_FRAMES,
    NUM_SUB_FRAMES,
    PICKLED_OBJ,
    RESERVED_KEYS,
    SERIALIZED_TRANSPORT_KEYS,
    SPLIT_NUM_SUB_FRAMES,
    SPLIT_OFFSETS,
)

__all__ = ["CONSUMING", "FORWARDING", "Mode", "check_sub_header", "decode"]

#: A receiver mode (spec/dask-2023.11/receivers.md).
Mode = Literal["forwarding", "consuming"]
#: Keeps sub-headers and data frames as on the wire (DR-1).
FORWARDING: Final = "forwarding"
#: Decompresses and merges data frames, and drops transport keys (DR-4).
CONSUMING: Final = "consuming"

#: Map key types of this profile (DM-2); arrays are checked element by element.
_KEY_TYPES: Final = frozenset({str, bytes, int, float, Float32, bool, type(None), tuple})
_ENUM_KEYS: Final = frozenset({KEY_ENUM, KEY_ENUM_NAME, KEY_ENUM_MODULE, KEY_ENUM_CLASS})
_TRANSPORT: Final = frozenset(SERIALIZED_TRANSPORT_KEYS)
_STR_OR_NONE: Final = frozenset({str, type(None)})
_CONTAINERS: Final = frozenset({dict, tuple})
_INTS: Final = frozenset({int})


@dataclass(frozen=True, slots=True, eq=False)
class _Index:
    """An index marker met in frame 0, until its frames are resolved (DM-6)."""

    key: str
    index: int


def _key_allowed(key: Any) -> bool:
    """True when a map key has a type DM-2 allows: a scalar, or an array of allowed keys."""
    pending = [key]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is tuple:
            pending.extend(item)
        elif kind not in _KEY_TYPES:
            return False
    return True


def _plain_map(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map whose keys DM-2 allows, none repeated (a Python dict's equality, PL-7)."""
    try:
        out = dict(pairs)
    except TypeError as exc:
        msg = "a map key is a map, which this profile does not allow"
        raise InvalidMapKey(msg, requirement="DM-2") from exc
    if len(out) != len(pairs):
        msg = "a key repeats within one map"
        raise InvalidMapKey(msg, requirement="DM-2")
    for key in out:
        if not _key_allowed(key):
            msg = f"map key of type {type(key).__name__} is not allowed"
            raise InvalidMapKey(msg, requirement="DM-2")
    return out


def _reserved(out: dict[Any, Any]) -> list[str]:
    """The reserved str keys a map has (DM-4), in a fixed order."""
    return [key for key in (KEY_SERIALIZED, KEY_PICKLED, KEY_SET, KEY_ENUM) if key in out]


def _set_marker(out: dict[Any, Any], requirement: str) -> SetValue:
    """A well-formed set marker's value (DM-12), or `InvalidMarker`."""
    items = out.get(KEY_SET_ITEMS)
    if (
        len(out) != 2
        or out[KEY_SET] is not True
        or type(items) is not tuple
        or not all(_key_allowed(item) for item in items)
    ):
        msg = "a __Set__ map is not exactly {'__Set__': true, 'as-list': [allowed keys]}"
        raise InvalidMarker(msg, requirement=requirement)
    if len(set(items)) != len(items):
        msg = "a set marker's 'as-list' holds one element twice"
        raise InvalidMarker(msg, requirement=requirement)
    return SetValue(items)


def _enum_marker(out: dict[Any, Any], requirement: str) -> EnumValue:
    """A well-formed enum marker's value (DM-13), or `InvalidMarker`. Nothing is imported."""
    if (
        out.keys() != _ENUM_KEYS
        or out[KEY_ENUM] is not True
        or not all(type(out[key]) is str for key in _ENUM_KEYS - {KEY_ENUM})
    ):
        msg = "an __Enum__ map is not exactly {'__Enum__': true, 'name', '__module__', '__name__'}"
        raise InvalidMarker(msg, requirement=requirement)
    return EnumValue(out[KEY_ENUM_MODULE], out[KEY_ENUM_CLASS], out[KEY_ENUM_NAME])


def _frame0_hook(markers: list[_Index], pairs: list[tuple[Any, Any]]) -> Any:
    """Build a map of frame 0, turning each marker occurrence into its value (DM-4 .. DM-13)."""
    out = _plain_map(pairs)
    if RESERVED_KEYS.isdisjoint(out):
        return out
    return _marker(out, markers)


def _marker(out: dict[Any, Any], markers: list[_Index]) -> Any:
    """The value of a map of frame 0 that holds a reserved key, or `InvalidMarker`
    (DM-5, DM-6, DM-12, DM-13); an index marker is also added to `markers`."""
    present = _reserved(out)
    if len(present) > 1:
        msg = f"a map holds more than one reserved key: {present}"
        raise InvalidMarker(msg, requirement="DM-5")
    key = present[0]
    if key in INDEX_KEYS:
        index = out[key]
        if len(out) != 1 or type(index) is not int or index < 1:
            msg = f"{{{key!r}: ...}} is not an index marker: one entry, an integer 1 or more"
            raise InvalidMarker(msg, requirement="DM-6")
        marker = _Index(key, index)
        markers.append(marker)
        return marker
    if key == KEY_SET:
        return _set_marker(out, "DM-12")
    return _enum_marker(out, "DM-13")


def _serialized_hook(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """Build a map of a `__Serialized__` sub-header: markers are checked, kept as maps (DS-9)."""
    out = _plain_map(pairs)
    if RESERVED_KEYS.isdisjoint(out):
        return out
    present = _reserved(out)
    if len(present) > 1:
        msg = f"a map in a sub-header holds more than one reserved key: {present}"
        raise InvalidMarker(msg, requirement="DS-9")
    key = present[0]
    if key == KEY_SET:
        _set_marker(out, "DS-9")
    elif key == KEY_ENUM:
        _enum_marker(out, "DS-9")
    elif key == KEY_PICKLED or not _inline_ok(out):
        msg = f"{{{key!r}: ...}} in a sub-header is not a set, enum or inline serialized value"
        raise InvalidMarker(msg, requirement="DS-9")
    return out


def _inline_ok(out: dict[Any, Any]) -> bool:
    """True for `{"__Serialized__": true, "data": [header map, [bin, ...]]}` (DS-9)."""
    data = out.get(KEY_INLINE_DATA)
    return (
        len(out) == 2
        and out[KEY_SERIALIZED] is True
        and type(data) is tuple
        and len(data) == 2
        and type(data[0]) is dict
        and type(data[1]) is tuple
        and all(type(frame) is bytes for frame in data[1])
    )


def _pickled_hook(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """Build a map of a `__Pickled__` sub-header: str keys only (DS-7), no markers (DS-9)."""
    out = _plain_map(pairs)
    for key in out:
        if type(key) is not str:
            msg = f"a __Pickled__ sub-header has a {type(key).__name__} key; keys are str"
            raise InvalidMapKey(msg, requirement="DS-7")
    if not RESERVED_KEYS.isdisjoint(out):
        msg = f"a __Pickled__ sub-header holds a reserved key: {_reserved(out)}"
        raise InvalidMarker(msg, requirement="DS-9")
    return out


#: The shared msgpack reader cites placeholder-v1's rules; this profile's say the same.
_OWN_IDS: Final = {"PL-9": "DM-2", "PL-11": "DL-2"}


def _cite(exc: DaskwireError, well_formed: str) -> None:
    """Point an error of the shared msgpack reader at this profile's requirement."""
    if exc.requirement == "PL-1":
        exc.requirement = well_formed
    elif exc.requirement in _OWN_IDS:
        exc.requirement = _OWN_IDS[exc.requirement]


def _str_keys_only(value: Any) -> bool:
    """True when every map in a plain value has str keys only (DS-7)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            if not all(type(k) is str for k in item):
                return False
            pending.extend(item.values())
        elif type(item) is tuple:
            pending.extend(item)
    return True


def _counts(value: Any) -> bool:
    """True for an array of non-negative ints (not bools)."""
    return (
        type(value) is tuple and _INTS.issuperset(map(type, value)) and min(value, default=0) >= 0
    )


#: `dict.get`'s answer for a key the map lacks: no decoded value is this object.
_ABSENT: Final = object()


@dataclass(frozen=True, slots=True)
class _SubHeader:
    """A checked sub-header: the map, its data frame count, codecs and split runs."""

    header: dict[Any, Any]
    count: int
    codecs: tuple[str | None, ...] | None
    runs: tuple[tuple[int, int], ...] | None


def check_sub_header(frame: memoryview, key: str, max_depth: int) -> _SubHeader:
    """Read and check the sub-header of the index marker `key` (DS-1 .. DS-9)."""
    pickled = key == KEY_PICKLED
    header = payload.plain_value(frame, max_depth)
    if (
        header is payload.NOT_PLAIN
        or _MAYBE_RESERVED.search(frame) is not None
        or (pickled and not _str_keys_only(header))
    ):
        # the exact path decides, and checks markers inside (DS-9) and key types (DS-7)
        hook = _pickled_hook if pickled else _serialized_hook
        try:
            header = payload.parse(frame, hook, max_depth)
        except DaskwireError as exc:
            _cite(exc, "DS-1")
            raise
    if type(header) is not dict:
        msg = f"a sub-header is a {type(header).__name__}, not a map"
        raise InvalidHeader(msg, requirement="DS-1")
    if not pickled and not RESERVED_KEYS.isdisjoint(header):
        msg = f"a sub-header is itself a marker map: {_reserved(header)}"
        raise InvalidMarker(msg, requirement="DS-9")
    count = header.get(NUM_SUB_FRAMES)
    if type(count) is not int or count < 0:
        msg = f"'num-sub-frames' must be a non-negative integer, not {count!r:.40}"
        raise InvalidHeader(msg, requirement="DS-2")
    codecs = header.get(COMPRESSION, _ABSENT)
    if codecs is _ABSENT:
        codecs = None
    elif (
        type(codecs) is not tuple
        or len(codecs) != count
        or not _STR_OR_NONE.issuperset(map(type, codecs))
    ):
        msg = f"'compression' must list a codec name or nil for each of the {count} data frames"
        raise InvalidHeader(msg, requirement="DS-3")
    if pickled:
        if type(header.get(PICKLED_OBJ)) is not bytes:
            msg = "a __Pickled__ sub-header needs 'pickled-obj', a bin"
            raise InvalidHeader(msg, requirement="DS-6")
        return _SubHeader(header, count, codecs, None)
    return _SubHeader(header, count, codecs, _split_runs(header, count))


def _split_runs(header: dict[Any, Any], count: int) -> tuple[tuple[int, int], ...] | None:
    """The (offset, shards) run of each original frame, or None without split keys (DS-4)."""
    counts: Any = header.get(SPLIT_NUM_SUB_FRAMES, _ABSENT)
    offsets: Any = header.get(SPLIT_OFFSETS, _ABSENT)
    if counts is _ABSENT and offsets is _ABSENT:
        return None
    if type(counts) is not tuple or type(offsets) is not tuple or not _counts(counts + offsets):
        msg = "'split-num-sub-frames' and 'split-offsets' go together, as arrays of counts"
        raise InvalidHeader(msg, requirement="DS-4")
    if len(counts) != len(offsets):
        msg = f"{len(counts)} split counts but {len(offsets)} split offsets"
        raise InvalidHeader(msg, requirement="DS-4")
    # Runs are consecutive from 0: each offset is the sum of the counts before it.
    starts = tuple(accumulate(counts, initial=0))
    if starts[:-1] != offsets:
        offset, start = next(p for p in zip(offsets, starts[:-1], strict=True) if p[0] != p[1])
        msg = f"split offset {offset} should be {start}: runs are consecutive, from 0"
        raise InvalidHeader(msg, requirement="DS-4")
    if starts[-1] != count:
        msg = f"the split runs hold {starts[-1]} data frames, 'num-sub-frames' says {count}"
        raise InvalidHeader(msg, requirement="DS-4")
    return tuple(zip(offsets, counts, strict=True))


def _check_frame_list(views: Sequence[memoryview], limits: Limits) -> None:
    """Layer 1: frame count and sizes (DT-2, DL-1)."""
    count = len(views)
    if count > limits.max_frames:
        msg = f"{count} frames, over max_frames={limits.max_frames}"
        raise LimitExceeded(msg, limit="max_frames", requirement="DL-1")
    if count < MIN_FRAMES:
        msg = "no frames; a message has at least frame 0"
        raise TooFewFrames(msg, requirement="DT-2")
    sizes = list(map(len, views))  # flat byte views: len is the size in bytes
    if max(sizes) > limits.max_frame_bytes:
        index, size = next((i, n) for i, n in enumerate(sizes) if n > limits.max_frame_bytes)
        msg = f"frame {index} has {size} bytes, over max_frame_bytes={limits.max_frame_bytes}"
        raise LimitExceeded(msg, limit="max_frame_bytes", requirement="DL-1")
    # The message on a stream: read hint, frame count, lengths and frames (DL-1).
    total = PRELUDE_INT_BYTES * (count + 2) + sum(sizes)
    if total > limits.max_message_bytes:
        msg = f"message has {total} bytes, over max_message_bytes={limits.max_message_bytes}"
        raise LimitExceeded(msg, limit="max_message_bytes", requirement="DL-1")


def _claim(views: Sequence[memoryview], markers: list[_Index], limits: Limits) -> dict[int, Any]:
    """Layer 3: each index marker's sub-header and frames, in the order of their indices.

    Returns, for each marker's id, its checked sub-header and data frames.
    """
    count = len(views)
    claimed = bytearray(count)
    out: dict[int, Any] = {}
    for marker in sorted(markers, key=lambda m: m.index):
        index = marker.index
        if index > count - 1:
            msg = f"marker index {index} is past the last frame, {count - 1}"
            raise FrameOutOfRange(msg, requirement="DM-7")
        sub = check_sub_header(views[index], marker.key, limits.max_depth)
        end = index + sub.count
        if end > count - 1:
            msg = f"frames {index}..{end} of a marker run past the last frame, {count - 1}"
            raise FrameOutOfRange(msg, requirement="DM-7")
        if claimed.find(1, index, end + 1) != -1:
            msg = f"frame {claimed.index(1, index, end + 1)} is claimed by two markers"
            raise OverlappingFrames(msg, requirement="DM-8")
        claimed[index : end + 1] = b"\x01" * (end + 1 - index)
        out[id(marker)] = (sub, views[index + 1 : end + 1])
    return out


def _materialize(sub: _SubHeader, frames: Sequence[memoryview], limits: Limits) -> Materialized:
    """Layer 4: a `__Serialized__` value in original form (DR-4)."""
    codecs = sub.codecs
    plain: list[Buffer] = list(frames)
    if codecs is not None:
        for k, codec in enumerate(codecs):
            if codec is not None:
                plain[k] = decompress(codec, frames[k], limits)
    if sub.runs is not None:
        merged: list[Buffer] = []
        for offset, shards in sub.runs:
            run = plain[offset : offset + shards]
            if shards == 1:
                merged.append(run[0])
                continue
            size = sum(memoryview(piece).nbytes for piece in run)
            if size > limits.max_decompressed_bytes:
                msg = (
                    f"shards merge into {size} bytes, over "
                    f"max_decompressed_bytes={limits.max_decompressed_bytes}"
                )
                raise LimitExceeded(msg, limit="max_decompressed_bytes", requirement="DL-4")
            merged.append(b"".join(run))
        plain = merged
    keys = {key: value for key, value in sub.header.items() if key not in _TRANSPORT}
    return Materialized(keys, plain)


def _resolve(root: Any, values: dict[int, Any]) -> Any:
    """The message with each `_Index` replaced by its value; maps are changed in place and
    arrays that hold one rebuilt. An explicit stack keeps deep messages off the call stack."""
    box: list[Any] = [root]
    stack: list[tuple[Any, Any]] = [(box, 0)]
    arrays: list[tuple[Any, Any]] = []
    while stack:
        parent, slot = stack.pop()
        value = parent[slot]
        kind = type(value)
        if kind is _Index:
            parent[slot] = values[id(value)]
        elif kind is dict:
            stack.extend((value, key) for key in value)
        elif kind is tuple and value:
            items = list(value)
            parent[slot] = items
            arrays.append((parent, slot))
            stack.extend((items, i) for i in range(len(items)))
    for parent, slot in reversed(arrays):
        parent[slot] = tuple(parent[slot])
    return box[0]


#: Every reserved key starts with two underscores: a frame without them holds no marker.
_MAYBE_RESERVED: Final = re.compile(rb"__")


@dataclass(slots=True)
class _Site:
    """A marker map met in a plain frame 0: where it stands, its value, and its depth."""

    parent: Any
    slot: Any
    value: Any
    depth: int


def _marker_sites(root: Any, markers: list[_Index]) -> list[_Site]:
    """The marker maps of a plain frame 0, each checked and turned into its value by the
    rules of `_frame0_hook` (DM-4 .. DM-13), top-level one first. Arrays on the way to a
    marker are found again through the parents of the sites (`_place`)."""
    sites: list[_Site] = []
    stack: list[tuple[Any, Any, Any, int]] = [(root, None, None, 0)]
    while stack:
        node, parent, slot, depth = stack.pop()
        if type(node) is dict:
            if not RESERVED_KEYS.isdisjoint(node):
                value = _marker(node, markers)
                sites.append(_Site(parent, slot, value, depth))
                continue
            stack.extend((v, node, k, depth + 1) for k, v in node.items() if type(v) in _CONTAINERS)
        elif type(node) is tuple:
            stack.extend(
                (v, (node, parent, slot), i, depth + 1)
                for i, v in enumerate(node)
                if type(v) in _CONTAINERS
            )
    sites.sort(key=lambda site: site.depth)
    return sites


def _place(root: Any, sites: list[_Site], values: dict[int, Any]) -> Any:
    """The message with each marker site's value in place: index markers resolved by
    `values`, maps changed in place, and only the arrays that hold a marker rebuilt."""
    box = [root]
    # An array is rebuilt once: a list of its items, kept by the array's id until the end.
    rebuilt: dict[int, tuple[list[Any], Any, Any]] = {}
    order: list[tuple[int, int]] = []

    def put(parent: Any, slot: Any, value: Any, depth: int) -> None:
        if parent is None:
            box[0] = value
        elif type(parent) is dict:
            parent[slot] = value
        else:
            array, above, where = parent
            entry = rebuilt.get(id(array))
            if entry is None:
                entry = rebuilt[id(array)] = (list(array), above, where)
                order.append((depth - 1, id(array)))
            entry[0][slot] = value

    for site in sites:
        value = site.value
        if type(value) is _Index:
            value = values[id(value)]
        put(site.parent, site.slot, value, site.depth)
    # deepest arrays first, so that each array takes its rebuilt children before it is built
    while order:
        order.sort()
        depth, key = order.pop()
        items, above, where = rebuilt.pop(key)
        put(above, where, tuple(items), depth)
    return box[0]


def decode(
    frames: Sequence[Buffer],
    *,
    mode: Mode = "forwarding",
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """Decode one dask-2023.11 message's frames (spec/dask-2023.11/receivers.md).

    The message is a map, an array (a batch) or a bare reply such as `"OK"` (DM-3). Set
    and enum markers become `SetValue` and `EnumValue`; `__Pickled__` markers become
    `Pickled` values in wire form in both modes (DR-2); `__Serialized__` markers become
    `Offloaded(sub-header, data frames)` with `mode="forwarding"` (DR-1) and
    `Materialized(serializer keys, original frames)` with `mode="consuming"` (DR-4).
    Sub-headers are kept as decoded, markers inside them included. Frames no marker claims
    are dropped (DM-10). Any violation raises a `DaskwireError` subclass; checks run in the
    layer order of DE-2. Nothing is ever unpickled or imported (DP-1).
    """
    if mode not in (FORWARDING, CONSUMING):
        msg = f"mode must be {FORWARDING!r} or {CONSUMING!r}, not {mode!r}"
        raise ValueError(msg)
    views = frame_views(frames)
    _check_frame_list(views, limits)
    frame0 = views[MESSAGE_INDEX]
    maybe_markers = _MAYBE_RESERVED.search(frame0) is not None
    if maybe_markers:
        fast = _index_markers_fast(frame0, mode, limits.max_depth)
        if fast is not None:
            return _fill(views, *fast, mode, limits)
    markers: list[_Index] = []
    plain = payload.plain_value(frame0, limits.max_depth)
    sites: list[_Site] = []
    if plain is payload.NOT_PLAIN:
        # the exact path decides: float32, ext types, repeated keys, errors (DM-1, DM-2)
        try:
            message = payload.parse(frame0, partial(_frame0_hook, markers), limits.max_depth)
        except DaskwireError as exc:
            _cite(exc, "DM-1")
            raise
    else:
        message = plain
        if maybe_markers:
            sites = _marker_sites(plain, markers)
            if sites and sites[0].parent is None:
                message = sites[0].value
    kind = type(message)
    if kind is _Index or kind is SetValue or kind is EnumValue:
        raise _marker_message()
    if not markers:  # a bare reply (DM-3) holds none either
        return _place(message, sites, {}) if sites else message
    claims = _claim(views, markers, limits)
    values: dict[int, Any] = {}
    for marker in sorted(markers, key=_by_index):
        sub, data = claims[id(marker)]
        values[id(marker)] = _value(marker.key, sub, data, mode, limits)
    if sites:
        return _place(message, sites, values)
    return _resolve(message, values)


def _by_index(marker: _Index) -> int:
    """Sort key of markers: their frame index (layer 3 goes in index order, DE-2)."""
    return marker.index


def _marker_message() -> InvalidMarker:
    """The error for a message that is itself a marker (DM-14)."""
    msg = "the message itself is a marker; markers stand inside a map or an array"
    return InvalidMarker(msg, requirement="DM-14")


def _value(key: str, sub: _SubHeader, data: Sequence[memoryview], mode: str, limits: Limits) -> Any:
    """Layer 4: an index marker's value, from its checked sub-header and frames (DR-1 .. DR-4)."""
    if key == KEY_PICKLED:
        return Pickled(sub.header, data)
    if mode == FORWARDING:
        return Offloaded(sub.header, data)
    return _materialize(sub, data, limits)


# -- the fast path of frame 0 -----------------------------------------------------------------
#
# Vouch or step aside: the C parser reads frame 0 once, with a hook that turns each index
# marker into the (still empty) object of its value, in place. The result is vouched for only
# when packing it again, markers as `{key: index}`, gives frame 0 byte for byte (no float32,
# no ext type, no repeated key, no other form the exact path reads differently), when it
# cannot nest past `max_depth`, and when every reserved key stands in a valid index marker.
# Anything else, sets, enums and every error included, steps aside to the path above, which
# decides. The empty objects are filled in the exact path's order: all claims first (layer
# 3), then each value in index order (layer 4), so errors come as the exact path raises them.


class _NotVouched(Exception):
    """The fast path of frame 0 met something only the exact path decides."""


#: The value type of each index marker, per receiver mode (DR-1, DR-2, DR-4).
_VALUE_TYPES: Final = {
    (KEY_SERIALIZED, FORWARDING): Offloaded,
    (KEY_SERIALIZED, CONSUMING): Materialized,
    (KEY_PICKLED, FORWARDING): Pickled,
    (KEY_PICKLED, CONSUMING): Pickled,
}


class _Pending(NamedTuple):
    """An index marker of frame 0 read by the fast path, and the empty object of its value."""

    marker: _Index
    value: Any


def _index_markers_fast(
    frame0: memoryview, mode: str, max_depth: int
) -> tuple[Any, list[_Pending]] | None:
    """Frame 0 with each index marker an empty value object, and those objects; or None
    when the path of `decode` above must decide (see the note above `_NotVouched`)."""
    pending: list[_Pending] = []
    wire_form: dict[int, dict[str, int]] = {}

    def hook(out: dict[Any, Any]) -> Any:
        if RESERVED_KEYS.isdisjoint(out):
            return out
        if len(out) != 1:
            raise _NotVouched
        ((key, index),) = out.items()
        if key not in INDEX_KEYS or type(index) is not int or index < 1:
            raise _NotVouched
        kind = _VALUE_TYPES[key, mode]
        # An empty frozen value: unhashable until filled (its hash reads missing fields), so
        # a marker standing in a map key fails the parse and steps aside, as DM-2 wants.
        value = kind.__new__(kind)
        pending.append(_Pending(_Index(key, index), value))
        wire_form[id(value)] = out
        return value

    try:
        message = msgpack.unpackb(
            frame0,
            raw=False,
            use_list=False,
            strict_map_key=False,
            object_hook=hook,
            ext_hook=_no_ext,
            timestamp=1,
        )
        again = msgpack.Packer(default=lambda value: wire_form[id(value)]).pack(message)
    except Exception:  # any error steps aside: the exact path raises the one it finds
        return None
    if not payload.same_bytes(again, frame0) or not payload.shallow(again, max_depth):
        return None  # nesting that could go past max_depth is counted by the exact path (DL-2)
    return message, pending


def _no_ext(code: int, data: bytes) -> Any:
    """An ext type steps aside: the exact path refuses it with its own error (DM-1)."""
    raise _NotVouched


def _fill(
    views: Sequence[memoryview], message: Any, pending: list[_Pending], mode: str, limits: Limits
) -> Any:
    """Layers 3 and 4 for the fast path: claim each marker's frames, then fill each empty
    value object in index order, as `decode` builds the values (DE-2)."""
    if not pending:  # "__" stood in a str or bin only
        return message
    if pending[-1].value is message:  # the top-level map is the hook's last call
        raise _marker_message()
    claims = _claim(views, [item.marker for item in pending], limits)
    for item in sorted(pending, key=_pending_index):
        sub, data = claims[id(item.marker)]
        empty = item.value
        if type(empty) is Materialized:
            done = _materialize(sub, data, limits)
            Materialized.__init__(empty, done.header, done.frames)
        else:
            type(empty).__init__(empty, sub.header, data)
    return message


def _pending_index(item: _Pending) -> int:
    """Sort key of pending markers: their frame index (DE-2)."""
    return item.marker.index
