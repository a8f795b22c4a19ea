"""Coverage-guided fuzz target (atheris) for daskwire's packer: encode and the compiled pack."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import struct
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from _harness import Source, instrumented, main, pure_python

with instrumented():
    import daskwire
    from daskwire.placeholder_v1 import accel

from daskwire import DaskwireError, Float32, Limits, Materialized, Offloaded
from daskwire.placeholder_v1.constants import BYTESTRING_THRESHOLD

#: Map keys and header keys worth colliding with: reserved, transport and serializer keys.
NAMES = (
    "_$header",
    "_$findex",
    "_$fcount",
    "count",
    "lengths",
    "compression",
    "deserialize",
    "serializer",
    "op",
    "",
)
#: Integers at the edges of msgpack's forms and of the profile's range (CE-11).
INTS = (
    *(v for e in (7, 8, 15, 16, 31, 32, 63) for v in (2**e - 1, 2**e, -(2**e), -(2**e) - 1)),
    -33,
    -32,
    0,
    2**64 - 1,
    2**64,
)
#: Lengths at the edges of msgpack's str and bin forms.
LENGTHS = (0, 1, 15, 16, 31, 32, 255, 256, 65_535, 65_536)
#: Shard sizes (CE-7): tiny ones split every frame, the default splits none here.
SHARDS = (1, 2, 3, 8, 64, 255, 256, 4096, 65_536, 64 * 2**20)
CODECS = (None, "lz4", "zstd", "", b"lz4", 0)


class Hostile(Exception):
    """Raised by the target's own hostile objects; it may escape the codec unchanged."""


class Quirk:
    """What a hostile object's special methods do besides their job: lie, raise, or act."""

    __slots__ = ("action", "delta", "fail")

    #: Quirks act only while the codec runs, not while the target builds the message.
    armed = False
    #: Collect garbage at every allocation while armed, so traps go off inside the codec.
    traps = False

    def __init__(self, delta: int, fail: bool, action: Callable[[], None] | None) -> None:
        self.delta, self.fail, self.action = delta, fail, action

    def fire(self) -> None:
        if not Quirk.armed:
            return
        if self.action is not None:
            self.action()
        if self.fail:
            raise Hostile

    def length(self, true: int) -> int:
        self.fire()
        return max(0, true + self.delta)


class Key:
    """A key that hashes like a chosen name and answers ==, or raises, as it was told."""

    __slots__ = ("answer", "code", "quirk")

    def __init__(self, code: int, answer: bool, quirk: Quirk) -> None:
        self.code, self.answer, self.quirk = code, answer, quirk

    def __hash__(self) -> int:
        return self.code

    def __eq__(self, other: object) -> bool:
        self.quirk.fire()
        return self.answer

    def __repr__(self) -> str:
        return "Key()"


