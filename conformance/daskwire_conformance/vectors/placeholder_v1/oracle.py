"""An independent model of what a consuming receiver yields for an encoded message (CE-10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from daskwire import Materialized, Offloaded
from daskwire.placeholder_v1.constants import TRANSPORT_KEYS

from .mutations import decompress_frame

__all__ = ["consumed_form"]


def _merge(header: Mapping[Any, Any], frames: Sequence[Any]) -> list[bytes]:
    codecs = header.get("compression") or [None] * len(frames)
    joined = b"".join(decompress_frame(c, bytes(f)) for c, f in zip(codecs, frames, strict=True))
    lengths = header.get("lengths")
    if lengths is None:
        return [bytes(f) for f in frames]
    out: list[bytes] = []
    at = 0
    for n in lengths:
        out.append(joined[at : at + n])
        at += n
    return out


def consumed_form(value: Any) -> Any:
    """The value a consuming receiver must yield for a message an encoder was given.

    Offloaded values come back in original form (transport keys dropped, frames decompressed
    and merged), raw byte strings and long bins as bins, arrays as tuples. Map keys are
    returned as given.
    """
    if isinstance(value, Offloaded):
        if value.header.get("deserialize") is True:
            return b"".join(_merge(value.header, value.frames))
        header = {k: v for k, v in value.header.items() if k not in TRANSPORT_KEYS}
        return Materialized(header, _merge(value.header, value.frames))
    if isinstance(value, Materialized):
        return Materialized(dict(value.header), [bytes(f) for f in value.frames])
    if isinstance(value, Mapping):
        return {k: consumed_form(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(consumed_form(v) for v in value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value
