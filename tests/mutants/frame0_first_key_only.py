"""Mutant: a decoder that checks only the first key of frame 0 for being a str (SH-1)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire import payload
from daskwire.errors import DaskwireError, InvalidSmallHeader, LimitExceeded
from daskwire.placeholder_v1 import decoder


def small_header_codec(frame: Any, limits: Any) -> str | None:
    """`decoder._small_header_codec`, looking at the first key alone (the fault)."""
    try:
        header = payload.parse(frame, payload.plain_pairs_hook, limits.max_depth)
    except LimitExceeded:
        raise
    except DaskwireError as exc:
        raise InvalidSmallHeader(str(exc), requirement="SH-1") from exc
    if type(header) is not dict or not all(type(k) is str for k in list(header)[:1]):
        raise InvalidSmallHeader("frame 0 must be a map with str keys", requirement="SH-1")
    codec = header.get("compression")
    if codec is not None and type(codec) is not str:
        raise InvalidSmallHeader("frame 0 'compression' must be a str or nil", requirement="SH-2")
    return codec


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with pure_python(), patched(decoder, "_small_header_codec", small_header_codec):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