class Str(str):
    """A str subclass that may claim to equal a name it hashes like."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(str(self)[1:])

    def __eq__(self, other: object) -> bool:
        return str(self)[1:] == other or str.__eq__(self, other)


class Int(int):
    __slots__ = ()


class Bytes(bytes):
    __slots__ = ()


class Dict(dict[Any, Any]):
    """A dict whose len and items may lie or run code."""

    quirk = Quirk(0, False, None)

    def __len__(self) -> int:
        return self.quirk.length(dict.__len__(self))

    def items(self) -> Any:
        self.quirk.fire()
        return dict.items(self)

    def keys(self) -> Any:
        self.quirk.fire()
        return dict.keys(self)

    def __iter__(self) -> Iterator[Any]:
        self.quirk.fire()
        return dict.__iter__(self)


class Map(Mapping[Any, Any]):
    """A Mapping that is not a dict, whose len lies and whose lookups may run code."""

    def __init__(self, pairs: list[tuple[Any, Any]], quirk: Quirk) -> None:
        self.pairs, self.quirk = pairs, quirk

    def __getitem__(self, key: Any) -> Any:
        self.quirk.fire()
        for k, v in self.pairs:
            if k is key or k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return iter([k for k, _ in self.pairs])

    def __len__(self) -> int:
        return self.quirk.length(len(self.pairs))


class List(list[Any]):
    """A list whose len and items may lie or run code (frames given to Offloaded, say)."""

    quirk = Quirk(0, False, None)

    def __len__(self) -> int:
        return self.quirk.length(list.__len__(self))

    def __iter__(self) -> Iterator[Any]:
        self.quirk.fire()
        return list.__iter__(self)


class Record(ctypes.Structure):
    _fields_ = (("a", ctypes.c_int32), ("b", ctypes.c_char))


class Trap:
    """Garbage in a cycle whose finalizer runs an action, then leaves another trap behind."""

    def __init__(self, action: Callable[[], None], again: int) -> None:
        self.action, self.again = action, again
        self.cycle = self

    def __del__(self) -> None:
        if not Quirk.armed:
            return
        if self.again > 0:
            Trap(self.action, self.again - 1)
        self.action()


class armed:
    """The block runs the codec: quirks and traps act (traps at every allocation)."""

    def __enter__(self) -> None:
        self.threshold = gc.get_threshold()
        if Quirk.traps:
            gc.set_threshold(1, 1_000_000, 1_000_000)  # young collections only: cheap
        Quirk.armed = True

    def __exit__(self, *exc: object) -> None:
        Quirk.armed = False
        gc.set_threshold(*self.threshold)


class Build:
    """Builds a message of plain and hostile Python objects from a fuzz input."""

    def __init__(self, src: Source, shard: int) -> None:
        self.src = src
        self.shard = shard
        self.lists: list[list[Any]] = []
        self.dicts: list[dict[Any, Any]] = []
        self.arrays: list[bytearray] = []
        self.views: list[memoryview] = []
        #: True once an object may act (change others): then no two runs see the same input.
        self.acts = False
        self.budget = 200
        self.shared = 0

    # -- actions: what a hostile method or finalizer may do to the message being packed --

    def action(self) -> Callable[[], None] | None:
        kind = self.src.below(9)
        if kind == 0:
            return None
        self.acts = True
        at = self.src.byte()

        def act() -> None:
            if kind == 1 and self.lists:
                self.lists[at % len(self.lists)].clear()
            elif kind == 2 and self.lists:
                self.lists[at % len(self.lists)].extend([at, b"x" * at])
            elif kind == 3 and self.dicts:
                target = self.dicts[at % len(self.dicts)]
                if target:
                    target.pop(next(iter(target)))
            elif kind == 4 and self.dicts:
                self.dicts[at % len(self.dicts)][at] = [at]
            elif kind == 5 and self.arrays:
                array = self.arrays[at % len(self.arrays)]
                with contextlib.suppress(BufferError):  # exported: a view of it is held
                    del array[: at % 7 + 1]
            elif kind == 6 and self.arrays:
                array = self.arrays[at % len(self.arrays)]
                with contextlib.suppress(BufferError):
                    array.extend(bytes(at * 64))
            elif kind == 7 and self.views:
                with contextlib.suppress(BufferError, ValueError):
                    self.views[at % len(self.views)].release()
            else:
                gc.collect(0)  # young objects only: a full collection per call is slow

        return act

    def quirk(self) -> Quirk:
        flags = self.src.byte()
        delta = (-2, -1, 0, 0, 1, 3)[flags % 6]
        return Quirk(delta, flags & 0x80 != 0 and flags & 0x40 != 0, self.action())

    # -- values -----------------------------------------------------------------------------

    def buffer(self) -> Any:
        """bytes, bytearray, or a memoryview of odd shape, format, stride or state."""
        src = self.src
        kind = src.below(12)
        n = src.pick(LENGTHS) if src.byte() < 16 else src.below(40)
        n = min(n, 64 * self.shard)  # at most 64 shards of it
        data = src.take(min(n, 64)) * (n // 64 + 1)
        data = data[:n]
        if kind == 0:
            return data
        if kind == 1:
            array = bytearray(data)
            self.arrays.append(array)
            return array
        if kind == 2:
            return Bytes(data)
        base: Any = bytearray(data) if src.byte() & 1 else data
        if type(base) is bytearray:
            self.arrays.append(base)
        view = memoryview(base)
        if kind == 3:
            view = view[:: 1 + src.below(3)]  # strided: not contiguous past one step
        elif kind == 4 and n:
            rows = 1 + src.below(4)
            if n % rows == 0:
                view = view.cast("B", shape=[rows, n // rows])
                if src.byte() & 1:
                    view = view[::2]  # rows skipped: not C-contiguous
        elif kind == 5 and n % 4 == 0:
            view = view.cast(src.pick(("I", "f", "i")))
        elif kind == 6:
            view = memoryview((ctypes.c_int16 * src.below(5))())
        elif kind == 7:
            view = memoryview(((ctypes.c_char * src.below(3)) * src.below(4))())
        elif kind == 8:
            view = memoryview((Record * src.below(3))())
        elif kind == 9:
            view = view.toreadonly()
        elif kind == 10:
            view.release()
        self.views.append(view)
        return view

    def key(self, depth: int) -> Any:
        src = self.src
        kind = src.below(12)
        if kind == 0:
            return src.pick(NAMES)
        if kind == 1:
            return src.pick(INTS)
        if kind == 2:
            return src.take(src.below(6))
        if kind == 3:
            return None
        if kind == 4 and depth < 40:
            return tuple(self.key(depth + 1) for _ in range(src.below(4)))
        if kind == 5:
            return Key(
                hash(src.pick(NAMES)) if src.byte() & 1 else 7, src.byte() & 1 == 1, self.quirk()
            )
        if kind == 6:
            return Str("~" + src.pick(NAMES))
        if kind == 7:
            return src.pick((True, 1.5, Int(3), Float32(2.0)))
        if kind == 8:
            return memoryview(src.take(src.below(4))).toreadonly()
        if kind == 9:
            return Bytes(src.take(2))
        return src.take(src.below(4)).decode("latin-1")

    def header(self, depth: int) -> Any:
        """A header: transport keys of every type, serializer keys, hostile keys."""
        src = self.src
        out: dict[Any, Any] = {}
        for _ in range(src.below(6)):
            kind = src.below(8)
            if kind == 0:
                out["count"] = src.pick((0, 1, 2, -1, True, 2.0, Int(1), None))
            elif kind == 1:
                out["lengths"] = src.pick((list, tuple, List))(
                    src.pick((0, 1, 3, 64, -1, True, None)) for _ in range(src.below(4))
                )
            elif kind == 2:
                out["compression"] = src.pick((list, tuple))(
                    src.pick(CODECS) for _ in range(src.below(4))
                )
            elif kind == 3:
                out["deserialize"] = src.pick((True, False, 1, None))
            elif kind == 4:
                out[self.key(depth + 1)] = self.value(depth + 1)
            else:
                out[src.pick(NAMES[7:])] = self.value(depth + 1)
        shape = src.below(4)
        if shape == 1:
            return self.hostile_dict(Dict(out))
        if shape == 2:
            return Map(list(out.items()), self.quirk())
        self.dicts.append(out)
        return out

    def frames(self) -> Any:
        frames = [self.buffer() for _ in range(self.src.below(5))]
        if self.src.byte() & 3 == 3:
            hostile = List(frames)
            hostile.quirk = self.quirk()
            return hostile
        return frames

    def hostile_dict(self, out: Dict) -> Dict:
        out.quirk = self.quirk()
        return out

    def value(self, depth: int) -> Any:
        src = self.src
        self.budget -= 1
        if self.budget < 0 or depth > 60:
            return None
        kind = src.below(24)
        if kind == 0:
            return None
        if kind == 1:
            return src.byte() & 1 == 1
        if kind == 2:
            return src.byte() - 128
        if kind == 3:
            return src.pick(INTS)
        if kind == 4:
            return src.double()
        if kind == 5:
            return Float32(struct.unpack("<f", src.take(4))[0])
        if kind == 6:
            text = src.take(src.below(40)).decode("latin-1")
            return text + "\udcff" if src.byte() == 0xFF else text
        if kind == 7:
            return "s" * src.pick(LENGTHS)
        if kind in (8, 9):
            return self.buffer()
        if kind in (10, 11):
            items: list[Any] = []
            self.lists.append(items)
            items.extend(self.value(depth + 1) for _ in range(src.below(6)))
            return tuple(items) if kind == 11 and src.byte() & 1 else items
        if kind in (12, 13):
            out: dict[Any, Any] = {}
            self.dicts.append(out)
            for _ in range(src.below(6)):
                out[self.key(depth + 1)] = self.value(depth + 1)
            return out
        if kind == 14:
            return Offloaded(self.header(depth + 1), self.frames())
        if kind == 15:
            return Materialized(self.header(depth + 1), self.frames())
        if kind == 16:
            pairs = [(self.key(depth + 1), self.value(depth + 1)) for _ in range(src.below(4))]
            return self.hostile_dict(Dict(pairs))
        if kind == 17:
            pairs = [(self.key(depth + 1), self.value(depth + 1)) for _ in range(src.below(4))]
            return Map(pairs, self.quirk())
        if kind == 18:
            return src.pick((Str("~op"), Int(7), Bytes(b"b"), Key(7, False, self.quirk())))
        if kind == 19 and self.shared < 3:  # a few: shared references multiply the walk
            self.shared += 1
            pool: list[Any] = [*self.lists, *self.dicts]  # shared and cyclic references
            return pool[src.below(len(pool))] if pool else None
        if kind == 20 and self.shard >= 4096:  # not split into thousands of shards
            return b"r" * (BYTESTRING_THRESHOLD + src.below(3) - 1)
        if kind == 21:
            return bytes(src.below(300))  # over a small threshold of a direct call
        if kind == 22:
            action = self.action()
            if action is not None:
                Trap(action, src.below(4))
            return None
        return self.value(depth + 1)


#: What may escape encode besides DaskwireError: the pure path's own errors for values that
#: are not buffers (TypeError, ValueError), and the hostile objects' own.
ESCAPES = (Hostile, TypeError, ValueError, BufferError, KeyError, IndexError)


def outcome(call: Callable[[], Any], lenient: bool) -> Any:
    """Frames as bytes, or the error: category and requirement, or the exception's type.

    `lenient`: objects acted on the message while it was packed, so any exception may escape
    but SystemError (a C function that failed without saying why, or the other way round).
    """
    try:
        with armed():
            frames = call()
        return [bytes(f) for f in frames]
    except DaskwireError as exc:
        return (exc.category.value, exc.requirement)
    except ESCAPES as exc:
        return type(exc).__name__
    except SystemError:
        raise
    except Exception as exc:
        if not lenient:
            raise
        return type(exc).__name__


class Params:
    """The first bytes of an input: flags, then max_depth, shard size and raw threshold."""

    def __init__(self, src: Source) -> None:
        self.flags = src.byte()
        self.depth = 1 + src.below(24)
        self.shard = src.pick(SHARDS)
        self.threshold = src.byte()


def check_encode(data: bytes) -> None:
    """encode agrees with its pure-Python path, objects with odd special methods included."""
    src = Source(data)
    p = Params(src)
    compression = "lz4" if p.flags & 8 else None
    limits = Limits(max_depth=p.depth)
    body = src.rest()

    def message() -> tuple[Build, Any]:
        build = Build(Source(body), p.shard)
        return build, build.value(0)

    first, fast_message = message()
    fast = outcome(
        lambda: daskwire.encode(
            fast_message, compression=compression, shard_size=p.shard, limits=limits
        ),
        first.acts,
    )
    if first.acts:
        return  # objects act on each other: the second run would see another message
    _, exact_message = message()
    with pure_python():
        exact = outcome(
            lambda: daskwire.encode(
                exact_message, compression=compression, shard_size=p.shard, limits=limits
            ),
            False,
        )
    assert fast == exact, (fast, exact)


def check_pack(data: bytes) -> None:
    """The compiled pack, called directly: where it answers, the pure walk writes the same."""
    pack = accel.pack
    if pack is None:
        return
    src = Source(data)
    p = Params(src)
    body = src.rest()
    build = Build(Source(body), p.shard)
    message = build.value(0)
    frames: list[Any] = []
    if p.flags & 32 and build.lists:
        frames = build.lists[0]  # the frames list is part of the message
        build.acts = True
    before = len(frames)
    try:
        with armed():
            packed = pack(message, frames, p.depth, p.shard, p.threshold, p.flags & 16 != 0)
    except ESCAPES:
        if build.acts:
            return
        raise  # with its arguments in range, pack steps aside rather than raise
    assert packed is NotImplemented or type(packed) is bytes, type(packed)
    if packed is NotImplemented or build.acts:
        return
    exact_message = Build(Source(body), p.shard).value(0)
    limits = Limits(max_depth=p.depth)
    with pure_python(p.threshold):
        exact = outcome(
            lambda: daskwire.encode(exact_message, shard_size=p.shard, limits=limits), False
        )
    fast = [b"", packed, *(bytes(f) for f in frames[before:])]
    assert fast == exact, (fast, exact)


def check_hostile_call(data: bytes) -> None:
    """The compiled pack with arguments of the wrong type or range: an error, or an answer."""
    pack = accel.pack
    if pack is None:
        return
    src = Source(data)
    src.byte()
    depth = src.pick((-1, 0, 1, 5, 1024, 1025, 2**63, True, Int(3), 2.0, None))
    shard = src.pick((-1, 0, 1, 2**62, 2**63, Int(9), None))
    threshold = src.pick((-1, 0, 1, 2**62, 2**63, Int(9), None))
    build = Build(src, 64)
    message = build.value(0)
    quirk = build.quirk()

    class Truth:
        def __bool__(self) -> bool:
            quirk.fire()
            return True

    materialize: Any = Truth() if src.byte() & 1 else src.pick((0, 1, None, "", b"x"))
    frames = src.pick(([], (), None, List(), build.lists[0] if build.lists else []))
    try:
        with armed():
            packed = pack(message, frames, depth, shard, threshold, materialize)
    except (*ESCAPES, OverflowError):
        return
    assert packed is NotImplemented or type(packed) is bytes, type(packed)


def test_one_input(data: bytes) -> None:
    """One fuzz input: a flags byte choosing the check (and traps), then the check's input."""
    if not data:
        return
    flags = data[0]
    check = (check_encode, check_pack, check_pack, check_hostile_call)[flags & 3]
    Quirk.traps = flags & 4 != 0
    check(data)


def seeds() -> dict[str, bytes]:
    """A few inputs of each check; the fuzzer finds the shapes from there."""
    out = {}
    bodies = {
        "dict": bytes([12, 3, 0, 0x61, 8, 8, 3, 3, 2]),
        "offloaded": bytes([12, 2, 0, 0x61, 14, 3, 0, 2, 1, 1, 4, 0, 0, 2, 0, 3]),
        "materialized": bytes([10, 2, 15, 2, 7, 1, 1, 0, 8, 3, 9, 2, 0, 0, 4, 1]),
        "views": bytes([10, 4, 8, 4, 2, 12, 0, 8, 3, 1, 9, 0, 8, 5, 0, 8, 0, 8]),
        "hostile": bytes([13, 3, 5, 0, 1, 2, 3, 16, 17, 2, 5, 1, 0, 4, 2, 2, 6, 3, 22, 1, 5]),
        "raw": bytes([12, 1, 0, 0x62, 21, 200]),
    }
    for name, body in bodies.items():
        for flags in (0, 1, 3, 4 | 1, 8, 16 | 1, 32 | 2):
            out[f"{name}-{flags}"] = bytes([flags, 8, 40, 3]) + body
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv, __doc__, test_one_input, seeds))
