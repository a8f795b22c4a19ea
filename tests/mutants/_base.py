"""Tools the mutants share: the raw payload of a frame list and a walk over placeholders."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import msgpack
from daskwire.codecs import decompress
from daskwire.limits import DEFAULT_LIMITS
from daskwire_conformance.testee import ReferenceTestee, serve

__all__ = [
    "ReferenceTestee",
    "patched",
    "pure_python",
    "raw_payload",
    "rewrite",
    "run_main",
    "walk_placeholders",
]


def raw_payload(frames: list[bytes]) -> Any:
    """Frame 1 as plain msgpack (placeholders left as maps), decompressed as frame 0 says."""
    small = msgpack.unpackb(frames[0]) if frames[0] else {}
    codec = small.get("compression") if isinstance(small, dict) else None
    payload = decompress(codec, frames[1], DEFAULT_LIMITS) if codec else frames[1]
    return msgpack.unpackb(payload, raw=False, strict_map_key=False, use_list=False)


def is_placeholder(node: Any) -> bool:
    """True for a map holding the reserved placeholder keys."""
    return isinstance(node, dict) and "_$header" in node


def walk_placeholders(
    decoded: Any,
    raw: Any,
    fn: Callable[[Any, Mapping[str, Any], bool], Any],
    *,
    in_array: bool = False,
) -> Any:
    """Rebuild `decoded`, replacing each value that stood as a placeholder in `raw`.

    `fn(value, placeholder, in_array)` returns the replacement; `in_array` tells whether the
    placeholder was an array element (else a map value). Walks both trees in wire order.
    """
    if is_placeholder(raw):
        return fn(decoded, raw, in_array)
    if isinstance(decoded, Mapping) and isinstance(raw, dict):
        return {
            k: walk_placeholders(v, rv, fn)
            for (k, v), rv in zip(decoded.items(), raw.values(), strict=True)
        }
    if isinstance(decoded, tuple | list) and isinstance(raw, tuple | list):
        return tuple(
            walk_placeholders(v, rv, fn, in_array=True) for v, rv in zip(decoded, raw, strict=True)
        )
    return decoded


def rewrite(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply `fn` bottom-up to every value of a message (map keys excluded)."""
    if isinstance(value, Mapping):
        value = {k: rewrite(v, fn) for k, v in value.items()}
    elif isinstance(value, tuple | list):
        value = tuple(rewrite(v, fn) for v in value)
    return fn(value)


def run_main(testee: ReferenceTestee) -> None:
    """Serve a mutant over stdio when its file is run as a script."""
    sys.exit(serve(testee))


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    """Replace one attribute of the reference for the duration of a call (the mutant's change)."""
    old = inspect.getattr_static(target, name)  # a staticmethod stays one when restored
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


@contextmanager
def pure_python() -> Iterator[None]:
    """The reference's exact, pure-Python paths only (the mutated code lives there)."""
    from daskwire.placeholder_v1 import accel

    names = ("scan", "frames_ok", "build", "decode", "pack")
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(patched(accel, name, None))
        yield
