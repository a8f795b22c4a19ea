"""The C fast path against finalizers, foreign types, bad configure(), copies, small stacks."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from daskwire import Limits
from daskwire.placeholder_v1 import accel

ROOT = Path(__file__).resolve().parents[2]
#: Seconds one child process may take; each test's own bound is a little more than its children.
CHILD_SECONDS = 120

_WITHOUT_SCANNER = pytest.mark.skipif(
    accel.scan is None, reason="DASKWIRE_PURE_PYTHON=1: the C extension is off in this run"
)


def compiled(children: int = 1) -> Any:
    """Marks a test of the C extension (`-m "not compiled"` deselects it) and bounds its time."""

    def mark(test: Any) -> Any:
        bounded = pytest.mark.timeout(children * CHILD_SECONDS + 30)(test)
        return pytest.mark.compiled(_WITHOUT_SCANNER(bounded))

    return mark


# What every child process starts with: the package, a switch to its exact paths, outcomes
# that compare across the two paths, and a finalizer that runs inside the next allocation.
PRELUDE = '''
import contextlib, gc, json, struct, sys, threading
from unittest import mock

import msgpack
import daskwire
from daskwire import DaskwireError, Limits, Materialized, Offloaded
from daskwire.placeholder_v1 import accel
from daskwire.constants import PRELUDE_INT_BYTES
from daskwire.placeholder_v1.constants import RESERVED_KEYS, TRANSPORT_KEYS

HOOKS = ("scan", "frames_ok", "build", "decode", "pack")


@contextlib.contextmanager
def pure(package=daskwire):
    """Only the exact, pure-Python paths of `package` (a copy of daskwire) run in the block."""
    with mock.patch.multiple(package.placeholder_v1.accel, **dict.fromkeys(HOOKS)):
        yield


def outcome(call, *args, **kwargs):
    try:
        return ("ok", call(*args, **kwargs))
    except DaskwireError as exc:
        return ("error", exc.category.value, exc.requirement)
    except (TypeError, ValueError) as exc:
        return ("refused", type(exc).__name__)


def equal(a, b, package=daskwire):
    """Decoded values are the same, types exact; iterative, as they may nest 1024 deep."""
    offloaded = (package.Offloaded, package.Materialized)
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        kind = type(x)
        if kind is not type(y):
            return False
        if kind is dict or kind is tuple or kind is list:
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y))
            if kind is dict:
                pending.extend(zip(x.values(), y.values()))
        elif kind in offloaded:
            pending.append((x.header, y.header))
            pending.append((tuple(map(bytes, x.frames)), tuple(map(bytes, y.frames))))
        elif kind is memoryview:
            if bytes(x) != bytes(y):
                return False
        elif isinstance(x, float):
            if struct.pack("<d", x) != struct.pack("<d", y):
                return False
        elif x != y:
            return False
    return True


def same(a, b, package=daskwire):
    if a[0] != b[0] or len(a) != len(b):
        return False
    if a[0] == "ok":
        return equal(a[1], b[1], package)
    return a == b


def summary(result):
    return list(result) if result[0] != "ok" else ["ok"]


@contextlib.contextmanager
def finalizer(action):
    """While the block runs, every allocation of a tracked object starts a collection, and
    each collection runs a finalizer that calls `action` until it returns True."""
    state = {"fired": False, "over": False}
    saved = gc.get_threshold()

    class Trap:
        def __del__(self):
            if state["fired"] or state["over"]:
                return
            if action():
                state["fired"] = True
                gc.set_threshold(*saved)
            else:
                arm()

    def arm():
        trap = Trap()
        trap.cycle = trap

    gc.disable()
    arm()
    gc.set_threshold(1, 0, 0)
    gc.enable()
    try:
        yield state
    finally:
        state["over"] = True
        gc.set_threshold(*saved)


def report(**fields):
    print(json.dumps(fields))


def placeholder_body(header, findex=0, fcount=1, before=()):
    """Frame 1 of [*before, placeholder]."""
    ph = {"_$header": header, "_$findex": findex, "_$fcount": fcount}
    return msgpack.packb([*before, ph])
'''


def _child(script: str, **env: str) -> Any:
    """Runs PRELUDE + `script` in a new interpreter; its last line of output, as JSON.

    A crash (a signal, a sanitizer's abort) or an error fails the calling test. The child
    inherits the environment, so a sanitizer run (scripts/sanitize.sh) checks it too.
    """
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        cwd=ROOT,
        env={**os.environ, "DASKWIRE_PURE_PYTHON": "0", **env},
        capture_output=True,
        text=True,
        timeout=CHILD_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        code = done.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        pytest.fail(f"the child process ended with {how}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.splitlines()[-1])


MODES = ["forwarding", "consuming"]


# -- borrowed references held across an allocation -------------------------------------------


@compiled(children=1)
@pytest.mark.parametrize("mode", MODES)
def test_a_finalizer_that_empties_a_header_during_the_build(mode: str) -> None:
    """A collection during the build runs a finalizer that finds the header being resolved
    (gc.get_objects()) and empties it, which frees its `lengths`. Thousands of frames make
    that tuple large enough to be unmapped when freed, so a later read of it crashes."""
    got = _child(f"""
        N = 20_000
        header = {{"count": N, "deserialize": False, "lengths": [0] * N, "probe": "empty me"}}
        frames = (b"", placeholder_body(header, 0, N), *[b""] * N)
        del header

        def empty_the_header():
            for obj in gc.get_objects():
                if type(obj) is dict and obj.get("probe") == "empty me":
                    obj.clear()
                    return True
            return False

        with finalizer(empty_the_header) as state:
            value = daskwire.decode(frames, mode={mode!r})[0]
        report(fired=state["fired"], kind=type(value).__name__, header=dict(value.header))
    """)
    kind = "Offloaded" if mode == "forwarding" else "Materialized"
    # The header was emptied after its checks: the value holds the emptied header.
    assert got == {"fired": True, "kind": kind, "header": {}}


# -- the value types ----------------------------------------------------------------------------

FOREIGN_TYPES: list[tuple[str, str]] = [
    ("dict-subclass", "D, D"),
    ("set-subclass", "S, S"),
    ("type", "type, type"),
    ("one-foreign-type", "Offloaded, D"),
    ("one-type-twice", "Offloaded, Offloaded"),
    ("lookalike-without-frames", "Offloaded, OnlyHeader"),
]


@compiled(children=1)
@pytest.mark.parametrize("fresh", [True, False], ids=["fresh-module", "configured-module"])
@pytest.mark.parametrize("types", [r[1] for r in FOREIGN_TYPES], ids=[r[0] for r in FOREIGN_TYPES])
def test_configure_takes_only_the_packages_value_types(types: str, fresh: bool) -> None:
    """A fresh module (the package imported with DASKWIRE_PURE_PYTHON=1 leaves it unconfigured)
    and a configured one both refuse types without the value types' layout; decoding then
    stays correct. Instances of such types made by tp_alloc alone crash on first use."""
    got = _child(
        f"""
        from daskwire.placeholder_v1 import _scan

        class D(dict):
            pass

        class S(set):
            pass

        class OnlyHeader:
            __slots__ = ("header",)

        try:
            _scan.configure({types}, RESERVED_KEYS, TRANSPORT_KEYS, PRELUDE_INT_BYTES)
            refused = None
        except (TypeError, ValueError, RuntimeError) as exc:
            refused = type(exc).__name__
        frames = [b"", placeholder_body({{"count": 1, "deserialize": False, "lengths": [1]}}), b"z"]
        results = []
        for consuming in (False, True):
            try:
                got = _scan.decode(frames, 2**20, 2**31, 2**32, 256, consuming)
            except RuntimeError:
                results.append("not configured")
                continue
            value = got[0]  # first use of the value
            repr(value)
            with contextlib.suppress(TypeError):
                "k" in value
            gc.collect()
            mode = "consuming" if consuming else "forwarding"
            with pure():
                exact = daskwire.decode(frames, mode=mode)
            results.append(equal(exact, got))
        report(refused=refused, results=results)
        """,
        DASKWIRE_PURE_PYTHON="1" if fresh else "0",
    )
    results = ["not configured"] * 2 if fresh else [True, True]
    assert got == {"refused": "TypeError", "results": results}


# -- configure(): all checked, then set once --------------------------------------------------

_OTHER_KEYS = '("AAAA", "BBBB", "CCCC")'
CONFIGURATIONS: list[tuple[str, str, str | None]] = [
    # (id, the arguments after the two types, the error configure() raises)
    ("reserved-key-too-long", '("AAAA", "BBBB", "x" * 40), TRANSPORT_KEYS, 8', "ValueError"),
    (
        "transport-key-not-str",
        f'{_OTHER_KEYS}, ("lengths", "compression", "count", 5), 8',
        "TypeError",
    ),
    ("width-out-of-range", f"{_OTHER_KEYS}, TRANSPORT_KEYS, 0", "ValueError"),
    ("reserved-keys-equal", '("AAAA", "AAAA", "CCCC"), TRANSPORT_KEYS, 8', "ValueError"),
    ("other-values", f"{_OTHER_KEYS}, TRANSPORT_KEYS, 8", "RuntimeError"),
    ("the-same-values-again", "RESERVED_KEYS, TRANSPORT_KEYS, PRELUDE_INT_BYTES", None),
]


@compiled(children=1)
@pytest.mark.parametrize(
    ("arguments", "error"), [r[1:] for r in CONFIGURATIONS], ids=[r[0] for r in CONFIGURATIONS]
)
def test_a_refused_configure_changes_nothing(arguments: str, error: str | None) -> None:
    """configure() checks every argument before it changes anything, and a module object keeps
    its first configuration: encoding and decoding then agree with the exact path, also for
    a map that has the keys a refused configuration named as reserved."""
    got = _child(f"""
        from daskwire.placeholder_v1 import _scan

        try:
            _scan.configure(Offloaded, Materialized, {arguments})
            error = None
        except Exception as exc:
            error = type(exc).__name__
        message = {{
            "o": Offloaded({{"serializer": "pickle"}}, [b"ab", b"c"]),
            "m": Materialized({{"type": "x"}}, [b"defg"]),
            "raw": b"r" * 70_000,
            "nested": [1, {{"k": (2, 3)}}],
        }}
        lookalike = {{"AAAA": {{"count": 0, "deserialize": False, "lengths": []}}, "BBBB": 0}}
        lookalike["CCCC"] = 0
        disagreements = []
        fast = outcome(daskwire.encode, message)
        with pure():
            exact = outcome(daskwire.encode, message)
        if fast != exact:
            disagreements.append("encode")
        inputs = {{"encoded": exact[1], "lookalike": [b"", msgpack.packb([lookalike])]}}
        for name, frames in inputs.items():
            for mode in ("forwarding", "consuming"):
                fast = outcome(daskwire.decode, frames, mode=mode)
                with pure():
                    exact = outcome(daskwire.decode, frames, mode=mode)
                if not same(fast, exact):
                    disagreements.append(f"decode {{name}} {{mode}}")
        report(error=error, disagreements=disagreements)
    """)
    assert got == {"error": error, "disagreements": []}


# -- copies of the package in one process ---------------------------------------------------

_COPY_CHECKS = """
    def disagreements(package, name):
        '''Where a copy of the package disagrees with its own exact paths.'''
        found = []
        header = {"count": 1, "deserialize": False, "lengths": [1]}
        frames = [b"", placeholder_body(header), b"z"]
        for mode in ("forwarding", "consuming"):
            fast = package.decode(frames, mode=mode)
            with pure(package):
                exact = package.decode(frames, mode=mode)
            if not equal(exact, fast, package):
                found.append(f"{name} decode {mode}")
        message = {"o": package.Offloaded({"s": 1}, [b"z"]), "m": package.Materialized({}, [b"y"])}
        fast = [bytes(f) for f in package.encode(message)]
        with pure(package):
            exact = [bytes(f) for f in package.encode(message)]
        if fast != exact:
            found.append(f"{name} encode")
        return found
"""


@compiled(children=1)
def test_each_copy_of_the_package_keeps_its_own_configuration() -> None:
    """A second import of the package (its modules dropped from sys.modules) configures a
    second module object; the first copy keeps making its own value types."""
    got = _child(
        _COPY_CHECKS
        + """
    first = daskwire
    for name in [n for n in sys.modules if n == "daskwire" or n.startswith("daskwire.")]:
        del sys.modules[name]
    import daskwire as second

    assert second is not first and second.Offloaded is not first.Offloaded
    report(found=disagreements(first, "first") + disagreements(second, "second"))
    """
    )
    assert got == {"found": []}


@compiled(children=1)
def test_a_sub_interpreter_leaves_the_main_copy_alone() -> None:
    """A sub-interpreter that imports the package and ends must not leave its value types
    (its own objects) in the main interpreter's configuration."""
    got = _child(
        _COPY_CHECKS
        + """
    try:
        import _xxsubinterpreters as interpreters
    except ImportError:
        report(found="no sub-interpreters")
        sys.exit()
    interpreter = interpreters.create()
    interpreters.run_string(interpreter, "import daskwire; daskwire.decode([b'', b'\\\\x80'])")
    interpreters.destroy(interpreter)
    gc.collect()
    report(found=disagreements(daskwire, "main"))
    """
    )
    if got["found"] == "no sub-interpreters":
        pytest.skip("this Python has no _xxsubinterpreters")
    assert got == {"found": []}


# -- C stack ------------------------------------------------------------------------------------

# (id, expression of the frames or the message, operation): at max_depth 1024, in a thread
# with a 128 KiB stack. Decoding goes to the deepest nesting the limits allow (the exact path
# needs about 64 KiB there); encoding stays where the exact path's msgpack packer, which
# recurses, still fits.
DEEP: list[tuple[str, str, str]] = [
    ("arrays", '[b"", b"\\x91" * (depth - 1) + b"\\x90"]', "decode"),
    ("maps", '[b"", b"\\x81\\xa1k" * (depth - 1) + b"\\x80"]', "decode"),
    ("array-key", '[b"", b"\\x81" + b"\\x91" * (depth - 2) + b"\\x90\\xc0"]', "decode"),
    ("placeholder-in-maps", "deep_placeholder(depth)", "decode"),
    ("one-level-too-deep", '[b"", b"\\x81\\xa1k" * depth + b"\\x80"]', "decode"),
    ("lists", "nest(depth_encode, lambda v: [v], [])", "encode"),
    ("dicts", 'nest(depth_encode, lambda v: {"k": v}, {})', "encode"),
    ("tuple-key", "{nest(depth_encode - 1, lambda v: (v,), ()): 1}", "encode"),
    (
        "offloaded-in-dicts",
        'nest(depth_encode, lambda v: {"k": v}, Offloaded({}, [b"z"]))',
        "encode",
    ),
]


@compiled(children=1)
@pytest.mark.parametrize(
    ("expression", "operation"), [r[1:] for r in DEEP], ids=[r[0] for r in DEEP]
)
@pytest.mark.parametrize("depth", ["cap", "cap+1", "max"])
def test_deep_messages_in_a_thread_with_a_small_stack(
    expression: str, operation: str, depth: str
) -> None:
    """Both paths in a thread with a 128 KiB stack: the same outcome, no crash."""
    got = _child(f"""
        from daskwire.placeholder_v1 import _scan

        limits = Limits(max_depth=1024)
        depth = 1024 if {depth!r} == "max" else _scan.DEPTH_CAP + ({depth!r} == "cap+1")
        depth_encode = min(depth, 200)

        def nest(levels, wrap, inner):
            value = inner
            for _ in range(levels - 1):
                value = wrap(value)
            return value

        def deep_placeholder(levels):
            header = {{"count": 1, "deserialize": False, "lengths": [1]}}
            ph = {{"_$header": header, "_$findex": 0, "_$fcount": 1}}
            return [b"", b"\\x81\\xa1k" * (levels - 1) + msgpack.packb(ph), b"z"]

        value = {expression}
        if {operation!r} == "decode":
            calls = [
                lambda: daskwire.decode(value, mode="forwarding", limits=limits),
                lambda: daskwire.decode(value, mode="consuming", limits=limits),
            ]
        else:
            calls = [lambda: [bytes(f) for f in daskwire.encode(value, limits=limits)]]
        results = []

        def run():
            for call in calls:
                fast = outcome(call)
                with pure():
                    exact = outcome(call)
                results.append([same(fast, exact), summary(exact)])

        threading.stack_size(128 * 1024)
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        report(results=results)
    """)
    assert got["results"], got
    assert all(agrees for agrees, _ in got["results"]), got


@compiled(children=0)
@pytest.mark.parametrize("shape", ["arrays", "maps", "array-key"])
def test_the_compiled_path_serves_down_to_its_depth_cap(shape: str) -> None:
    """The small-stack test above means something only if the C walk really goes that deep."""
    cap = importlib.import_module("daskwire.placeholder_v1._scan").DEPTH_CAP
    limits = Limits(max_depth=1024)
    args = (limits.max_frames, limits.max_frame_bytes, limits.max_message_bytes, 1024, False)

    def body(depth: int) -> bytes:
        if shape == "arrays":
            return b"\x91" * (depth - 1) + b"\x90"
        if shape == "maps":
            return b"\x81\xa1k" * (depth - 1) + b"\x80"
        return b"\x81" + b"\x91" * (depth - 2) + b"\x90\xc0"

    assert accel.decode is not None
    assert accel.pack is not None
    assert accel.decode([b"", body(cap)], *args) is not NotImplemented
    assert accel.decode([b"", body(cap + 1)], *args) is NotImplemented
    message: Any = []
    for _ in range(cap - 1):
        message = [message]
    assert accel.pack(message, [], 1024, 2**26, 2**16, True) is not NotImplemented
    assert accel.pack([message], [], 1024, 2**26, 2**16, True) is NotImplemented


# -- frames that change while they are decoded ------------------------------------------------

# (id, the frame, what the finalizer does to it or to the caller's list, the header's lengths)
CHANGING_FRAMES: list[tuple[str, str, str, int]] = [
    ("grow-a-bytearray", 'bytearray(b"x" * 10)', 'frame.extend(b"y" * 990)', 1000),
    ("release-a-memoryview", 'memoryview(bytearray(b"x" * 10))', "frame.release()", 10),
    ("swap-a-frame-of-the-list", 'b"z"', 'frames[2] = b"y" * 1000', 1000),
]


#: How many collections of one decode the test moves the change through.
SKIPS = 12


#: (id, frame 0 and frame 1 as Python expressions of `body`). With an lz4 payload the
#: one-call compiled decode steps aside and the decoder takes its second compiled route
#: (frame-list check, then scan and build), where the collection lands between the check and
#: the build.
PAYLOADS: list[tuple[str, str, str]] = [
    ("plain-payload", 'b""', "body"),
    ("lz4-payload", 'msgpack.packb({"compression": "lz4"})', "lz4.block.compress(body)"),
]


@compiled(children=1)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("frame0", "frame1"), [r[1:] for r in PAYLOADS], ids=[r[0] for r in PAYLOADS]
)
@pytest.mark.parametrize(
    ("frame", "change", "length"),
    [r[1:] for r in CHANGING_FRAMES],
    ids=[r[0] for r in CHANGING_FRAMES],
)
def test_frames_hold_still_from_the_limit_checks_to_their_use(
    frame: str, change: str, length: int, frame0: str, frame1: str, mode: str
) -> None:
    """A collection during the decode runs a finalizer that changes a frame, or swaps one in
    the caller's list. The outcome must be one the exact path gives for the frames as they
    were, or as the finalizer left them;
    never a frame over max_frame_bytes. A large array before the placeholder makes the build
    allocate a tracked object, so the collection lands inside it."""
    got = _child(f"""
        import lz4.block
        limits = Limits(max_frame_bytes=100)
        frame = {frame}
        header = {{"count": 1, "deserialize": False, "lengths": [{length}]}}
        body = placeholder_body(header, before=[list(range(30))])
        frames = ({frame0}, {frame1}, frame)
        with pure():
            as_they_were = outcome(
                daskwire.decode, (*frames[:2], bytearray(frame)), mode={mode!r}, limits=limits
            )

        # The collection that changes the frame is the first, second, ... of the decode, so
        # that it lands at each point where the decoder allocates.
        runs = []
        for skip in range({SKIPS}):
            frame = {frame}
            frames = [*frames[:2], frame]
            calls = []

            def change():
                calls.append(None)
                if len(calls) <= skip:
                    return False
                try:
                    {change}
                except BufferError:
                    pass  # the frame is held
                return True

            with finalizer(change) as state:
                fast = outcome(daskwire.decode, frames, mode={mode!r}, limits=limits)
            if not state["fired"]:
                break
            with pure():
                as_left = outcome(daskwire.decode, frames, mode={mode!r}, limits=limits)
            sizes = [] if fast[0] != "ok" else [len(f) for f in getattr(fast[1][1], "frames", [])]
            runs.append(dict(
                skip=skip,
                agrees=same(fast, as_they_were) or same(fast, as_left),
                fast=summary(fast),
                sizes=sizes,
            ))
        report(runs=runs)
    """)
    assert got["runs"], "the finalizer never fired"
    for run in got["runs"]:
        assert run["agrees"] is True, run
        assert all(size <= 100 for size in run["sizes"]), run


