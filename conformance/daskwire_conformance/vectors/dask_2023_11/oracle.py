"""An independent model of what a consuming receiver yields for an encoded message (DR-4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daskwire.model import Materialized, Offloaded, Pickled

from daskwire_conformance.vectors.generate.mutations import decompress_frame

__all__ = ["consumed_form"]

#: The transport keys a consuming receiver drops (DS-5), written here, not imported.
_TRANSPORT = ("num-sub-frames", "compression", "split-num-sub-frames", "split-offsets")


def _original_frames(header: Mapping[Any, Any], frames: tuple[Any, ...]) -> list[bytes]:
    codecs = header.get("compression") or [None] * len(frames)
    plain = [decompress_frame(c, bytes(f)) for c, f in zip(codecs, frames, strict=True)]
    counts = header.get("split-num-sub-frames")
    offsets = header.get("split-offsets")
    if counts is None or offsets is None:
        return plain
    return [b"".join(plain[o : o + n]) for o, n in zip(offsets, counts, strict=True)]


def consumed_form(value: Any) -> Any:
    """The value a consuming receiver must yield for a message an encoder was given.

    Values in wire form come back in original form (transport keys dropped, frames
    decompressed and merged by the split runs); pickled values stay as they are; arrays
    come back as tuples, bins as bytes. Map keys are returned as given.
    """
    if isinstance(value, Offloaded):
        header = {k: v for k, v in value.header.items() if k not in _TRANSPORT}
        return Materialized(header, _original_frames(value.header, value.frames))
    if isinstance(value, Materialized):
        return Materialized(dict(value.header), [bytes(f) for f in value.frames])
    if isinstance(value, Pickled):
        header = dict(value.header)
        header["num-sub-frames"] = len(value.frames)
        return Pickled(header, [bytes(f) for f in value.frames])
    if isinstance(value, Mapping):
        return {k: consumed_form(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(consumed_form(v) for v in value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value
