"""Coverage-guided fuzz target (atheris) for the compiled scan, frames_ok, build and decode."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Callable
from typing import Any

from _harness import Source, instrumented, main, pure_python

with instrumented():
    import daskwire
    from daskwire import payload
    from daskwire.notation import difference
    from daskwire.placeholder_v1 import accel, decoder
    from daskwire.wire import frame_views

from daskwire import CONSUMING, DEFAULT_LIMITS, FORWARDING, DaskwireError, Limits, Offloaded
from daskwire.limits import MSGPACK_MAX_DEPTH
from daskwire.placeholder_v1.constants import RESERVED_KEYS

TIGHT = Limits(max_frames=6, max_frame_bytes=64, max_message_bytes=512, max_depth=8)
#: max_depth values past the valid range [0, 1024] and at its ends.
DEPTHS = (-1, 0, 1024, 1025, 2**63)
SMALL_LZ4 = b"\x81\xabcompression\xa3lz4"
#: What a direct call may raise for an argument of the wrong type or range (no crash).
ARGUMENT_ERRORS = (TypeError, ValueError, BufferError, OverflowError)


class Trap:
    """Garbage in a cycle whose finalizer acts on the frames while a compiled function runs."""

    fired = 0
    armed = False

    def __init__(self, action: Callable[[], None], again: int) -> None:
        self.action, self.again = action, again
        self.cycle = self

    def __del__(self) -> None:
        if not Trap.armed:
            return
        if self.again > 0:
            Trap(self.action, self.again - 1)
        Trap.fired += 1
        self.action()


class armed:
    """The block runs compiled code; traps left before it go off at its allocations."""

    def __init__(self, traps: bool) -> None:
        self.traps = traps
        self.threshold = gc.get_threshold()

    def __enter__(self) -> None:
        if self.traps:
            gc.set_threshold(1, 1_000_000, 1_000_000)  # young collections only: cheap
        Trap.armed = True

    def __exit__(self, *exc: object) -> None:
        Trap.armed = False
        gc.set_threshold(*self.threshold)


class Input:
    """One fuzz input: options, a payload, its offloaded frames, and how they are wrapped."""

    def __init__(self, data: bytes) -> None:
        src = Source(data)
        flags = src.byte()
        self.consuming = flags & 1 != 0
        self.traps = flags & 2 != 0
        self.head = SMALL_LZ4 if flags & 4 else b""
        self.limits = TIGHT if flags & 8 else DEFAULT_LIMITS
        self.wrap = src.below(10)
        depth = src.byte()
        self.depth = DEPTHS[depth - 250] if depth >= 250 and depth - 250 < len(DEPTHS) else depth
        self.max_bin = src.byte() - 1
        self.offloaded = [src.take(src.byte()) for _ in range(src.below(6))]
        self.payload = src.rest()
        self.exported: list[Any] = []

    def wrapped(self, data: bytes) -> Any:
        """`data` as bytes, bytearray, a bytes subclass or a memoryview of some kind."""
        kind = self.wrap
        if kind == 0:
            return data
        if kind == 1:
            array = bytearray(data)
            self.exported.append(array)
            return array
        if kind == 2:
            return Bytes(data)
        if kind == 3:
            return memoryview(b"\x00" + data + b"\x00")[1:-1]  # a window into a larger buffer
        if kind == 4:
            return memoryview(bytearray(data)).toreadonly()
        if kind == 5 and len(data) % 2 == 0 and data:
            return memoryview(data).cast("B", shape=[2, len(data) // 2])
        if kind == 6:
            return memoryview(data + data)[::2]  # strided: not contiguous
        if kind == 7 and len(data) % 4 == 0:
            return memoryview(data).cast("I")
        if kind == 8:
            view = memoryview(bytearray(data))
            self.exported.append(view)
            return view
        return (ctypes.c_char * len(data)).from_buffer_copy(data)

    def frames(self, head: bytes | None = None) -> list[Any]:
        body = self.wrapped(self.payload)
        others = [self.wrapped(f) for f in self.offloaded]
        return [self.head if head is None else head, body, *others]


class Bytes(bytes):
    __slots__ = ()


def count_placeholders(data: bytes, max_depth: int) -> int:
    """The exact parser's reading of a payload: the number of placeholder maps it holds."""
    found = 0

    def hook(pairs: list[tuple[Any, Any]]) -> Any:
        nonlocal found
        mapping = payload.plain_pairs_hook(pairs)
        if not mapping.keys().isdisjoint(RESERVED_KEYS):
            found += 1
        return mapping

    payload.parse(data, hook, max_depth)
    return found


def pure_decode(frames: list[Any], mode: Any, limits: Limits) -> tuple[bool, Any]:
    with pure_python():
        try:
            return True, daskwire.decode(frames, mode=mode, limits=limits)
        except DaskwireError as exc:
            return False, exc.category.value


def same(a: Any, b: Any) -> None:
    found = difference(a, b)
    assert found is None, found