# -- packing while finalizers run ---------------------------------------------------------------

# (id, the message, what the finalizer does, whether the packer must step aside). The
# finalizer runs while a raw byte string (over the 64 KiB threshold) is packed.
CHANGING_MESSAGES: list[tuple[str, str, str, bool]] = [
    ("clear-the-list-being-packed", "[big, 1, 2, 3]", "message.clear()", True),
    ("grow-the-dict-being-packed", '{"a": big, "b": 1}', 'message["new"] = 2', True),
    ("replace-a-later-value", '{"a": big, "b": [1, 2]}', 'message["b"] = "swapped"', False),
    ("empty-a-later-list", "[big, [1, 2, 3]]", "message[1].clear()", False),
    ("drop-a-later-list", "[big, [1, 2, 3]]", "message[1] = None", False),
    (
        "swap-a-later-header",
        '{"a": big, "o": Offloaded({"k": [1]}, [b"z"])}',
        'object.__setattr__(message["o"], "header", {"other": (1, 2)})',
        False,
    ),
]


@compiled(children=1)
@pytest.mark.parametrize(
    ("message", "change", "steps_aside"),
    [r[1:] for r in CHANGING_MESSAGES],
    ids=[r[0] for r in CHANGING_MESSAGES],
)
def test_packing_survives_finalizers_that_change_the_message(
    message: str, change: str, steps_aside: bool
) -> None:
    """Python code can run while the packer works: the frame tuple of a raw byte string is an
    allocation. The packer holds what it packs and steps aside when a container changes
    size; what it writes is what the exact path writes for the message as left."""
    got = _child(f"""
        big = b"r" * 70_000
        message = {message}
        # Empty the free list of 1-tuples, so the packer's next 1-tuple is a new allocation.
        kept = [(i,) for i in range(5000)]
        frames = []

        def change():
            {change}
            return True

        with finalizer(change) as state:
            fired_before = state["fired"]
            packed = accel.pack(message, frames, 256, 2**26, 2**16, True)
            fired = not fired_before and state["fired"]
        del kept
        same_as_exact = None
        if packed is not NotImplemented:
            with pure():
                exact = [bytes(f) for f in daskwire.encode(message)]
            same_as_exact = [b"", packed, *frames] == exact
        report(fired=fired, stepped_aside=packed is NotImplemented, same_as_exact=same_as_exact)
    """)
    assert got["fired"] is True, got  # the finalizer ran inside the packer
    assert got["stepped_aside"] is steps_aside, got
    assert got["same_as_exact"] is (None if steps_aside else True), got


