"""Mutant: a decoder that accepts a header `count` smaller than `_$fcount` (PH-10, `!=` -> `>`)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire.errors import CountMismatch, InvalidHeader
from daskwire.placeholder_v1 import decoder
from daskwire.placeholder_v1.constants import (
    HEADER_COMPRESSION,
    HEADER_COUNT,
    HEADER_DESERIALIZE,
    HEADER_LENGTHS,
)


def check_header(header: dict[Any, Any], fcount: int) -> None:
    """`_Decoding._check_header` with the count comparison mutated."""
    count = header.get(HEADER_COUNT)
    if not decoder._is_count(count):
        raise InvalidHeader("header 'count' must be a count", requirement="HD-2")
    if type(header.get(HEADER_DESERIALIZE)) is not bool:
        raise InvalidHeader("header 'deserialize' must be a bool", requirement="HD-3")
    lengths = header.get(HEADER_LENGTHS)
    if type(lengths) is not tuple or not decoder._all_counts(lengths):
        raise InvalidHeader("header 'lengths' must be counts", requirement="HD-4")
    if HEADER_COMPRESSION in header:
        codecs = header[HEADER_COMPRESSION]
        if (
            type(codecs) is not tuple
            or len(codecs) != count
            or not decoder._STR_OR_NONE.issuperset(map(type, codecs))
        ):
            raise InvalidHeader("bad 'compression'", requirement="HD-5")
    if count > fcount:  # the fault: `!=` became `>`
        raise CountMismatch(f"_$fcount is {fcount}, count is {count}", requirement="PH-10")


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with pure_python(), patched(decoder._Decoding, "_check_header", staticmethod(check_header)):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