def check_scan(case: Input, scan: Any) -> int:
    """scan vouches only for payloads the exact parser reads with as many placeholders."""
    data = case.wrapped(case.payload)
    try:
        with armed(case.traps):
            count = scan(data, case.depth, case.max_bin)
    except ARGUMENT_ERRORS:
        return -1
    assert type(count) is int, count
    assert count >= -1, count
    if count < 0 or Trap.fired:
        return count
    if case.max_bin >= 0:
        assert scan(case.payload, case.depth, -1) == count  # a bin limit only withdraws
    try:
        exact = count_placeholders(case.payload, case.depth)
    except DaskwireError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return count  # scan leaves UTF-8 to the builder, which steps aside on it
        raise AssertionError(f"scan vouched for {count}; the exact parser: {exc!r}") from exc
    assert exact == count, (exact, count)
    return count


def check_frames_ok(case: Input, frames_ok: Any) -> bool:
    """frames_ok holds only where layer 1 of the exact path holds (WF-2, WF-7)."""
    frames = case.frames()
    limits = case.limits
    try:
        with armed(case.traps):
            ok: bool = frames_ok(
                frames, limits.max_frames, limits.max_frame_bytes, limits.max_message_bytes
            )
    except ARGUMENT_ERRORS:
        return False
    assert type(ok) is bool, ok
    if ok and not Trap.fired:
        decoder._check_frame_list(frame_views(frames), limits)
    return ok


def check_build(case: Input, build: Any, flat: bool, vouched: bool) -> None:
    """build's message, where it gives one, is the exact decoder's: always where scan vouched.

    `flat`: frames_ok accepted the frames (build's precondition); `vouched`: scan too.
    """
    frames = case.frames(b"")
    container = tuple(frames) if case.wrap % 2 else frames
    mode = CONSUMING if case.consuming else FORWARDING
    try:
        with armed(case.traps):
            message = build(frames[1], container, case.consuming)
    except ARGUMENT_ERRORS:
        return
    if message is NotImplemented or Trap.fired:
        return
    assert type(message) is dict or type(message) is tuple, type(message)
    if not flat:
        return  # frames of other types: what build makes of them is no decoder's business
    limits = Limits(max_depth=case.depth if vouched else MSGPACK_MAX_DEPTH)
    ok, exact = pure_decode([b"", case.payload, *case.offloaded], mode, limits)
    if vouched:
        assert ok, f"build gave a message for frames the exact decoder rejects ({exact})"
    if ok:
        same(exact, message)


def check_decode(case: Input, decode: Any) -> None:
    """The compiled decode's message, where it gives one, is the exact decoder's."""
    frames = case.frames()
    limits = case.limits
    depth = case.depth
    mode = CONSUMING if case.consuming else FORWARDING
    try:
        with armed(case.traps):
            message = decode(
                frames,
                limits.max_frames,
                limits.max_frame_bytes,
                limits.max_message_bytes,
                depth,
                case.consuming,
            )
    except ARGUMENT_ERRORS:
        return
    if message is NotImplemented or Trap.fired:
        return
    assert type(message) is dict or type(message) is tuple, type(message)
    flat = [case.head, case.payload, *case.offloaded]
    exact_limits = Limits(
        max_frames=limits.max_frames,
        max_frame_bytes=limits.max_frame_bytes,
        max_message_bytes=limits.max_message_bytes,
        max_depth=depth,
    )
    ok, exact = pure_decode(flat, mode, exact_limits)
    assert ok, f"decode gave a message for frames the exact decoder rejects ({exact})"
    same(exact, message)


def lay_traps(case: Input, data: bytes) -> None:
    """Finalizers that, when collected inside a compiled call, change what it reads."""
    targets = case.exported

    def act() -> None:
        for target in targets:
            with contextlib.suppress(BufferError, ValueError):
                if type(target) is bytearray:
                    target[:] = data[:3]  # resized: fails while exported
                elif type(target) is memoryview:
                    target.release()  # fails while exported

    Trap(act, len(data) % 4)


def test_one_input(data: bytes) -> None:
    """One fuzz input: flags, wrapping, max_depth, max_bin, offloaded frames, then frame 1."""
    scan, frames_ok, build, decode = accel.scan, accel.frames_ok, accel.build, accel.decode
    if scan is None or frames_ok is None or build is None or decode is None:
        return
    case = Input(data)
    Trap.fired = 0
    if case.traps:
        lay_traps(case, data)
    count = check_scan(case, scan)
    ok = check_frames_ok(case, frames_ok)
    check_build(case, build, flat=ok, vouched=ok and count >= 0)
    if case.traps:
        lay_traps(case, data)
    check_decode(case, decode)


def seeds() -> dict[str, bytes]:
    """Valid messages of every shape as frame 1 and its offloaded frames, in each wrapping."""
    messages: dict[str, Any] = {
        "g1": {"op": "x", "data": Offloaded({"serializer": "pickle"}, [b"\x80\x04K{."])},
        "batch": [{"op": "a", "d": Offloaded({}, [b"A", b""])}, {"op": "b"}],
        "keys": {None: 1, 2: b"b", (1, ("a",)): "x", -1: [True, 2.5]},
    }
    out = {}
    for name, message in messages.items():
        frames = [bytes(f) for f in daskwire.encode(message)]
        parts = b"".join(bytes([len(f)]) + f for f in frames[2:])
        for flags, wrap in ((0, 0), (1, 0), (0, 3), (2, 1), (8, 8)):
            out[f"{name}-{flags}-{wrap}"] = (
                bytes([flags, wrap, 64, 0, len(frames) - 2]) + parts + frames[1]
            )
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv, __doc__, test_one_input, seeds))