# -- inputs the fuzz targets found ---------------------------------------------------------------

# (id, the call as a Python expression). Each reproduces a disagreement of a fast path with
# the exact path that the targets of fuzz/ found (fuzz/findings/ keeps their inputs).
FUZZ_FINDINGS: list[tuple[str, str]] = [
    # A message with a reserved key (PH-11) and a header mapping whose item access raises:
    # the exact walk refuses the key first; the fast encoder let the mapping's exception out.
    (
        "encode-reserved-key-and-header-whose-items-raise",
        'daskwire.encode({"_$header": 1, "v": Offloaded(Raising({"a": 1}), [])})',
    ),
    # An empty frame with a stride of two is not C-contiguous: the exact path refuses it as
    # a frame; the compiled frame-list check took it for an empty frame.
    (
        "decode-empty-strided-frame",
        (
            'daskwire.decode([*daskwire.encode({"v": Offloaded({}, [b""])})[:2], '
            'memoryview(b"")[::2]], mode=mode)'
        ),
    ),
]


@compiled(children=1)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("call", [r[1] for r in FUZZ_FINDINGS], ids=[r[0] for r in FUZZ_FINDINGS])
def test_what_the_fuzz_targets_found_gets_the_exact_paths_answer(call: str, mode: str) -> None:
    got = _child(f"""
        from collections.abc import Mapping

        class Raising(Mapping):
            def __init__(self, items):
                self.items = items
            def __getitem__(self, key):
                raise RuntimeError("no items here")
            def __iter__(self):
                return iter(self.items)
            def __len__(self):
                return len(self.items)

        mode = {mode!r}
        fast = outcome(lambda: {call})
        with pure():
            exact = outcome(lambda: {call})
        report(fast=summary(fast), exact=summary(exact), same=same(fast, exact))
    """)
    assert got["same"] is True, got
