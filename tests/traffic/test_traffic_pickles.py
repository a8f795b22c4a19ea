"""Pickles read with pickletools only: their globals, a bounded listing, and any bytes at all."""

from __future__ import annotations

import pytest
from daskwire_conformance.traffic.pickles import MAX_OPCODES, MAX_SHOWN, sketch
from hypothesis import given, settings
from hypothesis import strategies as st

# Hand-written pickles; each comment says how the bytes were put together.
# Protocol 0: GLOBAL 'os system', MARK, STRING 'true', TUPLE, REDUCE, STOP.
OS_SYSTEM_P0 = b"cos\nsystem\n(S'true'\ntR."
# Protocol 2: PROTO 2, GLOBAL 'builtins eval', EMPTY_TUPLE, REDUCE, STOP.
EVAL_P2 = b"\x80\x02cbuiltins\neval\n)R."
# Protocol 4: PROTO 4, SHORT_BINUNICODE 'webbrowser', MEMOIZE, SHORT_BINUNICODE 'open',
# MEMOIZE, STACK_GLOBAL, then the same module again through BINGET 0 with 'get', STOP.
STACK_P4 = b"\x80\x04\x8c\x0awebbrowser\x94\x8c\x04open\x94\x93h\x00\x8c\x03get\x93."
# Protocol 5, from the capture compute-task.bin: the run_spec pickle's first 40 bytes are
# checked elsewhere; here, a pickle without globals: PROTO 5, NONE, STOP.
NONE_P5 = b"\x80\x05N."


@pytest.mark.parametrize(
    ("data", "globals_", "protocol", "complete"),
    [
        (OS_SYSTEM_P0, ("os.system",), None, True),
        (EVAL_P2, ("builtins.eval",), 2, True),
        (STACK_P4, ("webbrowser.open", "webbrowser.get"), 4, True),
        (NONE_P5, (), 5, True),
        (b"", (), None, False),
        (b"\x80\x05", (), 5, False),
        (b"garbage", (), None, False),
    ],
    ids=["p0-global", "p2-global", "p4-stack-global-memo", "p5-none", "empty", "no-stop", "text"],
)
def test_globals_and_protocol(
    data: bytes, globals_: tuple[str, ...], protocol: int | None, complete: bool
) -> None:
    found = sketch(data)
    assert found.globals == globals_
    assert found.first_global == (globals_[0] if globals_ else None)
    assert found.protocol == protocol
    assert found.complete is complete
    assert (found.problem is None) is complete
    assert found.size == len(data)


def test_listing_names_opcodes_with_offsets() -> None:
    found = sketch(EVAL_P2)
    assert found.listing == (
        "     0: PROTO 2",
        "     2: GLOBAL 'builtins eval'",
        "    17: EMPTY_TUPLE",  # 2 + len("cbuiltins\neval\n")
        "    18: REDUCE",
        "    19: STOP",
    )
    assert found.opcodes == 5


@pytest.mark.timeout(30)
def test_a_long_pickle_is_read_only_so_far() -> None:
    # PROTO 4, then NONE and POP 60000 times each, then STOP: more opcodes than are read.
    data = b"\x80\x04" + b"N0" * 60_000 + b"."
    found = sketch(data)
    assert found.opcodes == MAX_OPCODES
    assert len(found.listing) == MAX_SHOWN
    assert found.complete is False
    assert found.problem == f"read stopped after {MAX_OPCODES} opcodes"


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_sketch_never_an_exception(data: bytes) -> None:
    found = sketch(b"\x80\x05" + data)
    assert len(found.listing) <= MAX_SHOWN
    assert found.complete or found.problem
